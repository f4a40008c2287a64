//! Writes each target's seeds into `fuzz/corpus/<target>/` (the corpus a campaign starts from):
//! `cargo run -p kubectl-vllm-fuzzing --bin fuzz-seeds`.

use std::path::Path;

use kubectl_vllm_fuzzing::{TARGETS, seeds};

fn main() -> std::io::Result<()> {
    let corpus = seeds::root().join("fuzz/corpus");
    for (name, _) in TARGETS {
        let dir = corpus.join(name);
        std::fs::create_dir_all(&dir)?;
        let seeds = seeds::of(name);
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:04}")), seed)?;
        }
        println!(
            "{}: {} seeds",
            Path::new("fuzz/corpus").join(name).display(),
            seeds.len()
        );
    }
    Ok(())
}
