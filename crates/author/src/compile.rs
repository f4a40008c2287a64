//! `kubectl vllm policy build`: the component of a policy crate, with the release profile the
//! scaffold sets (kubectl-vllm's own policy profile).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::status::AuthorError;

/// The target policies are built for.
pub const TARGET: &str = "wasm32-wasip2";

/// A built component.
pub struct Built {
    /// The `.wasm` file.
    pub path: PathBuf,
    /// Its SHA-256, hex.
    pub sha256: String,
}

impl Built {
    /// `path` and `sha256` lines, and the config entry that pins it.
    pub fn print(&self, stdout: &mut dyn Write) {
        let _ = writeln!(
            stdout,
            "{}\nsha256 {}\n\npin it in .kubectl-vllm.yaml (path relative to that file):\npolicies:\n- path: {}\n  sha256: \"{}\"",
            self.path.display(),
            self.sha256,
            self.path.display(),
            self.sha256
        );
    }
}

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Builds the policy crate in `dir`; cargo's progress goes to the terminal's stderr.
pub fn build(dir: &Path, stderr: &mut dyn Write) -> Result<Built, AuthorError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(format!(
            "{} has no Cargo.toml: `policy build` builds a policy crate (`kubectl vllm policy new NAME` writes one)",
            dir.display()
        )
        .into());
    }
    let (target_dir, lib) = metadata(&manifest)?;
    ensure_target(stderr)?;
    let _ = writeln!(
        stderr,
        "building {lib} for {TARGET} (cargo build --target {TARGET} --release)"
    );
    let status = Command::new(cargo())
        .args(["build", "--target", TARGET, "--release", "--manifest-path"])
        .arg(&manifest)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build failed ({status}) for {}", manifest.display()).into());
    }
    let path = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", lib.replace('-', "_")));
    let wasm = std::fs::read(&path).map_err(|e| {
        format!(
            "cargo built {lib} but {} is not there ({e}): is the crate's lib `crate-type = [\"cdylib\", ...]`?",
            path.display()
        )
    })?;
    Ok(Built {
        sha256: kubectl_vllm_host::cache::sha256_hex(&wasm),
        path,
    })
}

/// The target directory and the name of the crate's `cdylib` library, from `cargo metadata`.
fn metadata(manifest: &Path) -> Result<(PathBuf, String), AuthorError> {
    let output = Command::new(cargo())
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed for {}:\n{}",
            manifest.display(),
            String::from_utf8_lossy(&output.stderr).trim_end()
        )
        .into());
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed something that is not JSON: {e}"))?;
    let wanted = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.to_path_buf());
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| Path::new(m) == wanted)
        })
        .ok_or_else(|| format!("{} declares no package", manifest.display()))?;
    let lib = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| {
            t["crate_types"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"))
        })
        .and_then(|t| t["name"].as_str())
        .ok_or_else(|| {
            format!(
                "{} has no cdylib library: a policy crate needs `[lib] crate-type = [\"cdylib\", \"rlib\"]`",
                manifest.display()
            )
        })?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or("cargo metadata names no target directory")?;
    Ok((PathBuf::from(target_dir), lib.to_string()))
}

/// Adds the wasm32-wasip2 target with rustup when it is missing (without rustup, cargo says what
/// is missing itself).
fn ensure_target(stderr: &mut dyn Write) -> Result<(), AuthorError> {
    let Ok(installed) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stdin(Stdio::null())
        .output()
    else {
        return Ok(());
    };
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return Ok(());
    }
    let _ = writeln!(
        stderr,
        "adding the {TARGET} target (rustup target add {TARGET})"
    );
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`rustup target add {TARGET}` failed ({status})").into())
    }
}
