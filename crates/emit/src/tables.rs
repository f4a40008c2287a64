//! The tables of the commands that read no manifests: `rules` and `facts` (text; their JSON is
//! the rows serialized).

use kubectl_vllm_engine::Registry;

/// `kubectl vllm rules`: the table, each column as wide as its widest cell.
#[must_use]
pub fn rules(rows: &Registry) -> String {
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

/// `kubectl vllm facts`: the model, accelerator, instance-type and image tables, a row each.
#[allow(clippy::cast_precision_loss)] // MiB shown as GiB with one decimal
#[must_use]
pub fn facts(facts: &kubectl_vllm_host::FactTables) -> String {
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
