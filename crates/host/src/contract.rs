//! The contract versions a policy may be built against, which one a component exports, and the
//! imports a policy may have.

use wasmtime::Engine;
use wasmtime::component::Component;

/// The contract version a policy was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    /// `kubectl-vllm:policy@0.1.x`: still loaded, through an adapter; deprecated.
    V0_1,
    /// `kubectl-vllm:policy@0.2.x`: the current contract.
    V0_2,
}

/// The interfaces a policy may import: the contract's own, and the WASI interfaces the host links
/// with nothing granted (an empty environment and arguments, no stdin, captured stdout and stderr,
/// a seed for hash maps). Rust's std and componentize-py's runtime need no more. Anything else
/// (filesystem preopens, sockets, clocks, HTTP, other random sources) is refused at load.
pub const ALLOWED_IMPORTS: &[&str] = &[
    "kubectl-vllm:policy/*",
    "wasi:cli/*",
    "wasi:io/*",
    "wasi:random/insecure-seed",
];

/// What a component declares at its boundary, read from its type without running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surface {
    /// The contract version its `policy` export names (`0.2.2`), if it has one.
    pub version: Option<String>,
    /// Every import, as `namespace:package/interface@version`, in the component's order.
    pub imports: Vec<String>,
    /// Every export.
    pub exports: Vec<String>,
}

impl Surface {
    pub(crate) fn of(component: &Component, engine: &Engine) -> Self {
        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        Self {
            version: exports
                .iter()
                .find_map(|name| name.strip_prefix(Contract::EXPORT))
                .map(str::to_string),
            imports: ty
                .imports(engine)
                .map(|(name, _)| name.to_string())
                .collect(),
            exports,
        }
    }

    /// The `lifecycle` interface it exports (`kubectl-vllm:policy/lifecycle@0.2.2`), if it is a
    /// component of `reusable-policy-world`: the host may then keep its instance across input
    /// sets.
    #[must_use]
    pub fn lifecycle(&self) -> Option<&str> {
        self.exports
            .iter()
            .map(String::as_str)
            .find(|name| name.starts_with(Contract::LIFECYCLE))
    }

    /// The imports outside [`ALLOWED_IMPORTS`].
    #[must_use]
    pub fn refused_imports(&self) -> Vec<&str> {
        self.imports
            .iter()
            .map(String::as_str)
            .filter(|import| !import_allowed(import))
            .collect()
    }

    /// Which contract the component was built against, or why it cannot be loaded: no `policy`
    /// export, a contract this host does not implement (naming the version it needs), or an
    /// import outside [`ALLOWED_IMPORTS`] (naming each).
    pub fn contract(&self) -> Result<Contract, String> {
        let version = self.version.as_deref().ok_or_else(|| {
            format!(
                "it exports no `{}*` interface (exports: {})",
                Contract::EXPORT,
                if self.exports.is_empty() {
                    "none".to_string()
                } else {
                    self.exports.join(", ")
                }
            )
        })?;
        let contract = Contract::of_version(version)?;
        let refused = self.refused_imports();
        if !refused.is_empty() {
            return Err(format!(
                "it imports {}, which a policy may not use (allowed: {})",
                refused
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                ALLOWED_IMPORTS.join(", ")
            ));
        }
        Ok(contract)
    }
}

/// Whether `import` (`wasi:io/streams@0.2.6`) matches [`ALLOWED_IMPORTS`].
fn import_allowed(import: &str) -> bool {
    let unversioned = import.split_once('@').map_or(import, |(name, _)| name);
    ALLOWED_IMPORTS
        .iter()
        .any(|allowed| match allowed.strip_suffix('*') {
            Some(prefix) => unversioned.starts_with(prefix),
            None => unversioned == *allowed,
        })
}

impl Contract {
    /// The newest contract, as `wit/policy.wit` declares it.
    pub const CURRENT: &'static str = "kubectl-vllm:policy@0.2.2";

    /// The export name prefix every policy has.
    const EXPORT: &'static str = "kubectl-vllm:policy/policy@";

    /// The prefix of the export that makes an instance reusable (0.2.2).
    const LIFECYCLE: &'static str = "kubectl-vllm:policy/lifecycle@";

    /// The newest 0.2 patch version this host implements.
    const CURRENT_PATCH: u32 = 2;

    /// The contract of a `policy` export's version (`0.2.2`).
    fn of_version(version: &str) -> Result<Self, String> {
        let supported = format!(
            "this kubectl-vllm implements 0.2.0 to 0.2.{} (and 0.1, deprecated)",
            Self::CURRENT_PATCH
        );
        let mut parts = version.split('.');
        let (major, minor, patch) = (parts.next(), parts.next(), parts.next());
        match (major, minor, patch.and_then(|p| p.parse::<u32>().ok())) {
            (Some("0"), Some("1"), Some(_)) => Ok(Self::V0_1),
            (Some("0"), Some("2"), Some(patch)) if patch <= Self::CURRENT_PATCH => Ok(Self::V0_2),
            (Some("0"), Some("2"), Some(_)) => Err(format!(
                "it was built against contract {version}, newer than this kubectl-vllm: it needs a \
                 kubectl-vllm that implements kubectl-vllm:policy@{version} ({supported})"
            )),
            _ => Err(format!(
                "it was built against contract {version}; {supported}"
            )),
        }
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V0_1 => "0.1",
            Self::V0_2 => "0.2",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surface(version: &str, imports: &[&str]) -> Surface {
        Surface {
            version: Some(version.into()),
            imports: imports.iter().map(|i| (*i).to_string()).collect(),
            exports: vec![format!("kubectl-vllm:policy/policy@{version}")],
        }
    }

    #[test]
    fn current_and_older_contracts_load_newer_ones_name_the_version_they_need() {
        assert_eq!(surface("0.2.0", &[]).contract(), Ok(Contract::V0_2));
        assert_eq!(surface("0.2.1", &[]).contract(), Ok(Contract::V0_2));
        assert_eq!(surface("0.2.2", &[]).contract(), Ok(Contract::V0_2));
        assert_eq!(surface("0.1.0", &[]).contract(), Ok(Contract::V0_1));
        let newer = surface("0.2.7", &[]).contract().unwrap_err();
        assert!(
            newer.contains("needs a kubectl-vllm that implements kubectl-vllm:policy@0.2.7"),
            "{newer}"
        );
        let major = surface("1.0.0", &[]).contract().unwrap_err();
        assert!(major.contains("built against contract 1.0.0"), "{major}");
        assert!(major.contains("implements 0.2.0 to 0.2.2"), "{major}");
    }

    #[test]
    fn imports_beyond_the_allow_list_are_refused_by_name() {
        let allowed = [
            "kubectl-vllm:policy/inventory@0.2.1",
            "wasi:cli/environment@0.2.6",
            "wasi:io/streams@0.2.6",
            "wasi:random/insecure-seed@0.2.4",
        ];
        assert_eq!(surface("0.2.1", &allowed).contract(), Ok(Contract::V0_2));
        let mut imports = allowed.to_vec();
        imports.extend([
            "wasi:filesystem/preopens@0.2.6",
            "wasi:sockets/tcp@0.2.6",
            "wasi:random/random@0.2.6",
            "wasi:clocks/wall-clock@0.2.6",
        ]);
        let refused = surface("0.2.1", &imports).contract().unwrap_err();
        for name in &imports[4..] {
            assert!(refused.contains(&format!("`{name}`")), "{refused}");
        }
        assert!(!refused.contains("`wasi:io/streams"), "{refused}");
        // A look-alike namespace is not the contract's.
        assert!(!import_allowed("kubectl-vllm:policyx/evil@0.2.1"));
        assert!(!import_allowed("wasi:cli-extra/x@0.2.0"));
    }
}
