use kubectl_vllm_sdk::prelude::*;

use super::pvc_rwo_multi_replica::{rwo_claim, surges};

declare_rule! {
    /// ## What it does
    /// Finds a GPU Deployment whose rolling update must start a surge pod before it may stop an
    /// old one: `RollingUpdate` with an effective maxSurge above 0 and maxUnavailable of 0 (the
    /// default 25% / 25% rounds to that below 4 replicas), when no ReadWriteOnce claim is involved
    /// (`pvc-rwo-multi-replica` covers that case).
    ///
    /// ## Why is this bad?
    /// The surge pod needs as many GPUs as a serving pod. GPU pools rarely keep spare GPUs, so the
    /// new pod stays Pending and the rollout never finishes (or triggers an expensive scale-up).
    /// With maxUnavailable of 1 or more, the controller stops an old pod first and its GPUs go to
    /// the new one, so that is not reported.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 2
    ///   # strategy defaults to RollingUpdate with maxSurge 25% (1) and maxUnavailable 25% (0)
    /// ```
    ///
    /// Use instead: `strategy: {type: Recreate}` for one replica; `rollingUpdate: {maxSurge: 0,
    /// maxUnavailable: 1}` for several.
    ///
    /// The finding points at `strategy`, else at `spec`.
    ///
    /// ## Fix safety
    /// Unsafe: Recreate for one replica, maxSurge 0 / maxUnavailable 1 for several. Either way an
    /// update then takes serving capacity down while the new pods load the model, which is a
    /// change in availability beyond the repair.
    ///
    /// ## Source
    /// Kubernetes "Deployments: Strategy" (maxSurge rounds up, maxUnavailable down);
    /// production-stack (maxSurge 100% default, Recreate for multi-GPU).
    ///
    /// - <https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#strategy>
    pub struct RolloutStrategyGpu {
        id: "rollout-strategy-gpu",
        severity: Warning,
        fix: Always(Unsafe),
        summary: "a GPU Deployment's rolling update needs spare GPUs",
    }
}

impl Rule for RolloutStrategyGpu {
    const KINDS: Kinds = Kinds::Only(&["Deployment"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "Deployment" || !surges(cx.object) || rwo_claim(cx).is_some() {
            return;
        }
        let Some(spec) = cx.pod_spec() else { return };
        let gpus = spec.device_count();
        if gpus == 0 {
            return;
        }
        let replicas = cx
            .object
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let at = if cx.object.pointer("/spec/strategy").is_some() {
            Pointer::from_path("/spec/strategy")
        } else {
            Pointer::from_path("/spec")
        };
        let (title, strategy) = if replicas <= 1 {
            ("use the Recreate strategy", json!({"type": "Recreate"}))
        } else {
            (
                "replace pods one at a time (maxSurge 0, maxUnavailable 1)",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
            )
        };
        out.report(
            &at,
            format!("each rolling update starts an extra pod that needs {gpus} more accelerators before it stops an old one"),
        )
        .help("let an old pod go first: maxUnavailable: 1 (with maxSurge: 0), or Recreate")
        .fix(title, |fix| {
            fix.set_key(
                cx.object,
                &Pointer::from_path("/spec"),
                "strategy",
                strategy.clone(),
            );
        });
    }
}
