use kubectl_vllm_sdk::prelude::*;

use crate::claims;

declare_rule! {
    /// ## What it does
    /// Notes a PVC holding model weights that requests more than 4 × what its model needs (see
    /// `pvc-size-too-small` for how the need is computed).
    ///
    /// ## Why is this bad?
    /// Persistent disks are billed by size: the field report asked 50Gi for a 1.9 GiB model and
    /// 200Gi for gpt-oss-20b. The counter-point: Persistent Disk throughput grows with size, so a
    /// larger pd-standard volume loads faster; choose the size on purpose.
    ///
    /// ## Example
    /// ```yaml
    /// # gemma-3-1b-it: 1.9 GiB of weights
    /// resources: {requests: {storage: 50Gi}}
    /// ```
    ///
    /// Use instead: `storage: 5Gi`, or keep 50Gi for its throughput and suppress this.
    ///
    /// The finding points at `spec.resources.requests.storage`.
    ///
    /// ## Fix safety
    /// No fix: a PVC cannot shrink, and size buys disk throughput.
    ///
    /// ## Source
    /// Catalogue §1.3 (sizes) and §1.4 (throughput per GiB).
    ///
    /// - <https://cloud.google.com/compute/docs/disks/performance>
    pub struct PvcSizeWaste {
        id: "pvc-size-waste",
        severity: Info,
        fix: None,
        summary: "a PVC for model weights is more than 4 times the model",
    }
}

impl Rule for PvcSizeWaste {
    const KINDS: Kinds = Kinds::Only(&["PersistentVolumeClaim"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "PersistentVolumeClaim" {
            return;
        }
        let claim = cx.name();
        if claim.is_empty() {
            return;
        }
        let at = Pointer::from_path("/spec/resources/requests/storage");
        let Some(requested) = cx.object.pointer(at.as_str()).and_then(quantity::bytes) else {
            return;
        };
        let uses = claims::users(cx, claim);
        let Some(need) = claims::requirement(&uses) else {
            return;
        };
        let (Some(model), Some(needed)) = (&need.model, need.required_bytes()) else {
            return;
        };
        if requested <= 4 * needed {
            return;
        }
        out.report(
            &at,
            format!(
                "PVC `{claim}` requests {} for {} which needs about {}",
                quantity::human(requested),
                model.id,
                quantity::human(needed)
            ),
        )
        .help(format!("{} would do; larger pd-standard/pd-balanced disks read faster, so keep it if that is the point", quantity::gib_ceil(needed)));
    }
}
