//! Builds the policies in `policies/` as wasm32-wasip2 components, precompiles them with the
//! host's engine configuration (so that no run, not even the first on a fresh CI runner, waits for
//! Cranelift) and embeds both.
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
const TEST_ONLY: &[&str] = &["chaos", "forbidden", "hostile"];

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
    println!("cargo:rerun-if-env-changed=KUBECTL_VLLM_POLICY_TOOLCHAIN");

    let target_dir = env::var_os("KUBECTL_VLLM_POLICY_TARGET_DIR")
        .map_or_else(|| default_target_dir(&out_dir), PathBuf::from);
    build_policies(&workspace, &target_dir);

    let wasm_dir = target_dir.join(TARGET).join(PROFILE);
    let components: Vec<PathBuf> = EMBEDDED
        .iter()
        .map(|name| copy_component(&wasm_dir, &out_dir, name))
        .collect();
    let precompiled = precompile(&components);
    let mut code = String::new();
    if let Some((engine, _)) = &precompiled {
        writeln!(
            code,
            "/// The fingerprint of the engine that precompiled the policies.\n#[allow(clippy::unreadable_literal)]\nconst ENGINE: u64 = {engine:#018x};"
        )
        .unwrap();
    }
    code.push_str(
        "/// The default policies, embedded.\npub static POLICIES: &[BuiltinPolicy] = &[\n",
    );
    for (i, (name, path)) in EMBEDDED.iter().zip(&components).enumerate() {
        let precompiled = match &precompiled {
            Some((_, artifacts)) => format!(
                "Some(Embedded {{ artifact: include_bytes!({:?}), engine: ENGINE }})",
                artifacts[i].display()
            ),
            None => "None".into(),
        };
        writeln!(
            code,
            "    BuiltinPolicy {{ name: {name:?}, wasm: include_bytes!({:?}), precompiled: {precompiled} }},",
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
    // `KUBECTL_VLLM_POLICY_TOOLCHAIN` builds the policies with another rustup toolchain than the
    // outer build's: the fuzz targets build on nightly, whose wasm32-wasip2 standard library may
    // not be installable (fuzz/.cargo/config.toml sets it).
    let toolchain = env::var_os("KUBECTL_VLLM_POLICY_TOOLCHAIN");
    let cargo = match &toolchain {
        Some(_) => "cargo".into(),
        None => env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
    };
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
        if toolchain.is_some() && matches!(keep, "RUSTUP_TOOLCHAIN" | "RUSTC") {
            continue;
        }
        if let Some(value) = env::var_os(keep) {
            command.env(keep, value);
        }
    }
    if let Some(toolchain) = &toolchain {
        command.env("RUSTUP_TOOLCHAIN", toolchain);
    }
    let output = command
        .output()
        .expect("failed to run cargo for the policies");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("may not be installed")
            || stderr.contains("can't find crate for `core`")
            || stderr.contains("can't find crate for `std`")
        {
            "\n\nThe wasm32-wasip2 target is missing: run `rustup target add wasm32-wasip2`."
        } else {
            ""
        };
        panic!("building the policies failed:\n{stderr}{hint}");
    }
}

/// Compiles each component as the host will (`engine_config`), one thread per component, and
/// writes the artifacts next to them: the engine's fingerprint and the artifacts' paths. `None`
/// when cross-compiling: the artifacts must match the CPU the binary runs on, which a build for
/// another target cannot know, so such a binary compiles its policies on first use (and caches
/// them).
fn precompile(components: &[PathBuf]) -> Option<(u64, Vec<PathBuf>)> {
    if env::var("TARGET").ok() != env::var("HOST").ok() {
        println!(
            "cargo:warning=cross-compiling: the built-in policies are not precompiled and compile on first use"
        );
        return None;
    }
    let engine = wasmtime::Engine::new(&kubectl_vllm_precompiled::engine_config())
        .unwrap_or_else(|e| panic!("wasmtime engine: {e:#}"));
    let artifacts = std::thread::scope(|scope| {
        let jobs: Vec<_> = components
            .iter()
            .map(|component| {
                let engine = &engine;
                scope.spawn(move || {
                    let wasm = std::fs::read(component).unwrap();
                    let artifact = engine
                        .precompile_component(&wasm)
                        .unwrap_or_else(|e| panic!("precompiling {}: {e:#}", component.display()));
                    let path = component.with_extension("cwasm");
                    std::fs::write(&path, artifact).unwrap();
                    path
                })
            })
            .collect();
        jobs.into_iter().map(|job| job.join().unwrap()).collect()
    });
    Some((
        kubectl_vllm_precompiled::engine_fingerprint(&engine),
        artifacts,
    ))
}

fn copy_component(wasm_dir: &Path, out_dir: &Path, name: &str) -> PathBuf {
    let file = format!("policy_{name}.wasm");
    let from = wasm_dir.join(&file);
    let to = out_dir.join(&file);
    std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{} was not built: {e}", from.display()));
    to
}
