//! `kubectl vllm policy inspect`: what a component declares, and whether the host loads it.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use kubectl_vllm_engine::registry::RuleInfo;
use kubectl_vllm_host::{ArtifactCache, Contract, Host, Limits, Shared};
use serde_json::json;

use crate::status::{AuthorError, Format, Status};

/// Inspects `file`: exit 2 (after printing what it found) when the host would refuse it.
pub fn run(file: &Path, format: Format, stdout: &mut dyn Write) -> Result<Status, AuthorError> {
    let wasm = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let host =
        Host::new(ArtifactCache::from_env(), Limits::default()).map_err(|e| e.to_string())?;
    let label = file.display().to_string();
    let (surface, policy) = host
        .inspect(&label, &wasm, Arc::new(Shared::default()))
        .map_err(|e| e.to_string())?;
    let sha256 = kubectl_vllm_host::cache::sha256_hex(&wasm);
    let refused = surface.refused_imports();
    let rules = policy.as_ref().map(RuleInfo::of_policy).unwrap_or_default();
    match format {
        Format::Json => {
            let value = json!({
                "file": label,
                "sha256": sha256,
                "contract": surface.version,
                "reusable": surface.lifecycle().is_some(),
                "loads": policy.is_ok(),
                "error": policy.as_ref().err().map(ToString::to_string),
                "policy": policy.as_ref().ok().map(|p| json!({
                    "name": p.info.name,
                    "version": p.info.version,
                })),
                "rules": rules,
                "imports": surface.imports.iter().map(|name| json!({
                    "name": name,
                    "allowed": !refused.contains(&name.as_str()),
                })).collect::<Vec<_>>(),
            });
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&value).expect("JSON serializes")
            );
        }
        Format::Text => {
            let _ = writeln!(stdout, "file      {label} ({} bytes)", wasm.len());
            let _ = writeln!(stdout, "sha256    {sha256}");
            let _ = writeln!(
                stdout,
                "contract  {} (this kubectl-vllm: {})",
                surface.version.as_deref().map_or_else(
                    || "none".to_string(),
                    |v| format!("kubectl-vllm:policy@{v}")
                ),
                Contract::CURRENT
            );
            let _ = writeln!(
                stdout,
                "instance  {}",
                match surface.lifecycle() {
                    Some(export) => format!("kept across input sets (exports {export})"),
                    None => "fresh for every input set (no lifecycle export)".into(),
                }
            );
            if let Ok(policy) = &policy {
                let _ = writeln!(
                    stdout,
                    "policy    {} {}",
                    policy.info.name, policy.info.version
                );
                let _ = writeln!(stdout, "rules");
                let width = rules.iter().map(|r| r.id.as_str().len()).max().unwrap_or(0);
                for rule in &rules {
                    let fix = match rule.applicability() {
                        Some(a) => format!("{} ({a})", rule.fix.as_str()),
                        None => "none".into(),
                    };
                    let _ = writeln!(
                        stdout,
                        "  {:<width$}  {:<7}  fix: {fix:<16}  {}",
                        rule.id.as_str(),
                        rule.severity.as_str(),
                        rule.summary
                    );
                }
            }
            let _ = writeln!(stdout, "imports");
            for import in &surface.imports {
                let verdict = if refused.contains(&import.as_str()) {
                    "  REFUSED"
                } else {
                    ""
                };
                let _ = writeln!(stdout, "  {import}{verdict}");
            }
        }
    }
    match policy {
        Ok(_) => Ok(Status::Passed),
        Err(e) => Err(e.to_string().into()),
    }
}
