use kubectl_vllm_sdk::prelude::*;

/// Where GKE mounts the host's NVIDIA driver libraries.
const DRIVER_DIR: &str = "/usr/local/nvidia/lib64";
/// The documented workaround for vLLM images from 0.9.0 (vllm-project/vllm#23935), for an image
/// whose own value the table does not know exactly.
const WORKAROUND: &str = "/usr/local/nvidia/lib64:/usr/local/cuda/lib64";

declare_rule! {
    /// ## What it does
    /// Checks that a vLLM container requesting NVIDIA GPUs on GKE finds the node's driver: its
    /// `LD_LIBRARY_PATH` (its own env, else the image's, from the image table) must contain
    /// `/usr/local/nvidia/lib64`.
    ///
    /// ## Why is this bad?
    /// GKE mounts the node's NVIDIA driver at `/usr/local/nvidia/lib64`. Images built on NVIDIA's
    /// CUDA base images carry it in `LD_LIBRARY_PATH`; vLLM's own images from v0.9.0 (CUDA 12.8)
    /// dropped it, and then start without a GPU: `No platform detected, vLLM is running on
    /// UnspecifiedPlatform`, `torch.cuda.is_available() == False`, `Device string must not be
    /// empty` or CUDA error 803. The field report hit this with `vllm/vllm-openai:latest`.
    ///
    /// The image table says which images lack the path (older vLLM images and NVIDIA's NGC vLLM
    /// images have it); a floating tag (`:latest`) is taken as the newest release, and the message
    /// says so. An image the table does not know is never reported, nor is a container whose
    /// variable comes from a Secret or ConfigMap the set lacks, or whose shell script sets
    /// `LD_LIBRARY_PATH` itself.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   image: vllm/vllm-openai:v0.10.1
    ///   resources:
    ///     limits:
    ///       nvidia.com/gpu: 1
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    /// - name: vllm
    ///   image: vllm/vllm-openai:v0.10.1
    ///   env:
    ///   - name: LD_LIBRARY_PATH
    ///     value: /usr/local/nvidia/lib64:/usr/local/cuda/lib64
    ///   resources:
    ///     limits:
    ///       nvidia.com/gpu: 1
    /// ```
    ///
    /// The finding points at the variable's `value` when it is set, else at `env`, else at the
    /// container. Only GKE is checked.
    ///
    /// ## Fix safety
    /// Safe when the container sets the variable (the fix puts `/usr/local/nvidia/lib64` in front
    /// of its value) or the image table knows the image's exact value (the fix sets the driver
    /// directory followed by that value): nothing else on the path changes. Unsafe when only the
    /// lack is known: the fix then sets the documented workaround
    /// `/usr/local/nvidia/lib64:/usr/local/cuda/lib64`, which replaces the image's own value.
    ///
    /// ## Source
    /// Field report, "Problem 2: Container Image and Driver Incompatibility"; vllm-project/vllm
    /// #18859, #19184, #23935; GKE "Run GPUs in GKE Standard node pools" (CUDA libraries); the
    /// image table (`kubectl vllm facts`).
    ///
    /// - <https://github.com/vllm-project/vllm/issues/23935>
    /// - <https://cloud.google.com/kubernetes-engine/docs/how-to/gpus>
    pub struct RuntimeLdLibraryPathGke {
        id: "runtime-ld-library-path-gke",
        severity: Error,
        fix: Always(Safe),
        providers: [Gke],
        summary: "a GPU vLLM container on GKE cannot find the node's NVIDIA driver (LD_LIBRARY_PATH)",
    }
}

/// Whether a search path holds the driver directory.
fn has_driver_dir(path: &str) -> bool {
    path.split(':')
        .any(|p| p.trim_end_matches('/') == DRIVER_DIR)
}

/// The path with the driver directory in front.
fn with_driver_dir(path: &str) -> String {
    if path.is_empty() {
        DRIVER_DIR.to_string()
    } else {
        format!("{DRIVER_DIR}:{path}")
    }
}

impl Rule for RuntimeLdLibraryPathGke {
    const SERVERS: Servers = Servers::Complete;

    fn check_server(
        &self,
        cx: &Context,
        _spec: &PodSpec<'_>,
        server: &Server<'_>,
        out: &mut Findings,
    ) {
        let container = &server.container;
        if container.nvidia_devices() == 0 {
            return;
        }
        // A script that sets the variable itself is trusted to know its image.
        if vllm::words(container)
            .iter()
            .any(|w| w.in_shell() && w.text.contains("LD_LIBRARY_PATH="))
        {
            return;
        }
        let env_at = container.pointer.key("env");
        let own = container.env("LD_LIBRARY_PATH");
        let image = cx.env.image(container.image());
        // The path the container gets, exactly when known, and whether it holds the driver dir.
        let (current, value_at): (Option<String>, Option<Pointer>) = match own {
            Some((i, var)) => {
                let Some(value) = var.get("value").and_then(Value::as_str) else {
                    return; // from a Secret or ConfigMap: not known here
                };
                (Some(value.to_string()), Some(env_at.index(i).key("value")))
            }
            None => match server.vars.get("LD_LIBRARY_PATH") {
                Some(Some(value)) => (Some(value.to_string()), None),
                Some(None) => return,
                None if server.vars.is_open() => return,
                None => {
                    let Some(image) = &image else {
                        return; // an image the table does not know is never reported
                    };
                    if image.driver_dir != Some(false) {
                        return;
                    }
                    (image.ld_library_path.clone(), None)
                }
            },
        };
        if current.as_deref().is_some_and(has_driver_dir) {
            return;
        }
        let at = value_at.clone().unwrap_or_else(|| {
            if container.value.get("env").is_some() {
                env_at.clone()
            } else {
                container.pointer.clone()
            }
        });
        if !cx.check_provider(out, &at) {
            return;
        }
        let image_note = image.as_ref().map_or_else(String::new, |i| {
            let version = i
                .vllm_version
                .as_deref()
                .map_or_else(String::new, |v| format!("vLLM {v}, "));
            let cuda = i
                .cuda
                .as_deref()
                .map_or_else(String::new, |c| format!("CUDA {c}, "));
            let assumed = if i.assumed_newest {
                "; a floating tag is taken as the newest release"
            } else {
                ""
            };
            format!(
                " (`{}`: {version}{cuda}whose own LD_LIBRARY_PATH lacks it{assumed})",
                container.image()
            )
        });
        let (fixed, applicability) = match &current {
            Some(path) => (with_driver_dir(path), Applicability::Safe),
            None => (WORKAROUND.to_string(), Applicability::Unsafe),
        };
        match &value_at {
            Some(value_at) => {
                out
                .report(
                    value_at,
                    format!(
                        "LD_LIBRARY_PATH of container `{}` does not include {DRIVER_DIR}, where GKE mounts the NVIDIA driver",
                        container.name()
                    ),
                )
                .help(format!("set it to `{fixed}`"))
                .fix_as(applicability, format!("put {DRIVER_DIR} first in LD_LIBRARY_PATH"), |fix| {
                    fix.replace(value_at, &json!(fixed));
                });
            }
            None => {
                out
                .report(
                    &at,
                    format!(
                        "container `{}` requests GPUs on GKE, but its LD_LIBRARY_PATH lacks {DRIVER_DIR}{image_note}: vLLM will not find the NVIDIA driver",
                        container.name()
                    ),
                )
                .help(format!("add `LD_LIBRARY_PATH: {fixed}` to env"))
                .fix_as(applicability, format!("add LD_LIBRARY_PATH={fixed}"), |fix| {
                    fix.push(
                        cx.object,
                        &env_at,
                        json!({"name": "LD_LIBRARY_PATH", "value": fixed}),
                    );
                });
            }
        }
    }
}
