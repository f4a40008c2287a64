//! The contract versions a policy may be built against, and which one a component exports.

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

impl Contract {
    /// The newest contract, as `wit/policy.wit` declares it.
    pub const CURRENT: &'static str = "kubectl-vllm:policy@0.2.1";

    /// The export name prefix every policy has.
    const EXPORT: &'static str = "kubectl-vllm:policy/policy@";

    /// Which contract a component exports, from its `policy` export's version.
    pub(crate) fn of(component: &Component, engine: &Engine) -> Result<Self, String> {
        let exports: Vec<String> = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let version = exports
            .iter()
            .find_map(|name| name.strip_prefix(Self::EXPORT))
            .ok_or_else(|| {
                format!(
                    "it exports no `{}*` interface (exports: {})",
                    Self::EXPORT,
                    if exports.is_empty() {
                        "none".to_string()
                    } else {
                        exports.join(", ")
                    }
                )
            })?;
        if version.starts_with("0.2.") {
            Ok(Self::V0_2)
        } else if version.starts_with("0.1.") {
            Ok(Self::V0_1)
        } else {
            Err(format!(
                "it was built against contract {version}; this kubectl-vllm loads 0.2 (and 0.1, deprecated)"
            ))
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
