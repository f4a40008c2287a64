use kubectl_vllm_sdk::prelude::*;

use crate::claims::access_modes;

declare_rule! {
    /// ## What it does
    /// Checks a pre-provisioned PersistentVolume and the PVC that binds it by `volumeName` (the
    /// field report's pre-loaded disk), when both are in the input set:
    /// 1. the PVC sets `storageClassName`, equal to the PV's (`""` for classless);
    /// 2. the PV's capacity covers the PVC's request;
    /// 3. the PVC's access modes are among the PV's, and `volumeMode` matches;
    /// 4. the PV's `claimRef`, when set, names this PVC;
    /// 5. a PD CSI PV has `volumeHandle` `projects/P/zones/Z/disks/D` (or `regions/R`), an
    ///    `fsType`, node affinity on the disk's zone, and `csi.readOnly: true` when ReadOnlyMany;
    /// 6. the PV is not `persistentVolumeReclaimPolicy: Delete`.
    ///
    /// ## Why is this bad?
    /// 1–4 leave the PVC Pending (a PVC without `storageClassName` gets the default class injected
    /// and never binds a classless PV). 5 fails the mount. 6 deletes the golden disk when the PVC
    /// is deleted.
    ///
    /// ## Example
    /// ```yaml
    /// kind: PersistentVolumeClaim
    /// spec:
    ///   volumeName: vllm-model-cache-pv     # but no storageClassName: ""
    /// ```
    ///
    /// Use instead: add `storageClassName: ""` (the PV's class).
    ///
    /// PVC findings point at the PVC field, PV findings at the PV field.
    ///
    /// ## Fix safety
    /// Safe for 1 (copy the PV's class into the PVC), 4 (point the PV's claimRef at the PVC) and 6
    /// (set Retain). No fix for 2, 3 and 5.
    ///
    /// ## Source
    /// Kubernetes "Persistent Volumes" (binding, class, reserving a PV); GKE "Using pre-existing
    /// persistent disks"; field report ("Pre-loading a Persistent Disk").
    ///
    /// - <https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reserving-a-persistentvolume>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/preexisting-pd>
    pub struct PvPvcStaticBinding {
        id: "pv-pvc-static-binding",
        severity: Error,
        fix: Sometimes(Safe),
        summary: "a pre-provisioned PV and its PVC do not match",
    }
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

impl Rule for PvPvcStaticBinding {
    const KINDS: Kinds = Kinds::Only(&["PersistentVolumeClaim", "PersistentVolume"]);

    fn check_object(&self, cx: &Context, out: &mut Findings) {
        match cx.kind() {
            "PersistentVolumeClaim" => check_claim(cx, out),
            "PersistentVolume" => check_volume(cx, out),
            _ => {}
        }
    }
}

fn check_claim(cx: &Context, out: &mut Findings) {
    let pvc = cx.object;
    let Some(volume_name) = text(pvc, "/spec/volumeName") else {
        return;
    };
    let Some(pv) = cx.env.get("PersistentVolume", None, volume_name) else {
        return;
    };
    let pv_class = text(&pv, "/spec/storageClassName").unwrap_or("");
    match text(pvc, "/spec/storageClassName") {
        None => {
            out.report(
                &Pointer::from_path("/spec/volumeName"),
                format!("this PVC sets no storageClassName, so the default class is injected and it will not bind PV `{volume_name}` (class \"{pv_class}\")"),
            )
            .help(format!("set storageClassName: \"{pv_class}\""))
            .fix(format!("set storageClassName: \"{pv_class}\""), |fix| {
                fix.add(&Pointer::from_path("/spec/storageClassName"), &json!(pv_class));
            });
        }
        Some(class) if class != pv_class => {
            let at = Pointer::from_path("/spec/storageClassName");
            out.report(&at, format!("storageClassName \"{class}\" differs from PV `{volume_name}`'s \"{pv_class}\": they will not bind"))
                .fix(format!("set storageClassName: \"{pv_class}\""), |fix| {
                    fix.replace(&at, &json!(pv_class));
                });
        }
        Some(_) => {}
    }
    let requested = pvc
        .pointer("/spec/resources/requests/storage")
        .and_then(quantity::bytes);
    let capacity = pv
        .pointer("/spec/capacity/storage")
        .and_then(quantity::bytes);
    if let (Some(requested), Some(capacity)) = (requested, capacity)
        && capacity < requested
    {
        out.report(
            &Pointer::from_path("/spec/resources/requests/storage"),
            format!(
                "the PVC requests {} but PV `{volume_name}` holds {}",
                quantity::human(requested),
                quantity::human(capacity)
            ),
        )
        .help("request at most the PV's capacity");
    }
    let pv_modes = access_modes(&pv);
    let missing: Vec<String> = access_modes(pvc)
        .into_iter()
        .filter(|m| !pv_modes.contains(m))
        .collect();
    if !missing.is_empty() {
        out.report(
            &Pointer::from_path("/spec/accessModes"),
            format!(
                "PV `{volume_name}` offers {} but the PVC asks for {}",
                pv_modes.join(", "),
                missing.join(", ")
            ),
        )
        .help("ask for access modes the PV has");
    }
    let mode = |v: &Value| {
        text(v, "/spec/volumeMode")
            .unwrap_or("Filesystem")
            .to_string()
    };
    if mode(pvc) != mode(&pv) {
        out.report(
            &Pointer::from_path("/spec"),
            format!(
                "volumeMode {} differs from PV `{volume_name}`'s {}",
                mode(pvc),
                mode(&pv)
            ),
        );
    }
}

fn check_volume(cx: &Context, out: &mut Findings) {
    let pv = cx.object;
    let name = cx.name();
    let claims = cx.env.mentioning("PersistentVolumeClaim", None, name);
    let Some(pvc) = claims
        .iter()
        .find(|c| text(c, "/spec/volumeName") == Some(name))
    else {
        return;
    };
    let pvc_name = text(pvc, "/metadata/name").unwrap_or("");
    let pvc_ns = text(pvc, "/metadata/namespace").unwrap_or("default");
    if let Some(claim_ref) = pv.pointer("/spec/claimRef") {
        let ref_name = text(claim_ref, "/name").unwrap_or("");
        let ref_ns = text(claim_ref, "/namespace").unwrap_or("default");
        if (ref_name, ref_ns) != (pvc_name, pvc_ns) {
            let at = Pointer::from_path("/spec/claimRef");
            out.report(
                &at,
                format!("claimRef reserves this PV for {ref_ns}/{ref_name}, but PVC {pvc_ns}/{pvc_name} binds it by volumeName"),
            )
            .fix(format!("reserve it for {pvc_ns}/{pvc_name}"), |fix| {
                fix.set_key(pv, &at, "name", json!(pvc_name));
                fix.set_key(pv, &at, "namespace", json!(pvc_ns));
            });
        }
    }
    if text(pv, "/spec/csi/driver") == Some("pd.csi.storage.gke.io") {
        let handle = text(pv, "/spec/csi/volumeHandle").unwrap_or("");
        let parts: Vec<&str> = handle.split('/').collect();
        let valid = parts.len() == 6
            && parts[0] == "projects"
            && matches!(parts[2], "zones" | "regions")
            && parts[4] == "disks"
            && parts.iter().all(|p| !p.is_empty());
        if !valid {
            out.report(
                &Pointer::from_path("/spec/csi/volumeHandle"),
                format!("volumeHandle `{handle}` is not projects/PROJECT/zones/ZONE/disks/DISK: the disk cannot be attached"),
            );
        }
        if valid && parts[2] == "zones" {
            let zone = parts[3];
            let required: Vec<&str> = pv
                .pointer("/spec/nodeAffinity/required/nodeSelectorTerms")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|term| term.get("matchExpressions")?.as_array())
                .flatten()
                .filter(|e| {
                    matches!(
                        e.get("key").and_then(Value::as_str),
                        Some("topology.gke.io/zone" | "topology.kubernetes.io/zone")
                    )
                })
                .flat_map(|e| {
                    e.get("values")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                })
                .filter_map(Value::as_str)
                .collect();
            if !required.is_empty() && !required.contains(&zone) {
                out.report(
                    &Pointer::from_path("/spec/nodeAffinity"),
                    format!("the disk is in {zone} but the PV's node affinity requires {}: volume node affinity conflict", required.join(", ")),
                );
            }
        }
        let read_only_many = access_modes(pv).iter().any(|m| m == "ReadOnlyMany");
        if read_only_many && pv.pointer("/spec/csi/readOnly").and_then(Value::as_bool) != Some(true)
        {
            out.report(&Pointer::from_path("/spec/csi"), "a ReadOnlyMany PD must be attached with csi.readOnly: true to mount on several nodes")
                .help("set csi.readOnly: true");
        }
        if pv.pointer("/spec/csi/fsType").is_none() {
            out.report(
                &Pointer::from_path("/spec/csi"),
                "the PD CSI volume sets no fsType",
            )
            .help("set fsType: ext4 (the filesystem the disk was formatted with)");
        }
    }
    if text(pv, "/spec/persistentVolumeReclaimPolicy") == Some("Delete") {
        let at = Pointer::from_path("/spec/persistentVolumeReclaimPolicy");
        out.report(
            &at,
            format!("deleting PVC `{pvc_name}` would delete this pre-loaded disk"),
        )
        .help("keep pre-loaded disks with Retain")
        .fix("set persistentVolumeReclaimPolicy: Retain", |fix| {
            fix.replace(&at, &json!("Retain"));
        });
    }
}
