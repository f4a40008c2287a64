//! `kubectl vllm fix`: apply the policies' fixes to the source text, pass after pass until nothing
//! fixable is left (or nothing applies), then report what remains.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use kubectl_vllm_core::{Pointer, RuleId};
use kubectl_vllm_manifest::patch::{self, PatchError, TextOp};
use kubectl_vllm_manifest::render::EditKind;
use kubectl_vllm_manifest::{LoadOptions, Manifests};

use crate::config::Config;
use crate::lint::Linter;
use crate::report::{Edit, Finding, Report};

/// Where fixes of rendered objects (kustomize, Helm) go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixTarget {
    /// Into the rendered output (printed, or applied to a cluster): every fix that applies.
    Rendered,
    /// Into the source files the objects came from, and only where the fixed field is traced
    /// exactly there (so that rendering again gives the fixed object); the rest are reported
    /// as not fixed, with why. The rendered output is kept in step.
    Sources,
}

/// What a text of an [`Outcome`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A file (or stdin) as given: printed, diffed and written.
    Read,
    /// A renderer's output: printed, never written (it is not on disk).
    Rendered,
    /// A renderer's source file: written and diffed, never printed as manifests.
    Source,
}

impl TextKind {
    fn of(provenance: &kubectl_vllm_manifest::Provenance) -> Self {
        match provenance {
            kubectl_vllm_manifest::Provenance::Read => Self::Read,
            kubectl_vllm_manifest::Provenance::Rendered(_) => Self::Rendered,
            kubectl_vllm_manifest::Provenance::Source { .. } => Self::Source,
        }
    }
}

/// Passes before giving up on convergence.
const MAX_PASSES: usize = 4;

/// A fix applied, or skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Rule.
    pub rule: RuleId,
    /// Fix title.
    pub title: String,
    /// Where the finding was (file, line) before the fix.
    pub file: String,
    /// Line of the finding.
    pub line: Option<usize>,
    /// Why it was skipped (`None`: applied).
    pub skipped: Option<String>,
}

/// The outcome of fixing one input set.
pub struct Outcome {
    /// Each file's original and fixed text (same order as the manifests' files).
    pub texts: Vec<(String, String, String)>,
    /// What each of `texts` is: printed as fixed manifests (read or rendered), written and
    /// diffed (on disk: read or a renderer's source).
    pub kinds: Vec<TextKind>,
    /// Fixes applied and skipped, in order.
    pub applied: Vec<Applied>,
    /// The report on the fixed text.
    pub remaining: Report,
    /// The fixed manifests.
    pub manifests: Manifests,
}

/// Applies the fix of `finding` to `text` (the text of the finding's file), keeping everything
/// else.
///
/// # Errors
/// When the finding has no fix or no object, or the fix cannot be applied to the text (target
/// missing, reached through an anchor, alias or merge key, or the result would not parse).
pub fn apply_fix(text: &str, finding: &Finding) -> Result<String, PatchError> {
    let (Some(fix), Some(object)) = (&finding.fix, &finding.object) else {
        return Err(PatchError("the finding has no fix to apply".into()));
    };
    // Edits are relative to the object; inside a `kind: List` it is an item of the document.
    let at = |p: &kubectl_vllm_core::Pointer| object.document_pointer(p).as_str().to_string();
    patch::apply(text, object.document, &text_ops(&fix.edits, at))
}

fn text_ops(edits: &[Edit], mut at: impl FnMut(&Pointer) -> String) -> Vec<TextOp> {
    edits
        .iter()
        .map(|edit| match edit {
            Edit::Replace(p, value) => TextOp::Replace(at(p), value.clone()),
            Edit::Add(p, value) => TextOp::Add(at(p), value.clone()),
            Edit::Remove(p) => TextOp::Remove(at(p)),
            Edit::DropShadowed(p) => TextOp::DropShadowed(at(p)),
        })
        .collect()
}

/// The fix of `finding` (about a rendered object) made in the object's source file instead:
/// the source file and its fixed text, or why it cannot be made there.
fn fix_in_source(
    manifests: &Manifests,
    texts: &[String],
    finding: &Finding,
) -> Result<(usize, String, Vec<Pointer>), String> {
    let (Some(fix), Some(id)) = (&finding.fix, &finding.object) else {
        return Err("the finding has no fix to apply".into());
    };
    let object = manifests
        .object(id)
        .map(|i| &manifests.objects[i])
        .ok_or("its object is gone")?;
    let mut target: Option<(usize, usize)> = None;
    let mut pointers = Vec::new();
    for edit in &fix.edits {
        let (pointer, kind) = match edit {
            Edit::Replace(p, _) | Edit::Remove(p) => (p, EditKind::Change),
            Edit::Add(p, _) => (p, EditKind::Add),
            Edit::DropShadowed(_) => return Err("rendered output has no shadowed keys".into()),
        };
        let traced = manifests.trace_edit(object, pointer, kind)?;
        if target.is_some_and(|t| t != (traced.file, traced.document)) {
            return Err("its edits land in different source documents".into());
        }
        target = Some((traced.file, traced.document));
        pointers.push(traced.pointer);
    }
    let (file, document) = target.ok_or("the fix has no edits")?;
    let name = &manifests.files[file].source.name;
    if is_json(name) {
        return Err(format!("{name} is JSON: the fix is shown, not applied"));
    }
    let touched = pointers
        .iter()
        .map(|p| Pointer::root().index(document).join(&edited(p)))
        .collect();
    let mut next = pointers.into_iter();
    let ops = text_ops(&fix.edits, |_| {
        next.next()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default()
    });
    patch::apply(&texts[file], document, &ops)
        .map(|text| (file, text, touched))
        .map_err(|e| e.to_string())
}

/// Fixes `manifests` (which must have loaded without errors to be changed).
pub fn fix(
    linter: &mut Linter,
    manifests: &Manifests,
    config: &Config,
    options: &LoadOptions,
    unsafe_fixes: bool,
    target: FixTarget,
) -> Outcome {
    let originals: Vec<(String, String)> = manifests
        .files
        .iter()
        .map(|f| (f.source.name.clone(), f.source.text.clone()))
        .collect();
    let mut texts: Vec<String> = originals.iter().map(|(_, t)| t.clone()).collect();
    let mut applied = Vec::new();
    let mut current = manifests.clone();
    // Skips of the last pass only: a fix skipped for a conflict usually applies in the next one.
    let mut skipped: Vec<Applied> = Vec::new();
    for _ in 0..MAX_PASSES {
        let report = linter.lint(&current, config);
        let todo: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.fix_applies(unsafe_fixes))
            .collect();
        if todo.is_empty() || !current.errors.is_empty() {
            break;
        }
        let mut changed = false;
        skipped.clear();
        // What this pass's fixes touched: a fix that overlaps one already applied waits for the
        // next pass, which lints again and sees whether it is still needed (two rules adding the
        // same variable to one `env` list, say).
        let mut touched: Vec<(usize, Pointer)> = Vec::new();
        for finding in todo {
            let Some(file) = finding.object.as_ref().map(|o| o.file) else {
                continue;
            };
            let targets = targets(finding);
            if targets
                .iter()
                .any(|t| touched.iter().any(|(f, u)| *f == file && overlap(t, u)))
            {
                continue;
            }
            let mut record = Applied {
                rule: finding.rule.clone(),
                title: finding
                    .fix
                    .as_ref()
                    .map(|f| f.title.clone())
                    .unwrap_or_default(),
                file: finding.file.clone(),
                line: finding.region.map(|r| r.line),
                skipped: None,
            };
            if is_json(&current.files[file].source.name) {
                record.skipped = Some("JSON input: the fix is shown, not applied".into());
                skipped.push(record);
                continue;
            }
            let rendered = finding.rendered.is_some();
            let in_source = if rendered && target == FixTarget::Sources {
                match fix_in_source(&current, &texts, finding) {
                    // Two renders of one base (or two rules) fixing the same source field: the
                    // later waits for the next pass, which traces it again.
                    Ok((source, _, ref at))
                        if at.iter().any(|t| {
                            touched.iter().any(|(f, u)| *f == source && overlap(t, u))
                        }) =>
                    {
                        continue;
                    }
                    Ok(fixed) => Some(fixed),
                    Err(why) => {
                        record.skipped = Some(format!("not fixed in the source: {why}"));
                        skipped.push(record);
                        continue;
                    }
                }
            } else {
                None
            };
            match apply_fix(&texts[file], finding) {
                Ok(text) if text != texts[file] => {
                    texts[file] = text;
                    if let Some((source, text, at)) = in_source {
                        texts[source] = text;
                        touched.extend(at.into_iter().map(|t| (source, t)));
                    }
                    changed = true;
                    applied.push(record);
                    touched.extend(targets.into_iter().map(|t| (file, t)));
                }
                Ok(_) => {}
                Err(e) => {
                    record.skipped = Some(e.to_string());
                    skipped.push(record);
                }
            }
        }
        if !changed {
            break;
        }
        current = current.with_texts(&texts, options);
    }
    applied.extend(skipped);
    let remaining = linter.lint(&current, config);
    let kinds = current
        .files
        .iter()
        .map(|f| TextKind::of(&f.provenance))
        .take(manifests.reported_files.unwrap_or(usize::MAX))
        .collect();
    Outcome {
        kinds,
        // `--related` files are read for lookups, never fixed or printed.
        texts: originals
            .into_iter()
            .zip(texts)
            .take(manifests.reported_files.unwrap_or(usize::MAX))
            .map(|((name, original), fixed)| (name, original, fixed))
            .collect(),
        applied,
        remaining,
        manifests: current,
    }
}

/// What each edit of a finding's fix changes, as document pointers prefixed with the document
/// index: the key itself for a mapping entry, the whole list for a list item (indexes shift).
fn targets(finding: &Finding) -> Vec<Pointer> {
    let (Some(fix), Some(object)) = (&finding.fix, &finding.object) else {
        return Vec::new();
    };
    fix.edits
        .iter()
        .map(|edit| {
            let (Edit::Replace(p, _) | Edit::Add(p, _) | Edit::Remove(p) | Edit::DropShadowed(p)) =
                edit;
            Pointer::root()
                .index(object.document)
                .join(&object.document_pointer(&edited(p)))
        })
        .collect()
}

/// What an edit at `p` changes: the key itself for a mapping entry, the whole list for a list
/// item (indexes shift).
fn edited(p: &Pointer) -> Pointer {
    match p.last() {
        Some(last) if last == "-" || last.bytes().all(|b| b.is_ascii_digit()) => {
            p.parent().unwrap_or_else(Pointer::root)
        }
        _ => p.clone(),
    }
}

/// Whether one target contains the other.
fn overlap(a: &Pointer, b: &Pointer) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn is_json(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The fixed manifests, helm-template style when there are several files.
#[must_use]
pub fn render_fixed(outcome: &Outcome) -> String {
    let printed: Vec<&(String, String, String)> = outcome
        .texts
        .iter()
        .zip(&outcome.kinds)
        .filter(|(_, k)| **k != TextKind::Source)
        .map(|(t, _)| t)
        .collect();
    if let [only] = printed.as_slice() {
        return only.2.clone();
    }
    let mut out = String::new();
    for (name, _, fixed) in printed {
        out.push_str("---\n# Source: ");
        out.push_str(name);
        out.push('\n');
        out.push_str(fixed.trim_start_matches("---\n"));
        if !fixed.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The texts of files on disk (not rendered output).
fn on_disk(outcome: &Outcome) -> impl Iterator<Item = &(String, String, String)> {
    outcome
        .texts
        .iter()
        .zip(&outcome.kinds)
        .filter(|(_, k)| **k != TextKind::Rendered)
        .map(|(t, _)| t)
}

/// A unified diff of every changed file.
#[must_use]
pub fn render_diff(outcome: &Outcome) -> String {
    let mut out = String::new();
    for (name, original, fixed) in on_disk(outcome) {
        if original == fixed {
            continue;
        }
        let diff = similar::TextDiff::from_lines(original, fixed);
        let _ = write!(
            out,
            "{}",
            diff.unified_diff().context_radius(3).header(
                &format!("a/{}", name.trim_start_matches('/')),
                &format!("b/{}", name.trim_start_matches('/')),
            )
        );
    }
    out
}

/// What was fixed and skipped, for stderr.
#[must_use]
pub fn render_applied(outcome: &Outcome) -> String {
    let mut out = String::new();
    for a in &outcome.applied {
        let at = a.line.map_or_else(String::new, |l| format!(":{l}"));
        let _ = match &a.skipped {
            None => writeln!(out, "fixed {}{at}: {} ({})", a.file, a.title, a.rule),
            Some(why) => writeln!(
                out,
                "not fixed {}{at}: {} ({}): {why}",
                a.file, a.title, a.rule
            ),
        };
    }
    out
}

/// Writes the changed files atomically: a temporary file in the same directory, fsync, the
/// original mode, rename. Refuses read-only files and files that changed since they were read;
/// never writes a file without changes.
pub fn write_files(outcome: &Outcome, stdin_name: &str) -> Result<usize, String> {
    let mut written = 0;
    for (name, original, fixed) in on_disk(outcome) {
        if original == fixed {
            continue;
        }
        if name == stdin_name {
            return Err(format!("{name}: stdin can only be fixed to stdout"));
        }
        let path = Path::new(name);
        let metadata = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
        if metadata.permissions().readonly() {
            return Err(format!("{name}: the file is read-only; not written"));
        }
        let on_disk = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
        if &on_disk != original {
            return Err(format!(
                "{name}: the file changed on disk since it was read; not written"
            ));
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = dir.join(format!(
            ".{}.kubectl-vllm-{}.tmp",
            path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let result = (|| -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(fixed.as_bytes())?;
            file.sync_all()?;
            std::fs::set_permissions(&temp, metadata.permissions())?;
            std::fs::rename(&temp, path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&temp);
            return Err(format!("{name}: {e}"));
        }
        written += 1;
    }
    Ok(written)
}
