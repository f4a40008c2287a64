//! Embeds the SDK's source (`crates/sdk`, `crates/core`) for `kubectl vllm policy new`, which
//! writes it into a scaffold as `vendor/<crate>/`, the way `cargo package` would ship it: each
//! `Cargo.toml` with the workspace's inherited values written out (`version.workspace = true`
//! becomes `version = "0.1.0"`, `[lints] workspace = true` the workspace's lint tables, a path
//! dependency on another vendored crate `{ path = "../<crate>", version = ... }`). The
//! workspace's `Cargo.lock` goes along, so a scaffold builds with the versions the built-in
//! policies are built and tested with.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The crates a scaffold vendors: (directory in the workspace, package name).
const VENDORED: &[(&str, &str)] = &[
    ("crates/sdk", "kubectl-vllm-sdk"),
    ("crates/core", "kubectl-vllm-core"),
];

fn main() {
    let workspace = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .canonicalize()
        .unwrap();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let root_toml = read(&workspace.join("Cargo.toml"));
    let inherited = Inherited::parse(&root_toml);
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );

    let mut code = String::from(
        "/// The SDK's source as the scaffold vendors it: (path under `vendor/`, contents).\npub static VENDORED: &[(&str, &str)] = &[\n",
    );
    for (dir, package) in VENDORED {
        let crate_dir = workspace.join(dir);
        println!("cargo:rerun-if-changed={}", crate_dir.display());
        let manifest = inherited.resolve(&read(&crate_dir.join("Cargo.toml")), dir);
        let written = out_dir.join(format!("{package}.Cargo.toml"));
        std::fs::write(&written, manifest).unwrap();
        writeln!(
            code,
            "    ({:?}, include_str!({:?})),",
            format!("{package}/Cargo.toml"),
            written.display()
        )
        .unwrap();
        for file in files(&crate_dir) {
            let relative = file.strip_prefix(&crate_dir).unwrap();
            writeln!(
                code,
                "    ({:?}, include_str!({:?})),",
                format!("{package}/{}", relative.display()),
                file.display()
            )
            .unwrap();
        }
    }
    code.push_str("];\n");
    writeln!(
        code,
        "/// The workspace's `Cargo.lock`: the versions the built-in policies build with.\npub static LOCK: &str = include_str!({:?});",
        workspace.join("Cargo.lock").display()
    )
    .unwrap();
    writeln!(
        code,
        "/// The workspace's `[profile.policy]` (without its `inherits`), which a scaffold's\n/// `[profile.release]` repeats.\npub static POLICY_PROFILE: &str = {:?};",
        section(&root_toml, "[profile.policy]")
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with("inherits"))
            .fold(String::new(), |body, line| body + line + "\n")
    )
    .unwrap();
    std::fs::write(out_dir.join("vendored.rs"), code).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file a crate ships: `src/**` and `wit/**`, sorted.
fn files(crate_dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for sub in ["src", "wit"] {
        walk(&crate_dir.join(sub), &mut out);
    }
    out.sort();
    out
}

/// The body of the `header` table of a TOML file (up to the next table header).
fn section(toml: &str, header: &str) -> Option<String> {
    let mut lines = toml.lines().skip_while(|l| l.trim() != header);
    lines.next()?;
    let mut body = String::new();
    for line in lines
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.trim().is_empty())
    {
        body.push_str(line);
        body.push('\n');
    }
    Some(body)
}

/// What members inherit from the workspace's `Cargo.toml`.
struct Inherited {
    package: BTreeMap<String, String>,
    dependencies: BTreeMap<String, String>,
    lints: String,
}

impl Inherited {
    fn parse(root: &str) -> Self {
        let pairs = |header: &str| -> BTreeMap<String, String> {
            section(root, header)
                .unwrap_or_default()
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .filter_map(|l| l.split_once(" = "))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect()
        };
        let mut lints = String::new();
        for table in ["rust", "clippy"] {
            if let Some(body) = section(root, &format!("[workspace.lints.{table}]")) {
                write!(lints, "[lints.{table}]\n{body}").unwrap();
            }
        }
        Self {
            package: pairs("[workspace.package]"),
            dependencies: pairs("[workspace.dependencies]"),
            lints,
        }
    }

    /// A member's `Cargo.toml` with every inherited value written out.
    fn resolve(&self, manifest: &str, dir: &str) -> String {
        let mut out = format!(
            "# Vendored by `kubectl vllm policy new` from the kubectl-vllm repository's `{dir}`, with the\n# workspace's inherited values written out.\n"
        );
        let mut table = String::new();
        let mut lines = manifest.lines().peekable();
        while let Some(line) = lines.next() {
            if line.starts_with('[') {
                table = line.trim().to_string();
                if table == "[lints]"
                    && lines.peek().is_some_and(|l| l.trim() == "workspace = true")
                {
                    lines.next();
                    out.push_str(&self.lints);
                    continue;
                }
            }
            let Some((key, value)) = line.split_once(" = ") else {
                out.push_str(line);
                out.push('\n');
                continue;
            };
            let resolved = if table == "[package]" && key.ends_with(".workspace") && value == "true"
            {
                let key = key.trim_end_matches(".workspace");
                let value = self
                    .package
                    .get(key)
                    .unwrap_or_else(|| panic!("{dir}: no workspace.package.{key}"));
                format!("{key} = {value}")
            } else if table.ends_with("dependencies]") {
                self.dependency(key, value, dir)
            } else {
                line.to_string()
            };
            out.push_str(&resolved);
            out.push('\n');
        }
        out
    }

    /// `name.workspace = true` or `name = { workspace = true, optional = true }`, written out.
    fn dependency(&self, key: &str, value: &str, dir: &str) -> String {
        let (name, extra) = if let Some(name) = key.strip_suffix(".workspace") {
            assert_eq!(value, "true", "{dir}: {key}");
            (name, String::new())
        } else if let Some(inner) = value
            .strip_prefix("{ workspace = true")
            .and_then(|v| v.strip_suffix('}'))
        {
            (key, inner.trim().trim_start_matches(',').trim().to_string())
        } else {
            return format!("{key} = {value}");
        };
        let spec = self
            .dependencies
            .get(name)
            .unwrap_or_else(|| panic!("{dir}: no workspace.dependencies.{name}"));
        let mut fields: Vec<String> =
            if let Some(inner) = spec.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                if inner.trim_start().starts_with("path = ") {
                    // Another vendored crate: its sibling under `vendor/`.
                    let version = self.package["version"].clone();
                    vec![
                        format!("path = \"../{name}\""),
                        format!("version = {version}"),
                    ]
                } else {
                    vec![inner.trim().to_string()]
                }
            } else {
                vec![format!("version = {spec}")]
            };
        if !extra.is_empty() {
            fields.push(extra);
        }
        format!("{name} = {{ {} }}", fields.join(", "))
    }
}
