//! The commands that read no manifests: `rules`, `explain`, `facts`, `config init`,
//! `completion`, `version`.

use std::io::Write;
use std::path::Path;

use kubectl_vllm_engine::Registry;
use kubectl_vllm_engine::catalogue::CATALOGUE;

use crate::ExitStatus;
use crate::args::{Cli, PolicyArgs, RulesFormat};
use crate::pipeline::{load_config, prepare};

/// `kubectl vllm version`.
pub(crate) fn version(stdout: &mut dyn Write) -> ExitStatus {
    let _ = writeln!(
        stdout,
        "kubectl-vllm {} (policy contract {})",
        env!("CARGO_PKG_VERSION"),
        kubectl_vllm_host::Contract::CURRENT
    );
    ExitStatus::Success
}

/// `kubectl vllm config init`: the commented starter config, never over an existing file.
pub(crate) fn config_init(path: &Path, stderr: &mut dyn Write) -> ExitStatus {
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| file.write_all(kubectl_vllm_engine::config::STARTER.as_bytes()));
    match created {
        Ok(()) => {
            let _ = writeln!(stderr, "wrote {}", path.display());
            ExitStatus::Success
        }
        Err(e) => {
            let _ = writeln!(stderr, "error: cannot create {}: {e}", path.display());
            ExitStatus::Error
        }
    }
}

/// `kubectl vllm completion SHELL`.
pub(crate) fn completion(shell: clap_complete::Shell, stdout: &mut dyn Write) -> ExitStatus {
    use clap::CommandFactory as _;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kubectl-vllm", &mut script);
    let _ = stdout.write_all(&script);
    ExitStatus::Success
}

/// `kubectl vllm facts`: the fact tables in effect.
pub(crate) fn facts(
    output: RulesFormat,
    config: Option<&Path>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> ExitStatus {
    let Some(loaded) = load_config(config, stderr) else {
        return ExitStatus::Error;
    };
    let mut facts = kubectl_vllm_host::FactTables::builtin();
    facts.apply(&loaded.config.facts);
    let text = match output {
        RulesFormat::Json => serde_json::to_string_pretty(&facts).expect("serializes") + "\n",
        RulesFormat::Text => facts_table(&facts),
    };
    let _ = stdout.write_all(text.as_bytes());
    ExitStatus::Success
}

/// `kubectl vllm rules`: every rule of the registry.
pub(crate) fn rules(
    output: RulesFormat,
    policies: &PolicyArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> ExitStatus {
    let Some((linter, _)) = prepare(policies, stderr) else {
        return ExitStatus::Error;
    };
    let rows = linter.registry();
    let text = match output {
        RulesFormat::Json => {
            let rows: Vec<_> = rows.iter().collect();
            serde_json::to_string_pretty(&rows).expect("serializes") + "\n"
        }
        RulesFormat::Text => rules_table(rows),
    };
    let _ = stdout.write_all(text.as_bytes());
    ExitStatus::Success
}

/// `kubectl vllm explain RULE`: the rule's page.
pub(crate) fn explain(
    rule: &str,
    policies: &PolicyArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> ExitStatus {
    let Some((linter, _)) = prepare(policies, stderr) else {
        return ExitStatus::Error;
    };
    let registry = linter.registry();
    // Ids are lower case; `Shm-Size` means `shm-size`.
    let wanted = rule.trim().to_ascii_lowercase();
    if let Some(row) = registry.get(&wanted) {
        let _ = write!(stdout, "{}", row.page());
        return ExitStatus::Success;
    }
    let why = if CATALOGUE.contains(&wanted.as_str()) {
        format!("rule `{rule}` is in the catalogue but no loaded policy implements it yet")
    } else {
        // A prefix or a part of an id (`shm`, `gpu-mem`) names the rules it could mean.
        let near: Vec<&str> = registry
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| !wanted.is_empty() && id.contains(wanted.as_str()))
            .collect();
        match near.as_slice() {
            [] => format!("unknown rule `{rule}`; `kubectl vllm rules` lists them"),
            ids => format!(
                "unknown rule `{rule}`; did you mean {}?",
                ids.iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    };
    let _ = writeln!(stderr, "error: {why}");
    ExitStatus::Error
}

/// The `rules` table, each column as wide as its widest cell.
fn rules_table(rows: &Registry) -> String {
    use std::fmt::Write as _;
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            let fix = match row.applicability() {
                Some(a) => format!("{} ({a})", row.fix.as_str()),
                None => row.fix.as_str().to_string(),
            };
            [
                row.id.to_string(),
                row.severity.to_string(),
                fix,
                row.policy().unwrap_or("-").to_string(),
                row.summary.clone(),
            ]
        })
        .collect();
    let header = ["RULE", "SEVERITY", "FIX", "POLICY", "SUMMARY"].map(String::from);
    let width = |column: usize| {
        std::iter::once(&header)
            .chain(&cells)
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3)];
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        let _ = writeln!(
            out,
            "{:<w0$} {:<w1$} {:<w2$} {:<w3$} {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
    }
    out
}

#[allow(clippy::cast_precision_loss)] // MiB shown as GiB with one decimal
fn facts_table(facts: &kubectl_vllm_host::FactTables) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "{:<36} {:>8} {:>6} {:>4} {:>4} {:>7} {:<8} {:<6} SOURCE\n",
        "MODEL", "WEIGHTS", "HEADS", "KV", "LAY", "CONTEXT", "DTYPE", "GATED"
    );
    for m in &facts.models {
        let _ = writeln!(
            out,
            "{:<36} {:>6.1}Gi {:>6} {:>4} {:>4} {:>7} {:<8} {:<6} {}",
            m.id,
            m.weights_mib as f64 / 1024.0,
            m.attention_heads,
            m.kv_heads,
            m.layers,
            m.max_context,
            m.dtype,
            m.gated,
            m.source
        );
    }
    let _ = writeln!(
        out,
        "\n{:<24} {:<18} {:>8} {:>4} {:<14} {:<14} SOURCE",
        "ACCELERATOR", "NAME", "MEMORY", "CC", "GPUS/NODE", "AUTOPILOT"
    );
    let list = |v: &[u32]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    for a in &facts.accelerators {
        let _ = writeln!(
            out,
            "{:<24} {:<18} {:>6.1}Gi {:>4.1} {:<14} {:<14} {}",
            a.id,
            a.name,
            a.memory_mib as f64 / 1024.0,
            f64::from(a.compute_capability) / 10.0,
            list(&a.gpus_per_node),
            if a.autopilot_counts.is_empty() {
                "-".into()
            } else {
                list(&a.autopilot_counts)
            },
            a.source
        );
    }
    let _ = writeln!(
        out,
        "\n{:<28} {:<9} {:<24} {:>4} SOURCE",
        "MACHINE TYPE", "PROVIDER", "ACCELERATOR", "GPUS"
    );
    for t in &facts.instance_types {
        let _ = writeln!(
            out,
            "{:<28} {:<9} {:<24} {:>4} {}",
            t.instance_type,
            t.provider.display(),
            t.accelerator,
            t.gpus,
            t.source
        );
    }
    let _ = writeln!(
        out,
        "\n{:<44} {:<18} {:<10} {:<6} {:<12} SOURCE",
        "IMAGE", "TAGS", "VLLM", "CUDA", "DRIVER PATH"
    );
    for i in &facts.images {
        let tags = if i.tags.floating {
            "floating".to_string()
        } else if !i.tags.exact.is_empty() {
            i.tags.exact.join(",")
        } else {
            format!(
                "{}..{}",
                i.tags.from.as_deref().unwrap_or(""),
                i.tags.below.as_deref().unwrap_or("")
            )
        };
        let driver = match i.driver_dir() {
            None => "unknown",
            Some(true) => "yes",
            Some(false) => "no",
        };
        let _ = writeln!(
            out,
            "{:<44} {:<18} {:<10} {:<6} {:<12} {}",
            i.repositories.join(","),
            tags,
            i.vllm_version.as_deref().unwrap_or("-"),
            i.cuda.as_deref().unwrap_or("-"),
            driver,
            i.source
        );
    }
    out
}
