//! The copy initContainer of the field report: `gcloud storage cp|rsync` or `gsutil [-m]
//! cp|rsync` from `gs://` into a volume, read from the container's command line.

use kubectl_vllm_sdk::prelude::*;
use kubectl_vllm_sdk::vllm::{Word, words};

/// One copy command.
pub struct Copy<'a> {
    /// The initContainer.
    pub container: Container<'a>,
    /// `gsutil` or `gcloud`.
    pub tool: Word,
    /// `cp` or `rsync`.
    pub verb: Word,
    /// The `gs://` source.
    pub source: Word,
    /// The destination.
    pub dest: Option<Word>,
    /// `-r`/`-R`/`--recursive`.
    pub recursive: bool,
    /// `-x`/`--exclude`.
    pub excludes: bool,
    /// The script checks for an existing copy (`[ -f ... ]`, `test`, `if`).
    pub guarded: bool,
}

impl Copy<'_> {
    /// Where the files land: `rsync` writes into the destination; `cp -r` into a directory puts
    /// the source directory inside it.
    pub fn target_dir(&self) -> Option<String> {
        let dest = self.dest.as_ref()?.text.trim_end_matches('/').to_string();
        if self.verb.text == "cp" && self.recursive {
            let base = self
                .source
                .text
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            let into_dir = self.dest.as_ref()?.text.ends_with('/')
                || self
                    .container
                    .value
                    .get("volumeMounts")
                    .and_then(Value::as_array)
                    .is_some_and(|m| {
                        m.iter().any(|m| {
                            m.get("mountPath")
                                .and_then(Value::as_str)
                                .map(|p| p.trim_end_matches('/'))
                                == Some(dest.as_str())
                        })
                    });
            if into_dir {
                return Some(format!("{dest}/{base}"));
            }
        }
        Some(dest)
    }
}

/// Copy commands in the pod's initContainers.
pub fn copies<'a>(spec: &PodSpec<'a>) -> Vec<Copy<'a>> {
    let mut out = Vec::new();
    for container in spec.containers().into_iter().filter(|c| c.init) {
        let all = words(&container);
        let guarded = all
            .iter()
            .any(|w| matches!(w.text.as_str(), "[" | "[[" | "test" | "if"));
        let mut at = 0;
        while at < all.len() {
            let word = &all[at];
            let (tool, mut next) = if word.text == "gsutil" || word.text.ends_with("/gsutil") {
                (word.clone(), at + 1)
            } else if word.text == "gcloud" && all.get(at + 1).is_some_and(|n| n.text == "storage")
            {
                (word.clone(), at + 2)
            } else {
                at += 1;
                continue;
            };
            while all.get(next).is_some_and(|flag| flag.text.starts_with('-')) {
                next += 1; // gsutil's own flags (-m, -q)
            }
            let Some(verb) = all
                .get(next)
                .filter(|v| v.text == "cp" || v.text == "rsync")
                .cloned()
            else {
                at = next.max(at + 1);
                continue;
            };
            let mut recursive = false;
            let mut excludes = false;
            let mut positional = Vec::new();
            let mut rest = next + 1;
            while let Some(arg) = all.get(rest) {
                if arg.text == ";" {
                    break;
                }
                match arg.text.as_str() {
                    "-r" | "-R" | "--recursive" => recursive = true,
                    "-x" | "--exclude" => {
                        excludes = true;
                        rest += 1;
                    }
                    flag if flag.starts_with("--exclude=") => excludes = true,
                    flag if flag.starts_with('-') => {}
                    _ => positional.push(arg.clone()),
                }
                rest += 1;
            }
            if let Some(source) = positional
                .first()
                .filter(|s| s.text.starts_with("gs://"))
                .cloned()
            {
                out.push(Copy {
                    container: container.clone(),
                    tool,
                    verb,
                    source,
                    dest: positional.get(1).cloned(),
                    recursive,
                    excludes,
                    guarded,
                });
            }
            at = rest;
        }
    }
    out
}

/// `(volume name, path inside the volume)` of a container path, through its volumeMounts.
pub fn on_volume(container: &Container, path: &str) -> Option<(String, String)> {
    let mounts = container.value.get("volumeMounts")?.as_array()?;
    mounts
        .iter()
        .filter_map(|m| {
            let mount = m.get("mountPath")?.as_str()?.trim_end_matches('/');
            let rest = path.strip_prefix(mount)?;
            if !(rest.is_empty() || rest.starts_with('/')) {
                return None;
            }
            let sub = m.get("subPath").and_then(Value::as_str).unwrap_or("");
            let inner = format!("{sub}/{}", rest.trim_start_matches('/'));
            Some((
                mount.len(),
                (
                    m.get("name")?.as_str()?.to_string(),
                    inner.trim_matches('/').to_string(),
                ),
            ))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, v)| v)
}
