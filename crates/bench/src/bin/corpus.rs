//! `corpus --documents N [--namespaces K] [--seed S] [--per-file D] --out DIR`: writes the seeded
//! benchmark corpus (`kubectl_vllm_bench::corpus`) as YAML files; `--per-file 0` writes one file.

use std::path::PathBuf;
use std::process::ExitCode;

use kubectl_vllm_bench::corpus::{Spec, files};

fn main() -> ExitCode {
    let mut spec = Spec {
        documents: 1000,
        namespaces: 1,
        seed: 1,
    };
    let mut per_file = 500;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        let number = || value.as_deref().and_then(|v| v.parse::<usize>().ok());
        match (flag.as_str(), number()) {
            ("--documents", Some(n)) => spec.documents = n,
            ("--namespaces", Some(n)) => spec.namespaces = n.max(1),
            ("--seed", Some(n)) => spec.seed = n as u64,
            ("--per-file", Some(n)) => per_file = if n == 0 { usize::MAX } else { n },
            ("--out", _) if value.is_some() => out = value.map(PathBuf::from),
            _ => {
                eprintln!(
                    "usage: corpus --documents N [--namespaces K] [--seed S] [--per-file D] --out DIR (bad or incomplete `{flag}`)"
                );
                return ExitCode::from(2);
            }
        }
    }
    let Some(out) = out else {
        eprintln!("corpus: --out DIR is required");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("corpus: cannot create {}: {e}", out.display());
        return ExitCode::from(2);
    }
    let mut bytes = 0;
    let written = files(&spec, per_file);
    for (name, text) in &written {
        bytes += text.len();
        if let Err(e) = std::fs::write(out.join(name), text) {
            eprintln!("corpus: cannot write {name}: {e}");
            return ExitCode::from(2);
        }
    }
    println!(
        "{} documents ({} sets in {} namespace(s)) in {} file(s), {bytes} bytes, in {}",
        spec.sets() * kubectl_vllm_bench::corpus::DOCUMENTS_PER_SET + 1,
        spec.sets(),
        spec.namespaces.min(spec.sets()),
        written.len(),
        out.display()
    );
    ExitCode::SUCCESS
}
