use kubectl_vllm_sdk::prelude::*;

use crate::claims;

declare_rule! {
    /// ## What it does
    /// Finds a Deployment that mounts a ReadWriteOnce (or ReadWriteOncePod) PVC of the input set
    /// with more than one replica (error), or with one replica and the default `RollingUpdate`
    /// strategy (warning).
    ///
    /// ## Why is this bad?
    /// A second pod on another node cannot attach the disk: `Multi-Attach error for volume ...
    /// Volume is already exclusively attached to one node`, and it sits in ContainerCreating. A
    /// rolling update creates exactly such a second pod (which also needs spare GPUs), so the
    /// rollout deadlocks with both pods pending.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 1          # no strategy: RollingUpdate
    /// ```
    ///
    /// Use instead: `strategy: {type: Recreate}`; for several replicas, a ReadOnlyMany Hyperdisk ML
    /// volume, GCS FUSE, or a StatefulSet with `volumeClaimTemplates`.
    ///
    /// The finding points at `replicas` (several replicas), else at `strategy`, else at `spec`.
    ///
    /// ## Fix safety
    /// Unsafe, for one replica: `strategy: {type: Recreate}`. Each update then stops the serving
    /// pod before its successor loads the model (downtime) instead of hanging with both; that
    /// changes availability, so it is not applied without `--unsafe-fixes`. No fix for several
    /// replicas. A strategy whose maxUnavailable is 1 or more is not reported: the old pod goes
    /// first and releases the volume.
    ///
    /// ## Source
    /// Kubernetes "Persistent Volumes: Access Modes"; vllm-project/production-stack V100 example
    /// ("Recreate is REQUIRED for multi-GPU deployments").
    ///
    /// - <https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes>
    /// - <https://github.com/vllm-project/production-stack/blob/main/tutorials/assets/values-25-v100-multi-gpu-tp2.yaml>
    pub struct PvcRwoMultiReplica {
        id: "pvc-rwo-multi-replica",
        severity: Error,
        fix: Sometimes(Unsafe),
        summary: "a ReadWriteOnce PVC shared by several pods, or by a rolling update",
    }
}

/// The first ReadWriteOnce(Pod) claim of the set the Deployment mounts.
pub fn rwo_claim(cx: &Context) -> Option<String> {
    let spec = k8s::pod_spec(cx.kind(), cx.object)?;
    spec.claim_names().into_iter().find_map(|claim| {
        let pvc = cx.env.get("PersistentVolumeClaim", cx.namespace(), claim)?;
        claims::access_modes(&pvc)
            .iter()
            .any(|m| m == "ReadWriteOnce" || m == "ReadWriteOncePod")
            .then(|| claim.to_string())
    })
}

/// Whether a Deployment's rolling update waits for a surge pod before it removes an old one:
/// `RollingUpdate` (the default) whose effective maxSurge is above 0 and maxUnavailable is 0.
/// As the Deployment controller computes them, from `replicas`: maxSurge rounds up, maxUnavailable
/// rounds down (both default to 25%), and when both come to 0 maxUnavailable becomes 1. With
/// maxUnavailable of 1 or more the old pod goes first and frees its GPU and its volume.
pub fn surges(object: &Value) -> bool {
    let strategy = object
        .pointer("/spec/strategy/type")
        .and_then(Value::as_str)
        .unwrap_or("RollingUpdate");
    if strategy != "RollingUpdate" {
        return false;
    }
    let replicas = object
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let resolve = |field: &str, round_up: bool| -> Option<u64> {
        let value = object.pointer(&format!("/spec/strategy/rollingUpdate/{field}"));
        let value = value.cloned().unwrap_or_else(|| json!("25%"));
        match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => {
                let percent: u64 = s.trim().strip_suffix('%')?.parse().ok()?;
                let scaled = replicas * percent;
                Some(if round_up {
                    scaled.div_ceil(100)
                } else {
                    scaled / 100
                })
            }
            _ => None,
        }
    };
    let (Some(surge), Some(unavailable)) =
        (resolve("maxSurge", true), resolve("maxUnavailable", false))
    else {
        return false; // not a valid strategy: the API server says so
    };
    surge > 0 && unavailable == 0
}

impl Rule for PvcRwoMultiReplica {
    const KINDS: Kinds = Kinds::Only(&["Deployment"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        if cx.kind() != "Deployment" {
            return;
        }
        let Some(claim) = rwo_claim(cx) else { return };
        let replicas = cx
            .object
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        if replicas > 1 {
            out.report(
                &Pointer::from_path("/spec/replicas"),
                format!("{replicas} replicas share the ReadWriteOnce PVC `{claim}`: all but one stay in ContainerCreating (Multi-Attach error)"),
            )
            .help("use one replica, a ReadOnlyMany volume, GCS FUSE, or a StatefulSet with volumeClaimTemplates");
            return;
        }
        if !surges(cx.object) {
            return;
        }
        let at = if cx.object.pointer("/spec/strategy").is_some() {
            Pointer::from_path("/spec/strategy")
        } else {
            Pointer::from_path("/spec")
        };
        out.report(&at, format!("a rolling update starts a second pod that cannot attach the ReadWriteOnce PVC `{claim}`"))
            .severity(Severity::Warning)
            .help("use strategy: {type: Recreate}")
            .fix("use the Recreate strategy", |fix| {
                fix.set_key(cx.object, &Pointer::from_path("/spec"), "strategy", json!({"type": "Recreate"}));
            });
    }
}
