use kubectl_vllm_sdk::prelude::*;

use crate::claims;

declare_rule! {
    /// ## What it does
    /// Finds a PVC that holds model weights (a workload of the set serves or copies a model onto
    /// it) on a `pd-standard` StorageClass.
    ///
    /// ## Why is this bad?
    /// pd-standard reads at 0.12 MiB/s per GiB: 6 MiB/s on 50Gi, 30 MiB/s on 250Gi. gpt-oss-120b
    /// takes about 35 minutes to copy and 35 more to load, long enough for probes to kill the pod.
    /// Some newer machine series reject pd-standard altogether.
    ///
    /// ## Example
    /// ```yaml
    /// kind: StorageClass
    /// parameters: {type: pd-standard}
    /// ```
    ///
    /// Use instead: `pd-balanced` or `pd-ssd` (`standard-rwo`, `premium-rwo`), or Hyperdisk ML for
    /// read-only weights shared by replicas.
    ///
    /// The finding points at the PVC's `storageClassName`, else its `spec`.
    ///
    /// ## Fix safety
    /// Unsafe: switches the claim to `standard-rwo` (pd-balanced), which costs more per GiB.
    ///
    /// ## Source
    /// Catalogue §1.4; GCE "Persistent Disk performance".
    ///
    /// - <https://cloud.google.com/compute/docs/disks/performance>
    pub struct ScPdStandardForWeights {
        id: "sc-pd-standard-for-weights",
        severity: Warning,
        fix: Always(Unsafe),
        providers: [Gke],
        summary: "model weights on a pd-standard disk load slowly",
    }
}

impl Rule for ScPdStandardForWeights {
    const KINDS: Kinds = Kinds::Only(&["PersistentVolumeClaim"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "PersistentVolumeClaim" {
            return;
        }
        let claim = cx.name();
        if claim.is_empty() {
            return;
        }
        let Some((class, Some(source))) = claims::class_of(cx, cx.object) else {
            return;
        };
        if source.disk_type().as_deref() != Some("pd-standard") {
            return;
        }
        let uses = claims::users(cx, claim);
        let Some(weights_user) = uses.iter().find(|u| u.reference.is_some()) else {
            return;
        };
        let size = cx
            .object
            .pointer("/spec/resources/requests/storage")
            .and_then(quantity::bytes)
            .unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let mib_per_s = (size / quantity::GIB) as f64 * 0.12;
        let class_at = Pointer::from_path("/spec/storageClassName");
        let at = if cx.object.pointer(class_at.as_str()).is_some() {
            class_at.clone()
        } else {
            Pointer::from_path("/spec")
        };
        if !cx.check_provider(out, &at) {
            return;
        }
        out.report(
            &at,
            format!(
                "{} loads `{}` from a pd-standard disk (StorageClass `{class}`, {}): about {mib_per_s:.0} MiB/s at this size",
                weights_user.owner,
                weights_user.reference.as_deref().unwrap_or_default(),
                source.origin()
            ),
        )
        .help("use pd-balanced or pd-ssd (standard-rwo, premium-rwo), or Hyperdisk ML")
        .fix("use StorageClass standard-rwo (pd-balanced)", |fix| {
            fix.set_key(cx.object, &Pointer::from_path("/spec"), "storageClassName", json!("standard-rwo"));
        });
    }
}
