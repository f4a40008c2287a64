//! `kubectl vllm policy new`: a policy crate that builds and passes `policy test` unmodified.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::status::AuthorError;

mod vendored {
    include!(concat!(env!("OUT_DIR"), "/vendored.rs"));
}

pub use vendored::{LOCK, POLICY_PROFILE, VENDORED};

/// The scaffold's files: (path in the crate, template). `{{...}}` placeholders are filled in.
const TEMPLATE: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../template/Cargo.toml")),
    (".gitignore", include_str!("../template/gitignore")),
    ("README.md", include_str!("../template/README.md")),
    ("src/lib.rs", include_str!("../template/src/lib.rs")),
    (
        "src/rules/{{rule_module}}.rs",
        include_str!("../template/src/rules/rule.rs"),
    ),
    (
        "fixtures/rules/{{rule}}/bad.yaml",
        include_str!("../template/fixtures/bad.yaml"),
    ),
    (
        "fixtures/rules/{{rule}}/bad.fixed.yaml",
        include_str!("../template/fixtures/bad.fixed.yaml"),
    ),
    (
        "fixtures/rules/{{rule}}/good.yaml",
        include_str!("../template/fixtures/good.yaml"),
    ),
];

/// The example rule, after the policy's name: `<name>-workload-label`.
const EXAMPLE_RULE: &str = "workload-label";

/// What the placeholders of a scaffold stand for.
struct Names {
    name: String,
    rule: String,
}

impl Names {
    fn fill(&self, template: &str, sdk_dependency: &str) -> String {
        template
            .replace("{{name}}", &self.name)
            .replace("{{crate}}", &self.name.replace('-', "_"))
            .replace("{{rule}}", &self.rule)
            .replace("{{rule_module}}", &EXAMPLE_RULE.replace('-', "_"))
            .replace("{{rule_type}}", &camel(EXAMPLE_RULE))
            .replace("{{sdk_version}}", env!("CARGO_PKG_VERSION"))
            .replace("{{sdk_dependency}}", sdk_dependency)
            .replace("{{profile}}\n", POLICY_PROFILE)
    }
}

/// `workload-label` → `WorkloadLabel`.
fn camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Whether `name` can name a policy: a Cargo package, a rule id prefix and a file name alike.
fn check_name(name: &str) -> Result<(), AuthorError> {
    let shape = name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !shape {
        return Err(format!(
            "`{name}` is not a policy name: lowercase letters, digits and single dashes, starting with a letter, at most 40 characters (for example `acme-platform`)"
        )
        .into());
    }
    if kubectl_vllm_builtin::POLICIES
        .iter()
        .any(|b| b.name == name)
    {
        return Err(format!(
            "`{name}` is the name of a built-in policy; choose another (for example `acme-{name}`)"
        )
        .into());
    }
    Ok(())
}

/// Writes the scaffold of policy `name` into `dir` (default `./name`), depending on the SDK at
/// `sdk` or, without it, on the SDK's source vendored into `vendor/`.
pub fn new(
    name: &str,
    dir: Option<&Path>,
    sdk: Option<&Path>,
    stdout: &mut dyn Write,
) -> Result<(), AuthorError> {
    check_name(name)?;
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!(
            "{} exists and is not empty; `policy new` writes only into a new or empty directory",
            dir.display()
        )
        .into());
    }
    let names = Names {
        name: name.to_string(),
        rule: format!("{name}-{EXAMPLE_RULE}"),
    };
    let sdk_dependency = match sdk {
        Some(path) => {
            let path = std::fs::canonicalize(path)
                .ok()
                .filter(|p| p.join("Cargo.toml").is_file())
                .ok_or_else(|| {
                    format!(
                        "--sdk {}: not a crate directory (no Cargo.toml)",
                        path.display()
                    )
                })?;
            format!(
                "kubectl-vllm-sdk = {{ path = {:?} }}",
                path.display().to_string()
            )
        }
        None => "kubectl-vllm-sdk = { path = \"vendor/kubectl-vllm-sdk\" }".to_string(),
    };
    let mut files: Vec<(String, String)> = TEMPLATE
        .iter()
        .map(|(path, text)| (names.fill(path, ""), names.fill(text, &sdk_dependency)))
        .collect();
    files.push(("Cargo.lock".into(), LOCK.to_string()));
    if sdk.is_none() {
        files.extend(
            VENDORED
                .iter()
                .map(|(path, text)| (format!("vendor/{path}"), (*text).to_string())),
        );
    }
    for (path, text) in &files {
        let path = dir.join(path);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().unwrap_or(&dir))?;
            std::fs::write(&path, text)
        };
        write().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let shown = dir.display();
    let _ = writeln!(
        stdout,
        "wrote policy `{name}` in {shown}: rule `{}` (src/rules/{}.rs) and its fixtures (fixtures/rules/{}/)\n\nnext:\n  cd {shown}\n  kubectl vllm policy test      # builds the component, then checks the fixtures\n  kubectl vllm lint --policy target/wasm32-wasip2/release/{}.wasm -R manifests/",
        names.rule,
        EXAMPLE_RULE.replace('-', "_"),
        names.rule,
        name.replace('-', "_"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("acme").is_ok());
        assert!(check_name("acme-gpu-pools2").is_ok());
        for bad in [
            "",
            "Acme",
            "acme_x",
            "-acme",
            "acme-",
            "a--b",
            "2acme",
            &"a".repeat(41),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let builtin = check_name("gpu").unwrap_err().0;
        assert!(builtin.contains("built-in policy"), "{builtin}");
    }

    #[test]
    fn the_vendored_wit_is_the_contract() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let contract = std::fs::read_to_string(root.join("wit/policy.wit")).unwrap();
        let vendored = VENDORED
            .iter()
            .find(|(path, _)| *path == "kubectl-vllm-sdk/wit/policy.wit")
            .map(|(_, text)| *text);
        assert_eq!(
            vendored,
            Some(contract.as_str()),
            "crates/sdk/wit/policy.wit differs from wit/policy.wit: copy it over"
        );
    }

    #[test]
    fn vendored_manifests_inherit_nothing() {
        for (path, text) in VENDORED.iter().filter(|(p, _)| p.ends_with("Cargo.toml")) {
            assert!(!text.contains("workspace = true"), "{path}:\n{text}");
            assert!(!text.contains(".workspace"), "{path}:\n{text}");
            assert!(text.contains("version = \""), "{path}:\n{text}");
        }
        let sdk = VENDORED
            .iter()
            .find(|(p, _)| *p == "kubectl-vllm-sdk/Cargo.toml")
            .unwrap()
            .1;
        assert!(
            sdk.contains("kubectl-vllm-core = { path = \"../kubectl-vllm-core\", version = "),
            "{sdk}"
        );
    }

    #[test]
    fn the_scaffold_profile_is_the_policy_profile() {
        let names = Names {
            name: "acme".into(),
            rule: "acme-workload-label".into(),
        };
        let manifest = names.fill(TEMPLATE[0].1, "kubectl-vllm-sdk = \"0.1\"");
        for line in POLICY_PROFILE
            .lines()
            .filter(|l| !l.starts_with("inherits"))
        {
            assert!(manifest.contains(line), "{line}\n{manifest}");
        }
        assert!(manifest.contains("opt-level = 3"), "{manifest}");
        assert!(!manifest.contains("{{"), "{manifest}");
    }
}
