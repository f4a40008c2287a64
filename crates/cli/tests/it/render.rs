//! Rendered input: kustomizations built with the real `kubectl kustomize`, Helm output as Helm
//! writes it (a double of `helm template` when Helm is not installed, the real one when it is),
//! and the post-renderer protocol.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kubectl_vllm_core::Pointer;
use kubectl_vllm_manifest::{Input, LoadOptions, Manifests};
use serde_json::Value;

use super::cli::{command, run_in, run_stdin, stderr, stdout};

fn findings(o: &Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)));
    report["findings"].as_array().unwrap().clone()
}

fn finding<'a>(findings: &'a [Value], rule: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {findings:#?}"))
}

fn has_kubectl() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A copy of `fixtures/render/NAME` to edit.
fn copy_fixture(name: &str) -> PathBuf {
    let from = super::repo().join("fixtures/render").join(name);
    let to =
        std::env::temp_dir().join(format!("kubectl-vllm-render-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&to);
    copy_dir(&from, &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn tree(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(tree(&path));
        } else {
            files.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    files.sort();
    files
}

#[test]
fn kustomize_findings_land_on_the_base_and_overlay_files_and_fix_writes_the_base() {
    if !has_kubectl() {
        eprintln!(
            "SKIPPED kustomize_findings_land_on_the_base_and_overlay_files: kubectl is not on PATH"
        );
        return;
    }
    let dir = copy_fixture("kustomize");
    let before = tree(&dir);
    let o = run_in(
        &dir,
        &[
            "lint",
            "-k",
            "overlays/prod",
            "--provider",
            "gke",
            "-o",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let found = findings(&o);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    // The overlay renders a ConfigMap (generated), the Service and the Deployment; the files
    // read are the two base manifests, the overlay's kustomization and its patch.
    assert_eq!(report["summary"]["documents"], 3);
    assert_eq!(report["summary"]["files"], 4);
    for f in &found {
        assert_eq!(f["rendered"]["by"], "kustomize", "{f:#}");
        assert_eq!(f["rendered"]["from"], "overlays/prod", "{f:#}");
        let file = if f["rule"] == "image-tag-floating" {
            "overlays/prod/kustomization.yaml"
        } else {
            "base/deployment.yaml"
        };
        assert_eq!(f["file"], file, "{f:#}");
        assert_eq!(f["resource"]["name"], "prod-vllm", "{f:#}");
    }
    // Fields the base wrote, as rendered: at the field, in the base.
    assert!(
        finding(&found, "vllm-flag-gpu-mem-util")["rendered"]
            .get("note")
            .is_none()
    );
    let shm = finding(&found, "shm-missing");
    assert_eq!(
        (shm["line"].as_u64(), shm["column"].as_u64()),
        (Some(25), Some(9))
    );
    // The container is where the volume goes; the note says what the overlay changed in it.
    assert_eq!(
        shm["rendered"]["note"],
        "`image` differs from base/deployment.yaml (changed by overlays/prod/kustomization.yaml)"
    );
    let util = finding(&found, "vllm-flag-gpu-mem-util");
    assert_eq!(
        (util["line"].as_u64(), util["column"].as_u64()),
        (Some(31), Some(11))
    );
    assert_eq!(util["document"], 0);
    // The image the overlay replaced: at the overlay's `images` entry, saying so.
    let image = finding(&found, "image-tag-floating");
    assert_eq!(
        (image["line"].as_u64(), image["column"].as_u64()),
        (Some(9), Some(3))
    );
    assert_eq!(image["pointer"], "/images/0/newTag");
    assert_eq!(
        image["rendered"]["pointer"],
        "/spec/template/spec/containers/0/image"
    );
    let note = image["rendered"]["note"].as_str().unwrap();
    assert!(
        note.contains("set by the `images` entry of overlays/prod/kustomization.yaml, not by base/deployment.yaml"),
        "{note}"
    );
    // The text report says where the object was rendered from.
    let text = run_in(&dir, &["lint", "-k", "overlays/prod", "--provider", "gke"]);
    assert!(
        stdout(&text).contains("╭─[base/deployment.yaml:25:9]"),
        "{}",
        stdout(&text)
    );
    assert!(stdout(&text).contains("rendered by kustomize from overlays/prod"));
    // Rendering edits nothing and leaves nothing behind in the user's tree.
    assert_eq!(tree(&dir), before);

    // A walk renders each kustomization as a unit: no patch file is linted as a manifest, and a
    // base that an overlay of the walk lists is linted through the overlay only (a base is not
    // deployed alone: its Service `vllm` would be an error there), with a note.
    let walk = run_in(
        &dir,
        &["lint", "-R", ".", "--provider", "gke", "-o", "json"],
    );
    assert_eq!(walk.status.code(), Some(1), "{}", stderr(&walk));
    assert!(
        stderr(&walk)
            .contains("kustomization `base` is a base of `overlays/prod`: linted through it"),
        "{}",
        stderr(&walk)
    );
    let walked = findings(&walk);
    assert!(
        walked
            .iter()
            .all(|f| f["rendered"]["from"] == "overlays/prod"),
        "{walked:#?}"
    );
    assert_eq!(walked.len(), found.len());
    // Named one by one, both render; each render's lookups see only itself: the base's Service
    // `vllm` breaks the base's own pods (VLLM_PORT), not the overlay's (`prod-vllm`), and the
    // same object in both is not a duplicate.
    let both = run_in(
        &dir,
        &[
            "lint",
            "-k",
            "base",
            "-k",
            "overlays/prod",
            "--provider",
            "gke",
            "-o",
            "json",
        ],
    );
    let both = findings(&both);
    let named_vllm: Vec<&Value> = both
        .iter()
        .filter(|f| f["rule"] == "net-service-named-vllm")
        .collect();
    assert_eq!(named_vllm.len(), 1, "{named_vllm:#?}");
    assert_eq!(named_vllm[0]["rendered"]["from"], "base");
    assert!(
        both.iter().all(|f| f["rule"] != "duplicate-object"),
        "{both:#?}"
    );
    assert!(
        walked.iter().all(|f| f["rule"] != "input-error"
            && f["rule"] != "duplicate-object"
            && !f["rule"].as_str().unwrap().starts_with("schema-")),
        "{walked:#?}"
    );
    // Named on its own (as pre-commit passes it), a kustomization file renders its directory;
    // so does a file a kustomization uses (the patch is not an object, the base manifest is
    // linted as its kustomization renders it), each kustomization once.
    let named = run_in(
        &dir,
        &[
            "lint",
            "overlays/prod/kustomization.yaml",
            "--provider",
            "gke",
            "-o",
            "json",
        ],
    );
    assert_eq!(findings(&named).len(), found.len(), "{}", stderr(&named));
    let changed = run_in(
        &dir,
        &[
            "lint",
            "overlays/prod/replicas.yaml",
            "overlays/prod/kustomization.yaml",
            "base/deployment.yaml",
            "--provider",
            "gke",
            "-o",
            "json",
        ],
    );
    let changed_findings = findings(&changed);
    let mut froms: Vec<&str> = changed_findings
        .iter()
        .filter_map(|f| f["rendered"]["from"].as_str())
        .collect();
    froms.sort_unstable();
    froms.dedup();
    assert_eq!(froms, ["base", "overlays/prod"], "{changed_findings:#?}");
    assert!(
        changed_findings
            .iter()
            .all(|f| !f["rule"].as_str().unwrap().starts_with("schema-")),
        "{changed_findings:#?}"
    );
    assert_eq!(
        changed_findings
            .iter()
            .filter(|f| f["rule"] == "shm-missing")
            .count(),
        2,
        "one per render: {changed_findings:#?}"
    );

    // --diff with the unsafe fixes: the pinned image is the overlay's field, so it is not
    // written to the base; the rest are.
    let diff = run_in(
        &dir,
        &[
            "fix",
            "-k",
            "overlays/prod",
            "--provider",
            "gke",
            "--diff",
            "--unsafe-fixes",
        ],
    );
    assert!(
        stderr(&diff)
            .contains("not fixed overlays/prod/kustomization.yaml:9: pin vllm/vllm-openai")
            && stderr(&diff).contains("changed by overlays/prod/kustomization.yaml"),
        "{}",
        stderr(&diff)
    );
    assert!(
        stdout(&diff).contains("+++ b/base/deployment.yaml"),
        "{}",
        stdout(&diff)
    );
    assert!(
        !stdout(&diff).contains("overlays/prod"),
        "{}",
        stdout(&diff)
    );
    assert_eq!(tree(&dir), before, "--diff writes nothing");

    // --write edits the base only, keeping its comments; rendered again, the overlay is clean.
    let fixed = run_in(
        &dir,
        &["fix", "-k", "overlays/prod", "--provider", "gke", "--write"],
    );
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert!(
        stderr(&fixed).contains("fixed base/deployment.yaml:25: mount a 4Gi Memory emptyDir"),
        "{}",
        stderr(&fixed)
    );
    let base = std::fs::read_to_string(dir.join("base/deployment.yaml")).unwrap();
    assert!(
        base.contains("mountPath: /dev/shm") && base.contains("medium: Memory"),
        "{base}"
    );
    assert!(
        base.starts_with("# vLLM serving Qwen2.5 7B")
            && base.contains("# the overlay pins its own tag")
    );
    let changed: Vec<PathBuf> = tree(&dir)
        .into_iter()
        .zip(&before)
        .filter(|(now, was)| now != *was)
        .map(|(now, _)| now.0.strip_prefix(&dir).unwrap().to_path_buf())
        .collect();
    assert_eq!(changed, [PathBuf::from("base/deployment.yaml")]);
    let rendered = Command::new("kubectl")
        .args(["kustomize", "overlays/prod"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let again = run_stdin(
        &["lint", "-", "--provider", "gke", "-o", "json"],
        &stdout(&rendered),
    );
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(findings(&again).iter().all(|f| f["rule"] != "shm-missing"));
    // Converged: a second fix changes nothing.
    let twice = run_in(
        &dir,
        &["fix", "-k", "overlays/prod", "--provider", "gke", "--write"],
    );
    assert!(
        stderr(&twice).contains("0 file(s) rewritten"),
        "{}",
        stderr(&twice)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// With a kustomize too old for origin annotations, the findings stay on the rendered output
/// and a note says why.
#[test]
fn an_old_kustomize_without_origins_is_said() {
    let Some(real) = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    }) else {
        eprintln!("SKIPPED an_old_kustomize_without_origins_is_said: kubectl is not on PATH");
        return;
    };
    let doubles = super::repo().join("crates/cli/tests/doubles/old-kubectl");
    let path = format!(
        "{}:{}",
        doubles.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = command()
        .current_dir(super::repo().join("fixtures/render/kustomize"))
        .env("PATH", path)
        .env("REAL_KUBECTL", real)
        .args([
            "lint",
            "-k",
            "overlays/prod",
            "--provider",
            "gke",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("is too old to say which file each object of `overlays/prod` came from"),
        "{}",
        stderr(&o)
    );
    let shm = finding(&findings(&o), "shm-missing").clone();
    assert_eq!(shm["file"], "<kustomize overlays/prod>");
    assert!(
        shm["rendered"]["note"]
            .as_str()
            .unwrap()
            .contains("did not say which file"),
        "{shm:#}"
    );
}

/// (case, arguments, rule, file, line, what the note says or `None`)
type Case = (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    u64,
    Option<&'static str>,
);

/// Layouts found in public repositories (GoogleCloudPlatform/accelerated-platforms' overlays,
/// reduced): each finding lands where a person edits the value, with a note when it is not the
/// field as written.
#[test]
fn kustomize_layouts_from_real_repositories_locate_each_finding() {
    if !has_kubectl() {
        eprintln!("SKIPPED kustomize_layouts_from_real_repositories: kubectl is not on PATH");
        return;
    }
    let cases: [Case; 8] = [
        // A strategic-merge patch fills in `resources: {}`: at the patch, which writes it.
        (
            "resources-patch-reported-at-empty-base",
            &["-k", "overlay"],
            "res-cpu-mem-requests-missing",
            "overlay/patch-resources.yaml",
            10,
            None,
        ),
        (
            "resources-patch-reported-at-empty-base",
            &["-k", "overlay"],
            "rollout-strategy-gpu",
            "base/deployment.yaml",
            5,
            Some(
                "`template.spec.containers[vllm].resources.limits`, `template.spec.containers[vllm].resources.requests` differ from base/deployment.yaml (changed by overlay/kustomization.yaml)",
            ),
        ),
        // A JSON 6902 append leaves the earlier arguments as written.
        (
            "json6902-append-false-note",
            &["-k", "overlay"],
            "vllm-flag-served-name",
            "base/deployment.yaml",
            33,
            None,
        ),
        // Values written literally in a patch: at the patch.
        (
            "patch-literal-value",
            &["-k", "overlay"],
            "image-tag-floating",
            "overlay/patch-vllm.yaml",
            10,
            None,
        ),
        (
            "patch-literal-value",
            &["-k", "overlay"],
            "runtime-env-dollar-brace",
            "overlay/patch-vllm.yaml",
            15,
            None,
        ),
        // An `images` entry that sets only the name: the tag is the base's.
        (
            "misc-images-generator",
            &["-k", "overlay"],
            "image-tag-floating",
            "base/all.yaml",
            41,
            Some(
                "the image's name is set by the `images` entry of overlay/kustomization.yaml; its tag is written here",
            ),
        ),
        (
            "misc-images-generator",
            &["-k", "overlay"],
            "secret-value-placeholder",
            "overlay/kustomization.yaml",
            10,
            Some("generated by the SecretGenerator of overlay/kustomization.yaml: change it there"),
        ),
        // A Component's patch, through the overlay that lists it (the walk builds no Component).
        (
            "components-in-walk",
            &["-R", "."],
            "vllm-flag-gpu-mem-util",
            "components/gpu-l4/gpu.yaml",
            13,
            None,
        ),
    ];
    let root = super::repo().join("fixtures/render/kustomize-cases");
    for (case, args, rule, file, line, note) in cases {
        let o = command()
            .current_dir(root.join(case))
            .args(["lint", "--provider", "gke", "-o", "json"])
            .args(args)
            .output()
            .unwrap();
        assert_ne!(o.status.code(), Some(2), "{case}: {}", stderr(&o));
        let found = findings(&o);
        let f = finding(&found, rule);
        assert_eq!(
            (f["file"].as_str(), f["line"].as_u64()),
            (Some(file), Some(line)),
            "{case}: {f:#}"
        );
        assert_eq!(f["rendered"]["note"].as_str(), note, "{case}: {f:#}");
    }
    // Walks: a base that an overlay of the walk lists, and a Component, are said, not built.
    for (case, said) in [
        (
            "base-linted-as-unit-in-walk",
            "kustomization `base` is a base of `overlays/h100`",
        ),
        (
            "components-in-walk",
            "kustomize Component `components/gpu-l4` is not built on its own",
        ),
    ] {
        let o = command()
            .current_dir(root.join(case))
            .args(["lint", "-R", ".", "--provider", "gke"])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{case}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert!(stderr(&o).contains(said), "{case}: {}", stderr(&o));
    }
    // Fixes go where the value is written: into the patches, and rendered again they are gone.
    for (case, written) in [
        ("patch-literal-value", "overlay/patch-vllm.yaml"),
        (
            "resources-patch-reported-at-empty-base",
            "overlay/patch-resources.yaml",
        ),
    ] {
        let dir =
            std::env::temp_dir().join(format!("kubectl-vllm-case-{case}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&root.join(case), &dir);
        let before = std::fs::read_to_string(dir.join(written)).unwrap();
        let o = run_in(
            &dir,
            &[
                "fix",
                "-k",
                "overlay",
                "--provider",
                "gke",
                "--unsafe-fixes",
                "--write",
            ],
        );
        assert!(
            stderr(&o).contains(&format!("fixed {written}:")),
            "{case}: {}",
            stderr(&o)
        );
        assert_ne!(std::fs::read_to_string(dir.join(written)).unwrap(), before);
        let again = run_in(
            &dir,
            &["lint", "-k", "overlay", "--provider", "gke", "-o", "json"],
        );
        assert!(
            findings(&again).iter().all(|f| f["file"] != written),
            "{case}: {}",
            stdout(&again)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Objects a generator made are placed at the generator's entry; tracing a field names it.
#[test]
fn generated_objects_point_at_their_generator_entry() {
    if !has_kubectl() {
        eprintln!(
            "SKIPPED generated_objects_point_at_their_generator_entry: kubectl is not on PATH"
        );
        return;
    }
    let dir = super::repo().join("fixtures/render/kustomize");
    let manifests = Manifests::load(
        &[Input::Kustomize(dir.join("overlays/prod"))],
        &LoadOptions::default(),
    );
    assert!(manifests.errors.is_empty(), "{:?}", manifests.errors);
    let config_map = manifests
        .objects
        .iter()
        .find(|o| o.reference.kind == "ConfigMap")
        .unwrap();
    assert!(config_map.reference.name.starts_with("prod-vllm-settings-"));
    assert!(
        config_map.json["metadata"].get("annotations").is_none(),
        "tracing annotations are taken out"
    );
    let trace = manifests
        .trace(config_map, &Pointer::from_path("/data/MAX_MODEL_LEN"))
        .unwrap();
    let file = &manifests.files[trace.file].source;
    assert!(
        file.name.ends_with("overlays/prod/kustomization.yaml"),
        "{}",
        file.name
    );
    let at = file.position(trace.span.unwrap().start);
    assert_eq!(&file.text[trace.span.unwrap().range()], "name");
    assert_eq!(
        file.text.lines().nth(at.line - 1).unwrap().trim(),
        "- name: vllm-settings"
    );
    assert!(
        trace
            .note
            .unwrap()
            .contains("generated by the ConfigMapGenerator")
    );
    assert!(!trace.exact);
    // A fix cannot go into a generator.
    let edit = manifests.trace_edit(
        config_map,
        &Pointer::from_path("/data/MAX_MODEL_LEN"),
        kubectl_vllm_manifest::render::EditKind::Change,
    );
    assert!(
        edit.unwrap_err()
            .contains("generated by the ConfigMapGenerator")
    );
}

/// The README's pre-commit hook for an overlay (`args: [-k, overlays/prod]`,
/// `pass_filenames: false`) with the real pre-commit: it blocks the base's error, located in the
/// base, and lets the fixed base in.
#[test]
fn pre_commit_renders_the_kustomizations_of_changed_files() {
    if !has_kubectl() {
        eprintln!(
            "SKIPPED pre_commit_renders_the_kustomizations_of_changed_files: kubectl is not on PATH"
        );
        return;
    }
    let Some(repo) = super::cli::PreCommit::new(
        "pre-commit-kustomize",
        "  - id: kubectl-vllm-lint\n    args: [-k, overlays/prod, --provider, gke]\n    pass_filenames: false\n    files: ^(base|overlays)/\n",
    ) else {
        return;
    };
    copy_dir(&super::repo().join("fixtures/render/kustomize"), &repo.dir);
    let (committed, said) = repo.commit("bad");
    assert!(!committed, "the broken base was committed: {said}");
    assert!(
        said.contains("error[shm-missing]") && said.contains("base/deployment.yaml:25:9"),
        "{said}"
    );
    assert!(
        !said.contains("schema-") && !said.contains("input-error"),
        "{said}"
    );
    let fixed = repo.sh(&[
        "kubectl-vllm",
        "fix",
        "-k",
        "overlays/prod",
        "--provider",
        "gke",
        "--write",
    ]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    let (committed, said) = repo.commit("fixed");
    assert!(committed, "{said}");
}

#[test]
fn a_kustomization_that_fails_to_build_is_exit_2_with_kustomizes_message() {
    if !has_kubectl() {
        eprintln!("SKIPPED a_kustomization_that_fails_to_build: kubectl is not on PATH");
        return;
    }
    let o = super::cli::run(&["lint", "-k", "fixtures/render/broken-kustomization"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("`kubectl kustomize fixtures/render/broken-kustomization` failed")
            && err.contains("missing.yaml"),
        "{err}"
    );
    assert!(
        !err.contains("kubectl-vllm-kustomize-"),
        "the wrapper's path leaked: {err}"
    );
    let not = super::cli::run(&["lint", "-k", "fixtures/render/helm"]);
    assert_eq!(not.status.code(), Some(2));
    assert!(
        stderr(&not).contains("is not a kustomization"),
        "{}",
        stderr(&not)
    );
}

const HELM_DIR: &str = "fixtures/render/helm";

fn rendered_chart() -> String {
    std::fs::read_to_string(super::repo().join(HELM_DIR).join("vllm.rendered.yaml")).unwrap()
}

/// The findings on `helm template` output name the templates (subcharts by chart name) and
/// the template's line where the key is written literally.
fn assert_named_templates(found: &[Value], prefix: &str) {
    let shm = finding(found, "shm-missing");
    assert_eq!(shm["file"], format!("{prefix}templates/deployment.yaml"));
    assert_eq!(shm["line"], 37, "{shm:#}");
    assert_eq!(shm["rendered"]["by"], "helm");
    assert_eq!(shm["rendered"]["from"], "vllm");
    assert_eq!(shm["rendered"]["document"], 2);
    // The list item itself, written literally in the template.
    let util = finding(found, "vllm-flag-gpu-mem-util");
    assert_eq!(util["column"], 11);
    assert_eq!(
        (util["file"].as_str(), util["line"].as_u64()),
        (
            Some(&*format!("{prefix}templates/deployment.yaml")),
            Some(30)
        )
    );
    let pvc = finding(found, "pvc-size-waste");
    assert_eq!(
        pvc["file"],
        format!("{prefix}charts/cache/templates/pvc.yaml")
    );
    assert_eq!(pvc["line"], 9);
}

#[test]
fn helm_template_output_names_the_templates() {
    let dir = super::repo().join(HELM_DIR);
    let o = command()
        .current_dir(&dir)
        .args(["lint", "-", "--provider", "gke", "-o", "json"])
        .stdin(std::fs::File::open(dir.join("vllm.rendered.yaml")).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_named_templates(&findings(&o), "vllm/");
    // From the chart's own directory the paths are relative to it.
    let inside = command()
        .current_dir(dir.join("vllm"))
        .args(["lint", "-", "--provider", "gke", "-o", "json"])
        .stdin(std::fs::File::open(dir.join("vllm.rendered.yaml")).unwrap())
        .output()
        .unwrap();
    assert_named_templates(&findings(&inside), "");
    // Where the templates are not on disk, the findings stay on the rendered stream and name
    // the template.
    let elsewhere = run_stdin(
        &["lint", "-", "--provider", "gke", "-o", "json"],
        &rendered_chart(),
    );
    let shm = finding(&findings(&elsewhere), "shm-missing").clone();
    assert_eq!(shm["file"], "<stdin>");
    assert_eq!(shm["rendered"]["source"], "vllm/templates/deployment.yaml");
    assert!(
        shm["rendered"]["note"]
            .as_str()
            .unwrap()
            .contains("not a local file")
    );
    // A rendering saved to a file (committed rendered manifests) is a file of its own:
    // findings and fixes stay in it.
    let saved = command()
        .current_dir(&dir)
        .args([
            "lint",
            "vllm.rendered.yaml",
            "--provider",
            "gke",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let shm = finding(&findings(&saved), "shm-missing").clone();
    assert_eq!(
        (shm["file"].as_str(), shm["line"].as_u64()),
        (Some("vllm.rendered.yaml"), Some(68))
    );
    assert!(shm.get("rendered").is_none(), "{shm:#}");
}

fn helm_double(log: &Path) -> Command {
    let mut c = command();
    c.env(
        "KUBECTL_VLLM_HELM",
        super::repo().join("crates/cli/tests/doubles/helm"),
    )
    .env(
        "HELM_DOUBLE_OUTPUT",
        super::repo().join(HELM_DIR).join("vllm.rendered.yaml"),
    )
    .env("HELM_DOUBLE_LOG", log)
    .current_dir(super::repo().join(HELM_DIR));
    c
}

#[test]
fn helm_chart_is_rendered_with_helm_template_and_its_values() {
    let log = std::env::temp_dir().join(format!("kubectl-vllm-helm-log-{}", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let o = helm_double(&log)
        .args([
            "lint",
            "--helm-chart",
            "vllm",
            "--values",
            "vllm/values.yaml",
            "--set",
            "tensorParallelSize=2",
            "--provider",
            "gke",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_named_templates(&findings(&o), "vllm/");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "values vllm/values.yaml\nset tensorParallelSize=2\nchart vllm\n"
    );
    // helm's own failure is exit 2 with its message; no helm at all is a clear exit 2.
    let failed = helm_double(&log)
        .args(["lint", "--helm-chart", "vllm", "--values", "nope.yaml"])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2));
    assert!(
        stderr(&failed).contains("`helm template vllm` failed: Error: open nope.yaml"),
        "{}",
        stderr(&failed)
    );
    let missing = command()
        .env("KUBECTL_VLLM_HELM", "/nonexistent/helm")
        .args(["lint", "--helm-chart", "fixtures/render/helm/vllm"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("`helm` is not on PATH"),
        "{}",
        stderr(&missing)
    );
    // A chart met in a directory walk is skipped with a note naming --helm-chart.
    let walk = super::cli::run(&["lint", "-R", HELM_DIR, "--provider", "gke"]);
    assert!(
        stderr(&walk).contains("skipped Helm chart")
            && stderr(&walk).contains("kubectl vllm lint --helm-chart"),
        "{}",
        stderr(&walk)
    );
    let _ = std::fs::remove_file(&log);
}

#[test]
fn real_helm_renders_the_chart_when_installed() {
    if !Command::new("helm")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("SKIPPED real_helm_renders_the_chart_when_installed: helm is not on PATH");
        return;
    }
    let o = command()
        .current_dir(super::repo().join(HELM_DIR))
        .args([
            "lint",
            "--helm-chart",
            "vllm",
            "--provider",
            "gke",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_named_templates(&findings(&o), "vllm/");
}

#[test]
fn post_renderer_passes_clean_manifests_through_and_stops_on_errors() {
    let dir = super::repo().join(HELM_DIR);
    let post = |args: &[&str], input: &str| {
        let mut child = command()
            .current_dir(&dir)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    // Errors: nothing on stdout (helm stops), the report on stderr naming the template.
    let failing = post(&["post-render", "--provider", "gke"], &rendered_chart());
    assert_eq!(failing.status.code(), Some(1));
    assert!(failing.stdout.is_empty(), "{}", stdout(&failing));
    assert!(
        stderr(&failing).contains("error[shm-missing]")
            && stderr(&failing).contains("vllm/templates/deployment.yaml:37"),
        "{}",
        stderr(&failing)
    );
    // Helm 3's spelling (`lint --pass-through -`) is the same filter.
    let same = post(
        &["lint", "--pass-through", "-", "--provider", "gke"],
        &rendered_chart(),
    );
    assert_eq!(
        (same.status.code(), same.stdout.is_empty()),
        (Some(1), true)
    );
    // Passing (warnings only below --fail-on): stdout is stdin, byte for byte.
    let passing = post(
        &["post-render", "--provider", "gke", "--fail-on", "none"],
        &rendered_chart(),
    );
    assert_eq!(passing.status.code(), Some(0), "{}", stderr(&passing));
    assert_eq!(stdout(&passing), rendered_chart());
    assert!(stderr(&passing).contains("warning[vllm-flag-gpu-mem-util]"));
    // fix mode: the safe fixes applied on stdout, `# Source:` comments kept; what remains is
    // below --fail-on, so helm goes on.
    let fixed = post(
        &["post-render", "fix", "--provider", "gke"],
        &rendered_chart(),
    );
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    let out = stdout(&fixed);
    assert!(
        out.contains("mountPath: /dev/shm")
            && out.contains("# Source: vllm/templates/deployment.yaml"),
        "{out}"
    );
    assert_eq!(
        out.matches("\n---\n").count() + usize::from(out.starts_with("---\n")),
        3,
        "{out}"
    );
    let relinted = post(&["post-render", "--provider", "gke"], &out);
    assert_eq!(relinted.status.code(), Some(0), "{}", stderr(&relinted));
    // Helm 4 sends each document with its template in an annotation instead of a comment.
    let helm4 = rendered_chart()
        .replace("# Source: vllm/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n    postrenderer.helm.sh/postrender-filename: 'vllm/templates/deployment.yaml'\n");
    let o = post(&["post-render", "--provider", "gke"], &helm4);
    assert!(
        stderr(&o).contains("vllm/templates/deployment.yaml:37"),
        "{}",
        stderr(&o)
    );
    // The Helm 4 plugin manifest runs this very command line.
    let plugin = std::fs::read_to_string(super::repo().join("plugin/helm/plugin.yaml")).unwrap();
    assert!(
        plugin.contains("type: postrenderer/v1")
            && plugin.contains("- command: kubectl-vllm post-render")
    );
    assert!(plugin.contains(&format!("version: {}", env!("CARGO_PKG_VERSION"))));
}
