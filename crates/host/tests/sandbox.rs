//! The sandbox holds: loops, memory bombs, traps and malformed output are stopped, named, and do
//! not poison the next evaluation; compiled artifacts are cached and a bad artifact is recompiled.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use kubectl_vllm_host::{
    ArtifactCache, Cluster, ClusterProfile, Contract, Evaluation, Host, Limits, ObjectRef, Origin,
    Outcome, PolicyError, Provider, Resolved, Shared,
};

fn chaos_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| std::fs::read(kubectl_vllm_builtin::TEST_POLICY_CHAOS).unwrap())
}

/// One cache directory per test binary, so the ~0.5 s debug-build compile is paid once.
fn shared_cache() -> ArtifactCache {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("kubectl-vllm-host-tests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    });
    ArtifactCache::new(Some(dir.clone()))
}

fn host() -> Host {
    Host::new(
        shared_cache(),
        Limits {
            timeout: Duration::from_millis(300),
            memory_bytes: 32 << 20,
        },
    )
    .unwrap()
}

/// A host with default limits and an artifact cache of its own, empty (the directory does not
/// exist yet).
fn host_with_empty_cache(tag: &str) -> (Host, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("kubectl-vllm-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let host = Host::new(ArtifactCache::new(Some(dir.clone())), Limits::default()).unwrap();
    (host, dir)
}

fn object(mode: &str) -> Evaluation {
    let json = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": mode, "namespace": "default",
                     "annotations": {"chaos.kubectl-vllm.dev/mode": mode}}
    });
    Evaluation {
        object_ref: ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("default".into()),
            name: mode.into(),
        },
        object: json.to_string(),
        rules: Vec::new(),
    }
}

/// The findings' messages (a 0.1 policy yields findings only).
fn messages(outcomes: &[Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .map(|o| match o {
            Outcome::Finding(f) => format!("{}: {}", f.rule, f.message),
            Outcome::Skipped(s) => panic!("a 0.1 policy cannot skip: {s:?}"),
        })
        .collect()
}

fn assert_recovers(policy: &mut kubectl_vllm_host::Policy) {
    let outcomes = policy
        .evaluate(&object("report"))
        .expect("the next object evaluates");
    assert_eq!(messages(&outcomes), ["chaos-report: chaos report"]);
}

#[test]
fn an_infinite_loop_times_out_and_the_policy_recovers() {
    let host = host();
    let mut policy = host
        .load("chaos.wasm", chaos_wasm(), Arc::new(Shared::default()))
        .unwrap();
    let started = Instant::now();
    let error = policy.evaluate(&object("loop")).unwrap_err();
    assert!(matches!(error, PolicyError::Timeout { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("policy `chaos` exceeded its time limit")
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_recovers(&mut policy);
}

#[test]
fn a_memory_bomb_hits_the_cap() {
    let host = host();
    let mut policy = host
        .load("chaos.wasm", chaos_wasm(), Arc::new(Shared::default()))
        .unwrap();
    let error = policy.evaluate(&object("oom")).unwrap_err();
    assert!(
        matches!(error, PolicyError::OutOfMemory { limit: 32, .. }),
        "{error}"
    );
    assert_recovers(&mut policy);
}

#[test]
fn a_trap_is_reported_with_the_guest_panic_message() {
    let host = host();
    let mut policy = host
        .load("chaos.wasm", chaos_wasm(), Arc::new(Shared::default()))
        .unwrap();
    let error = policy.evaluate(&object("trap")).unwrap_err();
    let PolicyError::Trap { message, .. } = &error else {
        panic!("expected a trap, got {error}");
    };
    assert!(message.contains("chaos policy asked to trap"), "{message}");
    assert_recovers(&mut policy);
}

#[test]
fn malformed_output_is_rejected() {
    let host = host();
    let mut policy = host
        .load("chaos.wasm", chaos_wasm(), Arc::new(Shared::default()))
        .unwrap();
    let error = policy.evaluate(&object("malformed")).unwrap_err();
    assert!(matches!(error, PolicyError::Malformed { .. }), "{error}");
    assert!(error.to_string().contains("no-such-rule"), "{error}");
    assert_recovers(&mut policy);
}

#[test]
fn garbage_is_a_load_error_not_a_panic() {
    let host = host();
    let error = host
        .load(
            "junk.wasm",
            b"\0asm not really",
            Arc::new(Shared::default()),
        )
        .err()
        .unwrap();
    assert!(matches!(error, PolicyError::Load { .. }));
    assert!(error.to_string().contains("junk.wasm"));
}

#[test]
fn artifacts_are_cached_and_bad_ones_recompiled() {
    let (host, dir) = host_with_empty_cache("cache-test");
    let shared = Arc::new(Shared::default());
    let first = host
        .load("chaos", chaos_wasm(), Arc::clone(&shared))
        .unwrap();
    assert_eq!(first.origin, Origin::Compiled);
    let second = host
        .load("chaos", chaos_wasm(), Arc::clone(&shared))
        .unwrap();
    assert_eq!(second.origin, Origin::Cached);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    // A corrupted artifact (a different CPU, a foreign engine...) is recompiled, not trusted.
    // Replace it the way the cache itself writes (new file + rename): rewriting a mapped
    // artifact in place would pull the code out from under `second`.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let temp = path.with_extension("tmp");
        std::fs::write(&temp, b"not an artifact").unwrap();
        std::fs::rename(&temp, &path).unwrap();
    }
    let third = host.load("chaos", chaos_wasm(), shared).unwrap();
    assert_eq!(third.origin, Origin::Compiled);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The build precompiled the built-in policies for this machine: loading them compiles nothing.
/// An artifact for another engine (another CPU, configuration or wasmtime) or a damaged one is
/// never used: the component is compiled instead, and behaves the same.
#[test]
fn builtin_policies_load_precompiled_and_a_foreign_artifact_is_compiled_instead() {
    let (host, dir) = host_with_empty_cache("embedded");
    let shared = Arc::new(Shared::default());
    for builtin in kubectl_vllm_builtin::POLICIES {
        let precompiled = builtin
            .precompiled
            .as_ref()
            .expect("a native build precompiles every built-in policy");
        assert!(!host.needs_compiling(builtin.wasm, Some(precompiled)));
        let started = Instant::now();
        let policy = host
            .load_precompiled(
                builtin.name,
                builtin.wasm,
                Some(precompiled),
                Arc::clone(&shared),
            )
            .unwrap();
        assert_eq!(policy.origin, Origin::Embedded, "{}", builtin.name);
        // Loading machine code takes milliseconds even in a debug build; compiling takes seconds.
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    assert!(
        !dir.exists(),
        "embedded artifacts are not copied to the cache"
    );

    let builtin = &kubectl_vllm_builtin::POLICIES[0];
    let precompiled = builtin.precompiled.unwrap();
    let load = |artifact: &kubectl_vllm_builtin::Embedded| {
        host.load_precompiled(
            builtin.name,
            builtin.wasm,
            Some(artifact),
            Arc::clone(&shared),
        )
        .unwrap()
    };
    let expected = load(&precompiled).info;
    let foreign = kubectl_vllm_builtin::Embedded {
        engine: precompiled.engine ^ 1,
        ..precompiled
    };
    let damaged = kubectl_vllm_builtin::Embedded {
        artifact: b"not an artifact",
        ..precompiled
    };
    assert!(host.needs_compiling(builtin.wasm, Some(&foreign)));
    let compiled = load(&foreign);
    assert_eq!(compiled.origin, Origin::Compiled);
    assert_eq!(compiled.info, expected);
    // Its fingerprint claims this engine, but wasmtime's header check refuses the bytes.
    let recovered = load(&damaged);
    assert_eq!(
        recovered.origin,
        Origin::Cached,
        "compiled above, then cached"
    );
    assert_eq!(recovered.info, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn builtin_policies_declare_documented_rules() {
    let host = host();
    let shared = Arc::new(Shared::default());
    let mut ids = Vec::new();
    for builtin in kubectl_vllm_builtin::POLICIES {
        let policy = host
            .load_precompiled(
                builtin.name,
                builtin.wasm,
                builtin.precompiled.as_ref(),
                Arc::clone(&shared),
            )
            .unwrap();
        for rule in &policy.info.rules {
            for heading in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix safety",
                "## Source",
            ] {
                assert!(
                    rule.documentation.contains(heading),
                    "{} lacks {heading}",
                    rule.id
                );
            }
            ids.push(rule.id.clone());
        }
    }
    ids.sort();
    // Every rule declared in a policy's sources is registered and exported by it.
    let mut declared = Vec::new();
    let policies = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    for policy in std::fs::read_dir(&policies).unwrap() {
        let rules = policy.unwrap().path().join("src/rules");
        let Ok(files) = std::fs::read_dir(&rules) else {
            continue;
        };
        for file in files {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            for line in text.lines() {
                if let Some(id) = line.trim().strip_prefix("id: \"") {
                    declared.push(id.trim_end_matches("\",").to_string());
                }
            }
        }
    }
    declared.sort();
    assert_eq!(ids, declared);
    assert!(ids.len() >= 36, "{ids:?}");
}

#[test]
fn a_0_1_policy_loads_beside_0_2_ones_and_sees_gke_or_generic() {
    let host = host();
    let shared = |provider| {
        Arc::new(Shared {
            cluster: Cluster::from_profile(&ClusterProfile::default(), Resolved::fixed(provider)),
            ..Shared::default()
        })
    };
    let mut chaos = host
        .load("chaos.wasm", chaos_wasm(), shared(Provider::Gke))
        .unwrap();
    assert_eq!(chaos.contract, Contract::V0_1);
    // 0.1 metadata, translated: no requirements, the applicability folded into `fix`.
    let rule = &chaos.info.rules[0];
    assert_eq!(rule.id, "chaos-report");
    assert!(rule.requires.providers.is_empty() && !rule.requires.complete_set);
    assert_eq!(
        messages(&chaos.evaluate(&object("provider")).unwrap()),
        ["chaos-report: provider gke"]
    );
    for provider in [Provider::Eks, Provider::Openshift, Provider::Unknown] {
        chaos.set_shared(shared(provider));
        assert_eq!(
            messages(&chaos.evaluate(&object("provider")).unwrap()),
            ["chaos-report: provider generic"],
            "{provider:?}"
        );
    }
    for builtin in kubectl_vllm_builtin::POLICIES {
        let policy = host
            .load_precompiled(
                builtin.name,
                builtin.wasm,
                builtin.precompiled.as_ref(),
                shared(Provider::Gke),
            )
            .unwrap();
        assert_eq!(policy.contract, Contract::V0_2, "{}", builtin.name);
    }
}

#[test]
fn a_component_importing_filesystem_or_sockets_is_refused_naming_the_imports() {
    let wasm = std::fs::read(kubectl_vllm_builtin::TEST_POLICY_FORBIDDEN).unwrap();
    let host = host();
    let Err(error) = host.load("forbidden.wasm", &wasm, Arc::new(Shared::default())) else {
        panic!("a component importing sockets and preopens loaded");
    };
    let message = error.to_string();
    assert!(
        message.starts_with("policy `forbidden.wasm` failed to load"),
        "{message}"
    );
    assert!(message.contains("`wasi:filesystem/preopens@"), "{message}");
    assert!(message.contains("`wasi:sockets/"), "{message}");
    assert!(message.contains("which a policy may not use"), "{message}");
    // `inspect` lists every import and says which are refused, without running the policy.
    let (surface, policy) = host
        .inspect("forbidden.wasm", &wasm, Arc::new(Shared::default()))
        .unwrap();
    assert_eq!(surface.version.as_deref(), Some("0.2.2"));
    let refused = surface.refused_imports();
    assert!(
        refused
            .iter()
            .any(|i| i.starts_with("wasi:filesystem/preopens@")),
        "{refused:?}"
    );
    assert!(
        refused
            .iter()
            .all(|i| !i.starts_with("kubectl-vllm:policy/")),
        "{refused:?}"
    );
    assert!(policy.is_err());
}

#[test]
fn every_builtin_policy_imports_only_the_allowed_interfaces() {
    let host = host();
    for builtin in kubectl_vllm_builtin::POLICIES {
        let (surface, policy) = host
            .inspect(builtin.name, builtin.wasm, Arc::new(Shared::default()))
            .unwrap();
        assert_eq!(
            surface.refused_imports(),
            Vec::<&str>::new(),
            "{}",
            builtin.name
        );
        assert!(policy.is_ok(), "{}", builtin.name);
    }
}

/// The built-in access policy, and the same policy as contract 0.2.1 built it (no `lifecycle`
/// export; fixtures/contract/README.md).
fn access_policies(host: &Host) -> [(&'static str, kubectl_vllm_host::Policy); 2] {
    let builtin = kubectl_vllm_builtin::POLICIES
        .iter()
        .find(|b| b.name == "access")
        .unwrap();
    let empty = Arc::new(Shared::default());
    let old = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/contract/policy-access-0.2.1.wasm"
    ))
    .unwrap();
    [
        (
            "0.2.2",
            host.load_precompiled(
                "access",
                builtin.wasm,
                builtin.precompiled.as_ref(),
                Arc::clone(&empty),
            )
            .unwrap(),
        ),
        ("0.2.1", host.load("access-0.2.1", &old, empty).unwrap()),
    ]
}

/// An input set on GKE holding `objects`, and the evaluation of the `default` ServiceAccount of
/// namespace `ml` by `wi-ksa-annotation`, which lists the namespace's Deployments (the SDK keeps
/// that list for the rest of the set).
fn default_account_set(with_workload: bool) -> (Arc<Shared>, Evaluation) {
    let reference = |kind: &str, name: &str| ObjectRef {
        api_version: if kind == "Deployment" {
            "apps/v1"
        } else {
            "v1"
        }
        .into(),
        kind: kind.into(),
        namespace: Some("ml".into()),
        name: name.into(),
    };
    let account = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "ml"}});
    // Runs as `default` and copies the model from Cloud Storage: it needs Workload Identity.
    let workload = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "vllm", "namespace": "ml"},
        "spec": {"template": {"spec": {
            "initContainers": [{"name": "copy", "image": "google/cloud-sdk:499.0.0-slim",
                "command": ["gsutil", "cp", "-r", "gs://models/gemma", "/models"]}],
            "containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.2"}]}}}});
    let mut inventory = kubectl_vllm_host::Inventory::default();
    inventory.insert(reference("ServiceAccount", "default"), &account);
    if with_workload {
        inventory.insert(reference("Deployment", "vllm"), &workload);
    }
    let shared = Arc::new(Shared {
        inventory,
        cluster: Cluster::from_profile(&ClusterProfile::default(), Resolved::fixed(Provider::Gke)),
        ..Shared::default()
    });
    let evaluation = Evaluation {
        object_ref: reference("ServiceAccount", "default"),
        object: account.to_string(),
        rules: vec!["wi-ksa-annotation".into()],
    };
    (shared, evaluation)
}

/// Evaluates the `default` ServiceAccount in two alternating sets, `rounds` times: with the
/// Deployment that needs it annotated (one finding), then without (none).
fn alternate_sets(policy: &mut kubectl_vllm_host::Policy, rounds: usize, label: &str) {
    for round in 0..rounds {
        for with_workload in [true, false] {
            let (shared, evaluation) = default_account_set(with_workload);
            policy.set_shared(shared);
            let findings = policy.evaluate(&evaluation).unwrap().len();
            assert_eq!(
                findings,
                usize::from(with_workload),
                "{label}, round {round}, with the Deployment: {with_workload}"
            );
        }
    }
}

#[test]
fn a_reusable_policy_keeps_its_instance_across_sets_and_forgets_what_it_kept() {
    let host = host();
    let [(_, mut reusable), (_, mut fresh)] = access_policies(&host);
    assert!(reusable.reusable());
    assert!(!fresh.reusable());
    // Had the kept instance not been reset, the second set would see the first's Deployments.
    alternate_sets(&mut reusable, 3, "0.2.2");
    alternate_sets(&mut fresh, 3, "0.2.1");
    // One instance for the metadata and all six sets, against one per set (and the metadata's).
    assert_eq!(reusable.instantiations(), 1);
    assert_eq!(fresh.instantiations(), 7);
}

#[test]
fn a_reset_that_traps_is_named_and_the_next_set_gets_a_fresh_instance() {
    let host = host();
    let wasm = std::fs::read(kubectl_vllm_builtin::TEST_POLICY_HOSTILE).unwrap();
    let mut policy = host
        .load("hostile.wasm", &wasm, Arc::new(Shared::default()))
        .unwrap();
    assert!(policy.reusable());
    let evaluation = |mode: &str| {
        let mut evaluation = object(mode);
        evaluation.object = evaluation
            .object
            .replace("chaos.kubectl-vllm.dev", "hostile.kubectl-vllm.dev");
        evaluation.rules = vec!["hostile-one".into()];
        evaluation
    };
    let reported = |outcomes: Vec<Outcome>| -> Vec<String> {
        outcomes
            .iter()
            .map(|o| match o {
                Outcome::Finding(f) => f.message.clone(),
                Outcome::Skipped(s) => format!("skipped: {s:?}"),
            })
            .collect()
    };
    // The first set arms the trap; the instance is kept for the next set, whose reset traps.
    let armed = policy.evaluate(&evaluation("trap-at-reset")).unwrap();
    assert_eq!(reported(armed), ["armed: the next reset traps"]);
    assert_eq!(policy.instantiations(), 1);
    policy.set_shared(Arc::new(Shared::default()));
    let error = policy.evaluate(&evaluation("report")).unwrap_err();
    let PolicyError::Trap {
        policy: name,
        message,
    } = &error
    else {
        panic!("expected a trap, got {error}");
    };
    assert_eq!(name, "hostile");
    assert!(
        message.starts_with("in `lifecycle.reset`, before this object: ")
            && message.contains("hostile policy asked to trap at reset"),
        "{message}"
    );
    // The trapped instance is gone: the same object, asked again, gets a fresh one.
    let report = policy.evaluate(&evaluation("report")).unwrap();
    assert_eq!(reported(report), ["hostile report"]);
    assert_eq!(policy.instantiations(), 2);
    // That fresh instance is reset normally when the set changes again.
    policy.set_shared(Arc::new(Shared::default()));
    assert_eq!(
        reported(policy.evaluate(&evaluation("report")).unwrap()),
        ["hostile report"]
    );
    assert_eq!(policy.instantiations(), 2);
}

#[test]
fn a_reusable_instance_past_half_its_memory_cap_is_replaced() {
    // The access policy's instance holds a little over 1 MiB: past half a 2 MiB cap, well below
    // half of 8 MiB.
    for (megabytes, instantiations) in [(2, 4), (8, 1)] {
        let host = Host::new(
            shared_cache(),
            Limits {
                timeout: Duration::from_secs(2),
                memory_bytes: megabytes << 20,
            },
        )
        .unwrap();
        let [(_, mut reusable), _] = access_policies(&host);
        for with_workload in [true, false, true] {
            let (shared, evaluation) = default_account_set(with_workload);
            reusable.set_shared(shared);
            assert_eq!(
                reusable.evaluate(&evaluation).unwrap().len(),
                usize::from(with_workload)
            );
        }
        assert_eq!(reusable.instantiations(), instantiations, "{megabytes} MiB");
    }
}
