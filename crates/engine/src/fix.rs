//! `kubectl vllm fix`: apply the policies' fixes to the source text, pass after pass until nothing
//! fixable is left (or nothing applies), then report what remains.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use kubectl_vllm_core::{Pointer, RuleId};
use kubectl_vllm_manifest::patch::{self, PatchError, TextOp};
use kubectl_vllm_manifest::{LoadOptions, Manifests};

use crate::config::Config;
use crate::lint::Linter;
use crate::report::{Edit, Finding, Report};

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
    let ops: Vec<TextOp> = fix
        .edits
        .iter()
        .map(|edit| match edit {
            Edit::Replace(p, value) => TextOp::Replace(at(p), value.clone()),
            Edit::Add(p, value) => TextOp::Add(at(p), value.clone()),
            Edit::Remove(p) => TextOp::Remove(at(p)),
            Edit::DropShadowed(p) => TextOp::DropShadowed(at(p)),
        })
        .collect();
    patch::apply(text, object.document, &ops)
}

/// Fixes `manifests` (which must have loaded without errors to be changed).
pub fn fix(
    linter: &mut Linter,
    manifests: &Manifests,
    config: &Config,
    options: &LoadOptions,
    unsafe_fixes: bool,
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
            let Some(file) = finding.region.map(|r| r.file) else {
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
            if is_json(&finding.file) {
                record.skipped = Some("JSON input: the fix is shown, not applied".into());
                skipped.push(record);
                continue;
            }
            match apply_fix(&texts[file], finding) {
                Ok(text) if text != texts[file] => {
                    texts[file] = text;
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
        current = reload(&originals, &texts, options, manifests.reported_files);
    }
    applied.extend(skipped);
    let remaining = linter.lint(&current, config);
    Outcome {
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
            let p = match p.last() {
                Some(last) if last == "-" || last.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parent().unwrap_or_else(Pointer::root)
                }
                _ => p.clone(),
            };
            Pointer::root()
                .index(object.document)
                .join(&object.document_pointer(&p))
        })
        .collect()
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

fn reload(
    originals: &[(String, String)],
    texts: &[String],
    options: &LoadOptions,
    reported_files: Option<usize>,
) -> Manifests {
    let mut manifests = Manifests::default();
    for ((name, _), text) in originals.iter().zip(texts) {
        manifests.add_text(name, text.clone(), options);
    }
    manifests.reported_files = reported_files;
    manifests
}

/// The fixed manifests, helm-template style when there are several files.
#[must_use]
pub fn render_fixed(outcome: &Outcome) -> String {
    if outcome.texts.len() == 1 {
        return outcome.texts[0].2.clone();
    }
    let mut out = String::new();
    for (name, _, fixed) in &outcome.texts {
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

/// A unified diff of every changed file.
#[must_use]
pub fn render_diff(outcome: &Outcome) -> String {
    let mut out = String::new();
    for (name, original, fixed) in &outcome.texts {
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
    for (name, original, fixed) in &outcome.texts {
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
