//! The commands that read no manifests: `rules`, `explain`, `facts`, `config init`,
//! `completion`, `version`.

use std::io::Write;
use std::path::Path;

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
        RulesFormat::Text => kubectl_vllm_emit::tables::facts(&facts),
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
        RulesFormat::Text => kubectl_vllm_emit::tables::rules(rows),
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
