//! Checks the policies skipped, gathered: one located info per object, place and reason naming
//! every rule that skipped there, and one unlocated `provider-unknown` per run.

use std::collections::{BTreeMap, BTreeSet};

use kubectl_vllm_core::{Pointer, Provider, declare_rule};
use kubectl_vllm_host::provider::{Hint, Resolved};
use kubectl_vllm_host::{Skip, SkipReason};
use kubectl_vllm_manifest::Manifests;

use crate::locate::Locator;
use crate::report::Finding;

declare_rule! {
    /// ## What it does
    /// Says that checks were skipped because the model is not in the model fact table: which
    /// rules, on which model (at the model's place in the command line), and how to add it.
    ///
    /// ## Why is this bad?
    /// It is not: it is information. Size, parallelism and context checks need the model's
    /// weights size, heads and context length, and guessing them would produce wrong errors. The
    /// rules that skipped say so (the contract's `skipped(model-unknown)`); this finding gathers
    /// them, one per model and object.
    ///
    /// ## Example
    /// `` `/models/my-llama` is not in the model fact table: model-weights-exceed-gpu-mem and vllm-tp-heads did not check it ``
    ///
    /// Add the model to `.kubectl-vllm.yaml`:
    /// ```yaml
    /// facts:
    ///   models:
    ///   - id: me/my-llama
    ///     aliases: [my-llama]
    ///     weights-mib: 15000
    ///     repository-mib: 15000
    ///     attention-heads: 32
    ///     kv-heads: 8
    ///     max-context: 8192
    ///     source: "my model card"
    /// ```
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// product.md, "Rule ids".
    pub struct ModelUnknown {
        id: "model-unknown",
        severity: Info,
        fix: None,
        summary: "checks were skipped because the model is not in the fact table",
    }
}

declare_rule! {
    /// ## What it does
    /// Says that checks were skipped because the pod's accelerator is not known: no node label,
    /// node pool or MIG resource names a GPU model of the accelerator table. It lists the rules
    /// and how to add the GPU.
    ///
    /// ## Why is this bad?
    /// It is not: it is information. GPU memory, compute capability and per-node counts are
    /// needed for those checks. The accelerator is found from `cloud.google.com/gke-accelerator`,
    /// NVIDIA GPU Feature Discovery's `nvidia.com/gpu.product`, `node.kubernetes.io/instance-type`
    /// (EC2, Azure and GCE machine types), Karpenter's `karpenter.k8s.aws/instance-gpu-name`, the
    /// cluster profile's node pools, or a `nvidia.com/mig-*` request.
    ///
    /// ## Example
    /// `the accelerator is not known (nvidia.com/gpu.product=NVIDIA-Future-GPU): model-weights-exceed-gpu-mem did not check this pod`
    ///
    /// Add it under `facts.accelerators` in `.kubectl-vllm.yaml`:
    /// ```yaml
    /// facts:
    ///   accelerators:
    ///   - {id: nvidia-future, name: Future GPU, memory-mib: 98304, compute-capability: 100,
    ///      gfd-products: [NVIDIA-Future-GPU], source: "vendor data sheet"}
    /// ```
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// product.md, "Rule ids" and "Inputs" (accelerator requests).
    pub struct AcceleratorUnknown {
        id: "accelerator-unknown",
        severity: Info,
        fix: None,
        summary: "checks were skipped because the accelerator is not known",
    }
}

declare_rule! {
    /// ## What it does
    /// Once per run, when the provider is unknown and provider-specific rules would have checked
    /// objects of the run: which rules were skipped, on how many objects, and how to set the
    /// provider. When the manifests hold hints for two providers, it names both.
    ///
    /// ## Why is this bad?
    /// It is not: it is information. A rule that only holds on one provider (GKE's accelerator
    /// labels, GKE's driver path, GCS FUSE, Workload Identity) would give false errors elsewhere,
    /// so without a provider it does not run. The provider comes from `--provider`, the config's
    /// `cluster.provider`, the live cluster (`--cluster`, `apply`, `diff`), or keys and values in
    /// the manifests that only one provider uses (`cloud.google.com/*`, `eks.amazonaws.com/*`,
    /// `kubernetes.azure.com/*`, `*.openshift.io` groups...); `generic` runs no provider-specific
    /// rule and says nothing.
    ///
    /// ## Example
    /// `the provider is unknown: 3 provider-specific rules (gke-accel-selector-missing, gke-gpu-toleration, runtime-ld-library-path-gke) were skipped on 2 objects`
    ///
    /// Set it:
    /// ```yaml
    /// cluster:
    ///   provider: eks
    /// ```
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// product.md, "Cluster profile and provider".
    pub struct ProviderUnknown {
        id: "provider-unknown",
        severity: Info,
        fix: None,
        summary: "provider-specific rules were skipped because the provider is unknown",
    }
}

declare_rule! {
    /// ## What it does
    /// Says that checks were skipped on a container that looks like a vLLM server (a vLLM image,
    /// or `vllm` on its command line) whose command line cannot be read from the manifest: a
    /// script run from a file, an image whose entrypoint the image table does not know, a flag
    /// whose value comes from a Secret, or a KServe model whose ServingRuntime is not in the set.
    ///
    /// ## Why is this bad?
    /// It is not: it is information, so that a clean report never hides a server nothing
    /// checked. The rules that could not read the server say so (`skipped(unparsed)`); this
    /// finding gathers them per container.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   image: vllm/vllm-openai:v0.10.1
    ///   command: ["/bin/bash", "/scripts/start.sh"]
    /// ```
    ///
    /// Use instead: the vLLM command line in `command`/`args` (`vllm serve MODEL --flags`), or
    /// an inline `bash -c` script.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## Source
    /// Catalogue §0 (how to extract vLLM settings from a pod spec).
    pub struct ServerUnparsed {
        id: "server-unparsed",
        severity: Info,
        fix: None,
        summary: "checks were skipped because a vLLM server's command line cannot be read",
    }
}

/// Where a hint is: `nodeSelector cloud.google.com/gke-accelerator at deploy.yaml:31`.
pub(crate) fn describe_hint(manifests: &Manifests, hint: &Hint) -> String {
    let object = &manifests.objects[hint.object];
    let at = Pointer::parse(&hint.pointer).unwrap_or_default();
    format!(
        "{} {}",
        hint.what,
        Locator::new(manifests).describe(object, &at)
    )
}

/// The skipped-check infos for `skips` (object index, skip) of a run under `provider`.
pub(crate) fn skip_findings(
    manifests: &Manifests,
    skips: &[(usize, Skip)],
    provider: &Resolved,
    findings: &mut Vec<Finding>,
) {
    type Key = (usize, String, Option<(u32, u32)>, String);
    let locator = Locator::new(manifests);
    let mut located: BTreeMap<Key, (&SkipReason, Vec<&str>)> = BTreeMap::new();
    let mut provider_rules: BTreeSet<&str> = BTreeSet::new();
    let mut provider_objects: BTreeSet<usize> = BTreeSet::new();
    for (object, skip) in skips {
        if skip.reason == SkipReason::ProviderUnknown {
            provider_rules.insert(&skip.rule);
            provider_objects.insert(*object);
            continue;
        }
        let reason = format!("{:?}", skip.reason);
        let key = (
            *object,
            skip.pointer.clone(),
            skip.sub_span.map(|s| (s.start, s.end)),
            reason,
        );
        let entry = located.entry(key).or_insert((&skip.reason, Vec::new()));
        if !entry.1.contains(&skip.rule.as_str()) {
            entry.1.push(&skip.rule);
        }
    }
    for ((index, pointer, sub_span, _), (reason, rules)) in located {
        let object = &manifests.objects[index];
        let rules = join_rules(&rules);
        // The host validated the pointer when the policy returned it.
        let pointer = Pointer::parse(&pointer).unwrap_or_default();
        let mut finding = match reason {
            SkipReason::ModelUnknown(name) => locator
                .finding::<ModelUnknown>(
                    object,
                    pointer.clone(),
                    format!("`{name}` is not in the model fact table: {rules} did not check it"),
                )
                .with_help("add it under `facts.models` in .kubectl-vllm.yaml (id, aliases, weights-mib, attention-heads, kv-heads, layers, head-dim, max-context)"),
            SkipReason::AcceleratorUnknown(what) => locator
                .finding::<AcceleratorUnknown>(
                    object,
                    pointer.clone(),
                    format!("the GPU model is not known ({what}): {rules} did not check this pod"),
                )
                .with_help("select the GPU with a node label (cloud.google.com/gke-accelerator, nvidia.com/gpu.product, node.kubernetes.io/instance-type), describe the node pools under `cluster.node-pools`, or add it under `facts.accelerators`"),
            SkipReason::Unparsed(why) => locator
                .finding::<ServerUnparsed>(object, pointer.clone(), format!("{why}: {rules} did not check it"))
                .with_help("write the vLLM command line in `command`/`args` (or an inline `sh -c` script) so it can be checked"),
            SkipReason::ProviderUnknown => unreachable!("gathered above"),
        };
        if let Some(sub) = sub_span {
            locator.narrow(&mut finding, object, &pointer, sub);
        }
        findings.push(finding);
    }
    if provider.provider != Provider::Unknown
        || (provider_rules.is_empty() && provider.conflict.is_empty())
    {
        return;
    }
    let why = match provider.conflict.as_slice() {
        [] => {
            "no --provider, cluster.provider or provider-specific key in the manifests says which"
                .to_string()
        }
        hints => format!(
            "the manifests hold hints for {}",
            hints
                .iter()
                .map(|h| format!("{} ({})", h.provider.display(), describe_hint(manifests, h)))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    let skipped = if provider_rules.is_empty() {
        "no provider-specific rule had anything to check".to_string()
    } else {
        let rules: Vec<&str> = provider_rules.into_iter().collect();
        format!(
            "{} provider-specific rule{} ({}) {} skipped on {} object{}",
            rules.len(),
            if rules.len() == 1 { "" } else { "s" },
            rules.join(", "),
            if rules.len() == 1 { "was" } else { "were" },
            provider_objects.len(),
            if provider_objects.len() == 1 { "" } else { "s" },
        )
    };
    findings.push(
        Finding::of::<ProviderUnknown>(
            String::new(),
            format!("the provider is unknown ({why}): {skipped}"),
        )
        .with_help("set it with `--provider gke|eks|aks|openshift|generic` or `cluster.provider` in .kubectl-vllm.yaml"),
    );
}

/// `a`, `a and b`, `a, b and c`.
fn join_rules(rules: &[&str]) -> String {
    match rules {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
