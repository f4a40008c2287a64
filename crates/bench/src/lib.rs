//! Benchmark support for kubectl-vllm: a deterministic corpus of vLLM deployment sets and the
//! parse-only floor the whole-process benchmark compares against (`BENCHMARKS.md`).
//!
//! The same seed always gives the same bytes, so figures from different runs and machines are
//! about the same input.

pub mod corpus;

#[cfg(test)]
mod tests {
    use kubectl_vllm_engine::config::{Config, Loaded};
    use kubectl_vllm_engine::lint::Linter;
    use kubectl_vllm_host::{ArtifactCache, Limits, ProviderSetting};
    use kubectl_vllm_manifest::{LoadOptions, Manifests};

    use crate::corpus::{self, Spec};

    /// Evaluation on several threads reports exactly what one thread does, in the same order,
    /// on a corpus with findings in many objects (and over several runs of the same linter).
    #[test]
    fn any_number_of_jobs_gives_the_serial_report() {
        let spec = Spec {
            documents: 1500,
            namespaces: 7,
            seed: 42,
        };
        let mut manifests = Manifests::default();
        for (name, text) in corpus::files(&spec, 400) {
            manifests.add_text(&name, text, &LoadOptions::default());
        }
        let mut linter = Linter::new(
            ArtifactCache::new(Some(std::env::temp_dir().join("kubectl-vllm-bench-cache"))),
            Limits::default(),
            &Loaded::default(),
            &[],
            true,
        )
        .expect("the embedded policies load");
        let config = Config {
            provider: Some(ProviderSetting::Gke),
            ..Config::default()
        };
        let mut run = |jobs| {
            linter.set_jobs(Some(jobs));
            let report = linter.lint(&manifests, &config);
            (report.findings.len(), format!("{:#?}", report.findings))
        };
        let serial = run(1);
        assert!(
            serial.0 > 40,
            "only {} findings: the corpus should yield many",
            serial.0
        );
        for jobs in [2, 3, 8, 2] {
            assert!(run(jobs) == serial, "-j {jobs} differs from -j 1");
        }
    }
}
