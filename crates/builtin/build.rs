//! Builds the policies in `policies/` as wasm32-wasip2 components and embeds them.
//!
//! The nested cargo gets its own target directory (sharing ours deadlocks on the build lock) and a
//! scrubbed environment: RUSTFLAGS, clippy's RUSTC_WORKSPACE_WRAPPER, coverage and sanitizer flags of
//! the outer build must not leak into the guests.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Policies embedded in the binary, in evaluation order.
const EMBEDDED: &[&str] = &["gpu", "vllm", "model", "runtime", "storage", "access"];
/// Policies built for the host's tests only.
const TEST_ONLY: &[&str] = &["chaos"];

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "policy";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    for watched in [
        "wit",
        "crates/core",
        "crates/sdk",
        "policies",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    println!("cargo:rerun-if-env-changed=KUBECTL_VLLM_POLICY_TARGET_DIR");

    let target_dir = env::var_os("KUBECTL_VLLM_POLICY_TARGET_DIR")
        .map_or_else(|| default_target_dir(&out_dir), PathBuf::from);
    build_policies(&workspace, &target_dir);

    let wasm_dir = target_dir.join(TARGET).join(PROFILE);
    let mut code = String::from(
        "/// The default policies, embedded.\npub static POLICIES: &[BuiltinPolicy] = &[\n",
    );
    for name in EMBEDDED {
        let path = copy_component(&wasm_dir, &out_dir, name);
        writeln!(
            code,
            "    BuiltinPolicy {{ name: {name:?}, wasm: include_bytes!({:?}) }},",
            path.display()
        )
        .unwrap();
    }
    code.push_str("];\n");
    for name in TEST_ONLY {
        let path = copy_component(&wasm_dir, &out_dir, name);
        writeln!(
            code,
            "/// Path of the test-only `{name}` policy component.\npub const TEST_POLICY_{}: &str = {:?};",
            name.to_ascii_uppercase(),
            path.display()
        )
        .unwrap();
    }
    std::fs::write(out_dir.join("builtin.rs"), code).unwrap();
}

/// `target/wasm-policies`, next to the profile directories of the outer build.
fn default_target_dir(out_dir: &Path) -> PathBuf {
    let build = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .expect("OUT_DIR is inside <target>/<profile>/build");
    build
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("wasm-policies")
}

fn build_policies(workspace: &Path, target_dir: &Path) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .env_clear()
        .current_dir(workspace)
        .args([
            "build",
            "--locked",
            "--quiet",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
        ])
        .arg("--target-dir")
        .arg(target_dir);
    for name in EMBEDDED.iter().chain(TEST_ONLY) {
        command.args(["-p", &format!("policy-{name}")]);
    }
    for keep in [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "TMPDIR",
        "CARGO_NET_OFFLINE",
    ] {
        if let Some(value) = env::var_os(keep) {
            command.env(keep, value);
        }
    }
    let output = command
        .output()
        .expect("failed to run cargo for the policies");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("may not be installed")
            || stderr.contains("can't find crate for `core`")
        {
            "\n\nThe wasm32-wasip2 target is missing: run `rustup target add wasm32-wasip2`."
        } else {
            ""
        };
        panic!("building the policies failed:\n{stderr}{hint}");
    }
}

fn copy_component(wasm_dir: &Path, out_dir: &Path, name: &str) -> PathBuf {
    let file = format!("policy_{name}.wasm");
    let from = wasm_dir.join(&file);
    let to = out_dir.join(&file);
    std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{} was not built: {e}", from.display()));
    to
}
