//! A seeded corpus of vLLM deployment sets: per set a Deployment, its Service, PersistentVolumeClaim,
//! ServiceAccount and ConfigMap (five documents, every name distinct), plus one StorageClass that
//! all claims use. Models, accelerators and tensor-parallel sizes vary over combinations that fit;
//! about one set in five carries a defect the policies report (missing `LD_LIBRARY_PATH`, no
//! `/dev/shm` for tensor parallelism, a GPU count that does not match the parallelism, a missing
//! GPU toleration), so the run does the work of reporting and locating findings too.

use std::fmt::Write as _;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Number of documents wanted; rounded up to whole sets (five documents each) plus the
    /// StorageClass.
    pub documents: usize,
    /// How many namespaces the sets are spread over (1: all in one).
    pub namespaces: usize,
    /// The seed of the variation.
    pub seed: u64,
}

impl Spec {
    /// Number of deployment sets.
    #[must_use]
    pub fn sets(&self) -> usize {
        self.documents
            .saturating_sub(1)
            .div_ceil(DOCUMENTS_PER_SET)
            .max(1)
    }
}

/// Documents in one set.
pub const DOCUMENTS_PER_SET: usize = 5;

/// A model the corpus deploys and the hardware it fits on.
struct Model {
    /// Short name used in object names.
    short: &'static str,
    /// The Hugging Face id (what `--model` names and the model table knows).
    id: &'static str,
    /// PVC size in GiB for the weights.
    disk_gib: u32,
    /// `--max-model-len`.
    max_len: u32,
    /// (accelerator, tensor-parallel size) pairs that hold weights and KV cache.
    shapes: &'static [(&'static str, u32)],
}

const MODELS: &[Model] = &[
    Model {
        short: "gemma-1b",
        id: "google/gemma-3-1b-it",
        disk_gib: 4,
        max_len: 8192,
        shapes: &[("nvidia-l4", 1), ("nvidia-tesla-a100", 1)],
    },
    Model {
        short: "gemma-27b",
        id: "google/gemma-3-27b-it",
        disk_gib: 80,
        max_len: 32768,
        shapes: &[("nvidia-tesla-a100", 4), ("nvidia-h100-80gb", 2)],
    },
    Model {
        short: "gpt-oss-20b",
        id: "openai/gpt-oss-20b",
        disk_gib: 45,
        max_len: 32768,
        shapes: &[("nvidia-h100-80gb", 1), ("nvidia-a100-80gb", 1)],
    },
    Model {
        short: "llama-8b",
        id: "meta-llama/Llama-3.1-8B-Instruct",
        disk_gib: 35,
        max_len: 8192,
        shapes: &[("nvidia-l4", 1), ("nvidia-l4", 2), ("nvidia-h100-80gb", 1)],
    },
    Model {
        short: "qwen-32b",
        id: "Qwen/Qwen3-32B",
        disk_gib: 100,
        max_len: 32768,
        shapes: &[("nvidia-h100-80gb", 2), ("nvidia-a100-80gb", 2)],
    },
    Model {
        short: "llama-70b",
        id: "meta-llama/Llama-3.1-70B-Instruct",
        disk_gib: 300,
        max_len: 16384,
        shapes: &[("nvidia-h100-80gb", 4), ("nvidia-a100-80gb", 4)],
    },
];

/// A deliberate mistake in a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Defect {
    None,
    NoLdLibraryPath,
    NoShm,
    GpuCountMismatch,
    NoToleration,
}

/// splitmix64: small, seedable, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The corpus as YAML documents, in order: the StorageClass, then each set's five documents.
#[must_use]
pub fn documents(spec: &Spec) -> Vec<String> {
    let mut rng = Rng(spec.seed);
    let mut out = Vec::with_capacity(spec.sets() * DOCUMENTS_PER_SET + 1);
    out.push(STORAGE_CLASS.to_string());
    for index in 0..spec.sets() {
        let model = &MODELS[rng.below(MODELS.len())];
        let (accelerator, tp) = model.shapes[rng.below(model.shapes.len())];
        let defect = match rng.below(20) {
            0 => Defect::NoLdLibraryPath,
            1 => Defect::NoShm,
            2 => Defect::GpuCountMismatch,
            3 => Defect::NoToleration,
            _ => Defect::None,
        };
        let set = Set {
            name: format!("vllm-{index:06}-{}", model.short),
            namespace: format!("team-{:04}", index % spec.namespaces.max(1)),
            model,
            accelerator,
            tp,
            defect,
        };
        set.write(&mut out);
    }
    out
}

/// The corpus split into files of at most `per_file` documents: `(file name, text)`.
#[must_use]
pub fn files(spec: &Spec, per_file: usize) -> Vec<(String, String)> {
    documents(spec)
        .chunks(per_file.max(1))
        .enumerate()
        .map(|(i, docs)| (format!("corpus-{i:05}.yaml"), docs.join("---\n")))
        .collect()
}

const STORAGE_CLASS: &str = "\
# Balanced persistent disks, created in the zone of the GPU node that first mounts them.
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: vllm-models
provisioner: pd.csi.storage.gke.io
parameters:
  type: pd-balanced
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
reclaimPolicy: Delete
";

struct Set<'a> {
    name: String,
    namespace: String,
    model: &'a Model,
    accelerator: &'a str,
    tp: u32,
    defect: Defect,
}

impl Set<'_> {
    fn write(&self, out: &mut Vec<String>) {
        let Self {
            name, namespace, ..
        } = self;
        out.push(format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}-sa\n  namespace: {namespace}\n  \
             annotations:\n    iam.gke.io/gcp-service-account: vllm-gcs-reader@my-project.iam.gserviceaccount.com\n"
        ));
        out.push(format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-config\n  namespace: {namespace}\n\
             data:\n  VLLM_LOGGING_LEVEL: INFO\n  HF_HUB_OFFLINE: \"1\"\n"
        ));
        out.push(format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}-models\n  namespace: {namespace}\n\
             spec:\n  accessModes:\n  - ReadWriteOnce\n  storageClassName: vllm-models\n  resources:\n    \
             requests:\n      storage: {}Gi\n",
            self.model.disk_gib
        ));
        out.push(self.deployment());
        out.push(format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  \
             type: ClusterIP\n  selector:\n    app: {name}\n  ports:\n  - name: http\n    port: 8000\n    \
             targetPort: http\n"
        ));
    }

    fn deployment(&self) -> String {
        let Self {
            name,
            namespace,
            model,
            accelerator,
            tp,
            defect,
        } = self;
        let dir = model.id.rsplit('/').next().unwrap_or(model.id);
        let gpus = if *defect == Defect::GpuCountMismatch {
            tp * 2
        } else {
            *tp
        };
        let memory = 16 * tp;
        let mut d = String::with_capacity(3000);
        let _ = write!(
            d,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  \
             labels:\n    app: {name}\nspec:\n  replicas: 1\n  # One replica on a ReadWriteOnce disk: never surge.\n  \
             strategy:\n    type: Recreate\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    \
             metadata:\n      labels:\n        app: {name}\n    spec:\n      serviceAccountName: {name}-sa\n      \
             nodeSelector:\n        cloud.google.com/gke-accelerator: {accelerator}\n"
        );
        if *defect != Defect::NoToleration {
            d.push_str(
                "      tolerations:\n      - key: nvidia.com/gpu\n        operator: Exists\n        effect: NoSchedule\n",
            );
        }
        let _ = write!(
            d,
            "      initContainers:\n      # Copies the weights once; later restarts find the marker and skip the copy.\n      \
             - name: copy-model\n        image: google/cloud-sdk:499.0.0-slim\n        command: [\"/bin/sh\", \"-c\"]\n        \
             args:\n        - >-\n          [ -f /models/{dir}/.complete ] ||\n          \
             (gcloud storage rsync --recursive gs://ai-llm-models/hf/{dir} /models/{dir}\n          \
             && touch /models/{dir}/.complete)\n        resources:\n          requests:\n            cpu: \"1\"\n            \
             memory: 2Gi\n          limits:\n            cpu: \"2\"\n            memory: 4Gi\n        volumeMounts:\n        \
             - name: model-cache\n          mountPath: /models\n      containers:\n      - name: vllm\n        \
             image: vllm/vllm-openai:v0.10.2\n        command: [\"python3\", \"-m\", \"vllm.entrypoints.openai.api_server\"]\n        \
             args:\n        - --model=/models/{dir}\n        - --served-model-name={id}\n        \
             - --tensor-parallel-size={tp}\n        - --max-model-len={len}\n        - --host=0.0.0.0\n        \
             - --port=8000\n        envFrom:\n        - configMapRef:\n            name: {name}-config\n        env:\n",
            id = model.id,
            len = model.max_len,
        );
        if *defect != Defect::NoLdLibraryPath {
            d.push_str(
                "        - name: LD_LIBRARY_PATH\n          value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64\n",
            );
        }
        let _ = write!(
            d,
            "        - name: HF_HUB_OFFLINE\n          value: \"1\"\n        ports:\n        - name: http\n          \
             containerPort: 8000\n        resources:\n          requests:\n            cpu: \"8\"\n            \
             memory: {memory}Gi\n          limits:\n            cpu: \"8\"\n            memory: {memory}Gi\n            \
             nvidia.com/gpu: {gpus}\n        startupProbe:\n          httpGet:\n            path: /health\n            \
             port: http\n          periodSeconds: 10\n          failureThreshold: 180\n        readinessProbe:\n          \
             httpGet:\n            path: /health\n            port: http\n          periodSeconds: 10\n        \
             volumeMounts:\n        - name: model-cache\n          mountPath: /models\n          readOnly: true\n"
        );
        let shm = *defect != Defect::NoShm;
        if shm {
            d.push_str("        - name: dshm\n          mountPath: /dev/shm\n");
        }
        let _ = write!(
            d,
            "      volumes:\n      - name: model-cache\n        persistentVolumeClaim:\n          claimName: {name}-models\n"
        );
        if shm {
            let _ = write!(
                d,
                "      - name: dshm\n        emptyDir:\n          medium: Memory\n          sizeLimit: {}Gi\n",
                2 * tp
            );
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_distinct_names() {
        let spec = Spec {
            documents: 1000,
            namespaces: 1,
            seed: 7,
        };
        let a = files(&spec, 100);
        assert_eq!(a, files(&spec, 100));
        assert_ne!(
            documents(&spec),
            documents(&Spec { seed: 8, ..spec }),
            "the seed varies the corpus"
        );
        let docs = documents(&spec);
        assert_eq!(docs.len(), 1001);
        let mut names: Vec<(String, String)> = docs
            .iter()
            .map(|d| {
                let kind = d.lines().find_map(|l| l.strip_prefix("kind: ")).unwrap();
                let name = d.lines().find_map(|l| l.strip_prefix("  name: ")).unwrap();
                (kind.to_string(), name.to_string())
            })
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), docs.len(), "every object has a distinct name");
    }

    #[test]
    fn every_document_loads_without_input_errors_and_defects_occur() {
        let spec = Spec {
            documents: 500,
            namespaces: 7,
            seed: 1,
        };
        let inputs: Vec<_> = files(&spec, 50);
        let mut manifests = kubectl_vllm_manifest::Manifests::default();
        for (name, text) in inputs {
            manifests.add_text(&name, text, &kubectl_vllm_manifest::LoadOptions::default());
        }
        assert!(manifests.errors.is_empty(), "{:?}", manifests.errors);
        assert_eq!(manifests.objects.len(), 501);
        let namespaces: std::collections::BTreeSet<_> = manifests
            .objects
            .iter()
            .filter_map(|o| o.reference.namespace.clone())
            .collect();
        assert_eq!(namespaces.len(), 7);
        let text = documents(&spec).concat();
        assert!(text.contains("nvidia.com/gpu: 2\n") && text.contains("tensor-parallel-size=1\n"));
        let no_shm = documents(&spec)
            .iter()
            .filter(|d| d.contains("kind: Deployment") && !d.contains("/dev/shm"))
            .count();
        assert!(no_shm > 0, "some sets carry defects");
    }
}
