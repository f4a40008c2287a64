//! The objects of a [`Plan`], as commented YAML: each choice that is not obvious says why, and
//! names the rule it satisfies. Placeholders the user must fill are valid values marked
//! `# REPLACE`, so the set lints clean as printed.

use std::fmt::Write as _;

use crate::plan::{Plan, Selector, Storage, Target};

/// One object: the file it is written to with `--output-dir`, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// File name (`deployment.yaml`).
    pub file: &'static str,
    /// The YAML document, comments included.
    pub text: String,
}

/// Where the model's files are mounted.
const MODELS: &str = "/models";

/// vLLM's port.
const PORT: u16 = 8000;

/// Rounds MiB up to whole GiB.
fn gib(mib: u64) -> u64 {
    mib.div_ceil(1024)
}

/// The `metadata:` block of an object.
fn metadata(name: &str, namespace: Option<&str>, indent: &str) -> String {
    let mut out = format!("{indent}name: {name}\n");
    if let Some(ns) = namespace {
        let _ = writeln!(out, "{indent}namespace: {ns}");
    }
    out
}

impl Plan {
    /// Whether vLLM downloads the weights from Hugging Face (no bucket, no preloaded disk).
    fn downloads(&self) -> bool {
        match self.request.storage {
            Storage::HfDownload => true,
            Storage::Pvc => self.request.bucket.is_none(),
            Storage::PreloadedPv | Storage::Gcsfuse => false,
        }
    }

    /// Whether the pod reads Cloud Storage (its service account needs Workload Identity).
    fn reads_bucket(&self) -> bool {
        self.request.bucket.is_some()
    }

    /// Disk size for the weights: 25% over them (tokenizer, config, filesystem), at least 10 GiB.
    fn disk_gib(&self) -> u64 {
        gib(self.model.weights_mib * 5 / 4).max(10)
    }

    /// The memory-backed /dev/shm: 2 GiB per GPU, at most 20 GiB (`shm-size`).
    fn shm_gib(&self) -> u64 {
        (2 * u64::from(self.gpus)).min(20)
    }

    /// Seconds the startup probe allows: five minutes, plus the weights read at 100 MiB/s, plus
    /// the download at 50 MiB/s when vLLM downloads them.
    fn startup_seconds(&self) -> u64 {
        let mut seconds = 300 + self.model.weights_mib / 100;
        if self.downloads() {
            seconds += self.model.weights_mib / 50;
        }
        seconds
    }

    /// The bucket's name and the path in it.
    fn bucket(&self) -> Option<(&str, &str)> {
        let rest = self.request.bucket.as_deref()?.strip_prefix("gs://")?;
        Some(
            rest.split_once('/')
                .map_or((rest, ""), |(b, p)| (b, p.trim_end_matches('/'))),
        )
    }
}

/// The objects of `plan`, in the order they are applied.
#[must_use]
pub fn objects(plan: &Plan, name: &str, namespace: Option<&str>) -> Vec<Object> {
    let mut out = Vec::new();
    let provider = plan.request.provider;
    if plan.request.storage == Storage::Pvc && provider != Target::Generic {
        out.push(Object {
            file: "storage-class.yaml",
            text: storage_class(provider, name),
        });
    }
    out.push(Object {
        file: "service-account.yaml",
        text: service_account(plan, name, namespace),
    });
    if plan.request.storage == Storage::PreloadedPv {
        out.push(Object {
            file: "persistent-volume.yaml",
            text: persistent_volume(plan, name, namespace),
        });
    }
    if matches!(plan.request.storage, Storage::Pvc | Storage::PreloadedPv) {
        out.push(Object {
            file: "persistent-volume-claim.yaml",
            text: claim(plan, name, namespace),
        });
    }
    out.push(Object {
        file: "deployment.yaml",
        text: deployment(plan, name, namespace),
    });
    out.push(Object {
        file: "service.yaml",
        text: service(name, namespace),
    });
    out
}

fn storage_class(provider: Target, name: &str) -> String {
    let (comment, provisioner, parameters) = match provider {
        Target::Gke => (
            "Balanced persistent disks (sc-pd-standard-for-weights: pd-standard loads weights slowly)",
            "pd.csi.storage.gke.io",
            "  type: pd-balanced\n",
        ),
        Target::Eks => ("gp3 EBS volumes", "ebs.csi.aws.com", "  type: gp3\n"),
        _ => (
            "Premium SSD managed disks",
            "disk.csi.azure.com",
            "  skuName: Premium_LRS\n",
        ),
    };
    format!(
        "# {comment}, created in the zone of the GPU node that first mounts them\n\
         # (sc-binding-mode: WaitForFirstConsumer, or the disk may land in a zone without the GPU).\n\
         apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: {name}-weights\n\
         provisioner: {provisioner}\nparameters:\n{parameters}volumeBindingMode: WaitForFirstConsumer\n\
         allowVolumeExpansion: true\nreclaimPolicy: Delete\n"
    )
}

fn service_account(plan: &Plan, name: &str, namespace: Option<&str>) -> String {
    let mut out = String::new();
    if plan.reads_bucket() {
        out.push_str(
            "# Reads the model bucket through Workload Identity Federation for GKE (wi-ksa-annotation):\n\
             # grant this Google service account roles/storage.objectViewer on the bucket and let the\n\
             # Kubernetes service account impersonate it (roles/iam.workloadIdentityUser).\n",
        );
    } else {
        out.push_str("# The pod's own identity (it reaches no cloud API).\n");
    }
    out.push_str("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n");
    out.push_str(&metadata(name, namespace, "  "));
    if plan.reads_bucket() {
        let _ = writeln!(
            out,
            "  annotations:\n    # REPLACE my-project with your project id (and the account, if yours has another name).\n    iam.gke.io/gcp-service-account: {name}-reader@my-project.iam.gserviceaccount.com"
        );
    }
    out
}

fn persistent_volume(plan: &Plan, name: &str, namespace: Option<&str>) -> String {
    let size = plan.disk_gib();
    format!(
        "# A Compute Engine disk loaded with the model's files beforehand (its root is the model\n\
         # directory). pv-pvc-static-binding: class, size, access mode and claimRef match the claim.\n\
         apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: {name}-weights\nspec:\n  capacity:\n    storage: {size}Gi\n\
         \x20 accessModes:\n  - ReadWriteOnce\n  persistentVolumeReclaimPolicy: Retain  # never delete the loaded disk with the claim\n\
         \x20 storageClassName: \"\"                   # classless: no dynamic provisioning\n  claimRef:\n    namespace: {ns}\n    name: {name}-weights\n\
         \x20 csi:\n    driver: pd.csi.storage.gke.io\n    # REPLACE my-project, the zone and the disk name with your disk's.\n\
         \x20   volumeHandle: projects/my-project/zones/us-central1-a/disks/{name}-weights\n    fsType: ext4\n    readOnly: true\n\
         \x20 nodeAffinity:\n    required:\n      nodeSelectorTerms:\n      - matchExpressions:\n        - key: topology.gke.io/zone\n          operator: In\n          values:\n          - us-central1-a  # REPLACE with the disk's zone\n",
        ns = namespace.unwrap_or("default"),
    )
}

fn claim(plan: &Plan, name: &str, namespace: Option<&str>) -> String {
    let size = plan.disk_gib();
    let mut out = format!(
        "# The model's weights ({} MiB) and 25% room (pvc-size-too-small).\n",
        plan.model.weights_mib
    );
    out.push_str("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n");
    out.push_str(&metadata(&format!("{name}-weights"), namespace, "  "));
    out.push_str("spec:\n  accessModes:\n  - ReadWriteOnce\n");
    match (plan.request.storage, plan.request.provider) {
        (Storage::PreloadedPv, _) => {
            let _ = writeln!(
                out,
                "  storageClassName: \"\"\n  volumeName: {name}-weights"
            );
        }
        (_, Target::Generic) => {
            out.push_str(
                "  # No storageClassName: the cluster's default StorageClass provisions it.\n",
            );
        }
        _ => {
            let _ = writeln!(out, "  storageClassName: {name}-weights");
        }
    }
    let _ = writeln!(out, "  resources:\n    requests:\n      storage: {size}Gi");
    out
}

fn service(name: &str, namespace: Option<&str>) -> String {
    let mut out = String::from("apiVersion: v1\nkind: Service\nmetadata:\n");
    out.push_str(&metadata(name, namespace, "  "));
    let _ = write!(
        out,
        "spec:\n  type: ClusterIP\n  selector:\n    app: {name}\n  ports:\n  - name: http\n    port: {PORT}\n    targetPort: http\n"
    );
    out
}

/// The model as vLLM is told it: a local path, or the Hugging Face id it downloads.
fn model_arg(plan: &Plan) -> String {
    match plan.request.storage {
        Storage::Gcsfuse | Storage::PreloadedPv => MODELS.to_string(),
        Storage::Pvc if plan.request.bucket.is_some() => {
            format!("{MODELS}/{}", short(&plan.model.id))
        }
        _ => plan.model.id.clone(),
    }
}

/// The model id's last part (`gemma-3-27b-it`).
fn short(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn deployment(plan: &Plan, name: &str, namespace: Option<&str>) -> String {
    let model = &plan.model;
    let gpu = &plan.accelerator;
    let n = plan.gpus;
    let replicas = plan.request.replicas;
    let mut o = format!(
        "# {id} on {n} × {gpu_name} ({mem} MiB each), {provider}, weights from {storage}.\n",
        id = model.id,
        gpu_name = gpu.name,
        mem = gpu.memory_mib,
        provider = plan.request.provider.name(),
        storage = plan.request.storage.name(),
    );
    o.push_str("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n");
    o.push_str(&metadata(name, namespace, "  "));
    let _ = writeln!(
        o,
        "  labels:\n    app: {name}\nspec:\n  replicas: {replicas}"
    );
    if replicas == 1 {
        o.push_str("  # rollout-strategy-gpu: a rolling update would start a second pod needing GPUs (and the\n  # ReadWriteOnce disk) before stopping this one.\n  strategy:\n    type: Recreate\n");
    } else {
        o.push_str("  # rollout-strategy-gpu: replace one pod at a time, never surge past the GPUs there are.\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 0\n      maxUnavailable: 1\n");
    }
    let _ = writeln!(
        o,
        "  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}"
    );
    if plan.request.storage == Storage::Gcsfuse {
        o.push_str(
            "      annotations:\n        gke-gcsfuse/volumes: \"true\"  # gcsfuse-annotation-missing: injects the FUSE sidecar\n\
             \x20       # gcsfuse-sidecar-resources: the sidecar's defaults are too small to stream the weights.\n\
             \x20       gke-gcsfuse/cpu-limit: \"0\"\n        gke-gcsfuse/memory-limit: \"0\"\n        gke-gcsfuse/ephemeral-storage-limit: \"0\"\n",
        );
    }
    let _ = writeln!(o, "    spec:\n      serviceAccountName: {name}");
    match &plan.selector {
        Selector::Gke(label) => {
            let _ = writeln!(
                o,
                "      nodeSelector:\n        # GKE's label value (gke-accel-value-invalid); a node pool of machines with {n} of them\n        # (gke-accel-count-unsupported).\n        cloud.google.com/gke-accelerator: {label}"
            );
        }
        Selector::InstanceType(t) => {
            let _ = writeln!(
                o,
                "      nodeSelector:\n        node.kubernetes.io/instance-type: {t}  # {n} × {} per node",
                gpu.name
            );
        }
        Selector::Product(p) => {
            let _ = writeln!(
                o,
                "      nodeSelector:\n        nvidia.com/gpu.product: {p}  # GPU feature discovery (NVIDIA GPU Operator)"
            );
        }
    }
    o.push_str(
        "      tolerations:\n      # GPU node pools are tainted so that only GPU pods land there (gke-gpu-toleration).\n      - key: nvidia.com/gpu\n        operator: Exists\n        effect: NoSchedule\n",
    );
    if plan.request.storage == Storage::Pvc
        && let Some((bucket, path)) = plan.bucket()
    {
        let dir = format!("{MODELS}/{}", short(&model.id));
        let source = if path.is_empty() {
            format!("gs://{bucket}")
        } else {
            format!("gs://{bucket}/{path}")
        };
        let exclude = if model.extra_folders.is_empty() {
            String::new()
        } else {
            format!(
                " --exclude=\"^({})/.*\"",
                model
                    .extra_folders
                    .iter()
                    .map(|f| f.trim_end_matches('/'))
                    .collect::<Vec<_>>()
                    .join("|")
            )
        };
        let _ = write!(
            o,
            "      initContainers:\n      # Copies the weights once (init-copy-not-idempotent: later starts find the marker and skip\n      # it), to the path vLLM loads (init-copy-path-mismatch){}.\n\
             \x20     - name: copy-model\n        image: google/cloud-sdk:499.0.0-slim\n        command: [\"/bin/sh\", \"-c\"]\n        args:\n        - >-\n\
             \x20         [ -f {dir}/.complete ] ||\n          (gcloud storage rsync --recursive{exclude} {source} {dir}\n          && touch {dir}/.complete)\n\
             \x20       resources:\n          requests:\n            cpu: \"1\"\n            memory: 2Gi\n          limits:\n            cpu: \"2\"\n            memory: 4Gi\n\
             \x20       volumeMounts:\n        - name: weights\n          mountPath: {MODELS}\n",
            if exclude.is_empty() {
                ""
            } else {
                ", without the folders vLLM does not load (init-copy-extra-weights)"
            }
        );
    }
    let _ = write!(
        o,
        "      containers:\n      - name: vllm\n        image: {image}  # a pinned release (image-tag-floating)\n\
         \x20       # The entrypoint, explicit: the image's own differs between releases (vllm-entrypoint-double-serve).\n\
         \x20       command: [\"vllm\", \"serve\"]\n        args:\n        - {model_arg}\n        - --served-model-name={id}\n",
        image = plan.image,
        model_arg = model_arg(plan),
        id = model.id,
    );
    let _ = writeln!(
        o,
        "        # One rank per GPU of the pod (vllm-tp-pp-gpu-mismatch); it divides the {} attention heads (vllm-tp-heads).\n        - --tensor-parallel-size={n}",
        model.attention_heads
    );
    let fits = if plan.request.max_model_len.is_some() {
        "as asked"
    } else {
        "the default"
    };
    let _ = writeln!(
        o,
        "        # {fits}: one {ctx}-token sequence's KV cache fits beside the weights (model-kv-for-max-len).\n        - --max-model-len={ctx}",
        ctx = plan.context
    );
    if plan.half {
        let _ = writeln!(
            o,
            "        # model-bf16-pre-ampere: the {} has no bfloat16; float16 runs the bfloat16 checkpoint.\n        - --dtype=half",
            gpu.name
        );
    }
    let _ = write!(
        o,
        "        - --host=0.0.0.0  # vllm-flag-host-localhost: reachable through the Service\n        - --port={PORT}\n        env:\n"
    );
    if plan.driver_path {
        o.push_str(
            "        # runtime-ld-library-path-gke: vLLM 0.9+ images lost GKE's driver directory from the path.\n        - name: LD_LIBRARY_PATH\n          value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64\n",
        );
    }
    if plan.downloads() {
        let _ = write!(
            o,
            "        # vLLM downloads the weights from Hugging Face into {where_}.\n        - name: HF_HOME\n          value: {MODELS}/huggingface\n",
            where_ = if plan.request.storage == Storage::Pvc {
                "the disk, once"
            } else {
                "the pod's ephemeral storage, at every start"
            }
        );
        if model.gated {
            o.push_str(
                "        # hf-gated-no-token: the repository is gated. Create the Secret first:\n        #   kubectl create secret generic hf-token --from-literal=token=hf_...\n        - name: HF_TOKEN\n          valueFrom:\n            secretKeyRef:\n              name: hf-token\n              key: token\n",
            );
        }
    } else {
        o.push_str(
            "        # hf-offline-local-path: the weights are local; never call the Hub.\n        - name: HF_HUB_OFFLINE\n          value: \"1\"\n",
        );
    }
    let shm = plan.shm_gib();
    let memory = 8 * u64::from(n) + shm;
    let cpu = 3 * n;
    let seconds = plan.startup_seconds();
    let threshold = seconds.div_ceil(10);
    let _ = write!(
        o,
        "        ports:\n        - name: http\n          containerPort: {PORT}\n\
         \x20       # res-cpu-mem-requests-missing: requests equal to limits; the memory holds /dev/shm ({shm} GiB).\n\
         \x20       resources:\n          requests:\n            cpu: \"{cpu}\"\n            memory: {memory}Gi\n{eph_req}\
         \x20         limits:\n            cpu: \"{cpu}\"\n            memory: {memory}Gi\n{eph_lim}            nvidia.com/gpu: {n}\n\
         \x20       # probe-liveness-without-startup: {seconds} s to load {weights} MiB of weights{dl} before anything\n\
         \x20       # else checks the server (no liveness probe: a loading server must not be killed).\n\
         \x20       startupProbe:\n          httpGet:\n            path: /health\n            port: http\n          periodSeconds: 10\n          failureThreshold: {threshold}\n\
         \x20       readinessProbe:  # probe-missing-readiness\n          httpGet:\n            path: /health\n            port: http\n          periodSeconds: 10\n\
         \x20       volumeMounts:\n        - name: weights\n          mountPath: {MODELS}\n{ro}\
         \x20       - name: dshm  # shm-missing: NCCL and the ranks need more than the 64 MiB default\n          mountPath: /dev/shm\n      volumes:\n",
        eph_req = if plan.request.storage == Storage::HfDownload {
            format!("            ephemeral-storage: {}Gi\n", plan.disk_gib())
        } else {
            String::new()
        },
        eph_lim = if plan.request.storage == Storage::HfDownload {
            format!("            ephemeral-storage: {}Gi\n", plan.disk_gib())
        } else {
            String::new()
        },
        weights = model.weights_mib,
        dl = if plan.downloads() {
            " (and download them)"
        } else {
            ""
        },
        ro = if plan.downloads() {
            ""
        } else {
            "          readOnly: true\n"
        },
    );
    match plan.request.storage {
        Storage::Pvc | Storage::PreloadedPv => {
            let _ = writeln!(
                o,
                "      - name: weights\n        persistentVolumeClaim:\n          claimName: {name}-weights"
            );
        }
        Storage::HfDownload => {
            let _ = writeln!(
                o,
                "      - name: weights\n        emptyDir:\n          sizeLimit: {}Gi",
                plan.disk_gib()
            );
        }
        Storage::Gcsfuse => {
            let (bucket, path) = plan.bucket().unwrap_or(("", ""));
            let only_dir = if path.is_empty() {
                String::new()
            } else {
                format!(",only-dir={path}")
            };
            let _ = writeln!(
                o,
                "      - name: weights\n        csi:\n          driver: gcsfuse.csi.storage.gke.io\n          readOnly: true\n          volumeAttributes:\n            bucketName: {bucket}\n            mountOptions: \"implicit-dirs{only_dir}\""
            );
        }
    }
    let _ = writeln!(
        o,
        "      - name: dshm\n        emptyDir:\n          medium: Memory\n          sizeLimit: {shm}Gi"
    );
    o
}
