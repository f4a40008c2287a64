//! Policies built against `kubectl-vllm:policy@0.1.x` (`wit/v0.1/policy.wit`), kept loading for
//! one release as that contract promised. The adapter translates at the boundary:
//!
//! - metadata: the 0.1 `fix-availability` and `fix-applicability` pair becomes 0.2's variant; a
//!   0.1 rule has no requirements, so the host runs it under every provider;
//! - the provider a 0.1 policy sees is `gke` on GKE and `generic` for every other provider,
//!   `unknown` included (0.1 has no other case), so its GKE checks stay off wherever the run is
//!   not known to be GKE;
//! - findings come back as 0.2 findings; as 0.1 allowed, a 0.1 policy may also report the
//!   host-owned `model-unknown` and `accelerator-unknown` (0.2 policies say `skipped` instead).

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use crate::bindings::kubectl_vllm::policy::types as now;
use crate::provider::Provider;
use crate::state::State;

#[allow(missing_docs, clippy::pedantic)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.1/policy.wit",
        world: "policy-world",
    });
}

use bindings::kubectl_vllm::policy::{cluster, facts, inventory, types as old};

/// Host-owned rule ids a 0.1 policy may report besides its own.
const BORROWED_RULES: &[&str] = &["model-unknown", "accelerator-unknown"];

pub(crate) type World = bindings::PolicyWorld;

/// A pre-linked 0.1 component.
#[derive(Clone)]
pub(crate) struct Pre(bindings::PolicyWorldPre<State>);

impl Pre {
    pub(crate) fn new(pre: InstancePre<State>) -> wasmtime::Result<Self> {
        bindings::PolicyWorldPre::new(pre).map(Self)
    }

    pub(crate) fn instantiate(&self, store: &mut Store<State>) -> wasmtime::Result<World> {
        self.0.instantiate(store)
    }
}

pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    bindings::PolicyWorld::add_to_linker::<State, HasSelf<State>>(linker, |s| s)
}

pub(crate) fn metadata(
    world: &World,
    store: &mut Store<State>,
) -> wasmtime::Result<now::PolicyInfo> {
    let info = world.kubectl_vllm_policy_policy().call_metadata(store)?;
    Ok(now::PolicyInfo {
        name: info.name,
        version: info.version,
        rules: info
            .rules
            .into_iter()
            .map(|r| now::RuleInfo {
                id: r.id,
                default_severity: severity(r.default_severity),
                fix: match r.fix_availability {
                    old::FixAvailability::None => now::FixAvailability::None,
                    old::FixAvailability::Sometimes => {
                        now::FixAvailability::Sometimes(applicability(r.fix_applicability))
                    }
                    old::FixAvailability::Always => {
                        now::FixAvailability::Always(applicability(r.fix_applicability))
                    }
                },
                requires: now::Requirements {
                    providers: Vec::new(),
                    complete_set: false,
                },
                summary: r.summary,
                documentation: r.documentation,
            })
            .collect(),
    })
}

pub(crate) fn evaluate(
    world: &World,
    store: &mut Store<State>,
    input: &now::Evaluation,
) -> wasmtime::Result<Result<Vec<now::Outcome>, String>> {
    let input = old::Evaluation {
        object_ref: object_ref(&input.object_ref),
        object: input.object.clone(),
    };
    let result = world
        .kubectl_vllm_policy_policy()
        .call_evaluate(store, &input)?;
    Ok(result.map(|findings| {
        findings
            .into_iter()
            .map(|f| now::Outcome::Finding(finding(f)))
            .collect()
    }))
}

/// A 0.1 finding is valid for one of its policy's rules or a borrowed host id.
pub(crate) fn validate(info: &now::PolicyInfo, finding: &now::Finding) -> Result<(), String> {
    let rule = &finding.rule;
    let known = info.rules.iter().any(|r| &r.id == rule) || BORROWED_RULES.contains(&rule.as_str());
    if !known {
        return Err(format!(
            "finding for rule `{rule}`, which the policy does not declare"
        ));
    }
    crate::validate::validate_location(rule, &finding.pointer, finding.sub_span)?;
    if finding.message.trim().is_empty() {
        return Err(format!("rule `{rule}`: empty message"));
    }
    if let Some(fix) = &finding.fix {
        crate::validate::validate_operations(rule, &fix.operations)?;
    }
    Ok(())
}

fn severity(s: old::Severity) -> now::Severity {
    match s {
        old::Severity::Error => now::Severity::Error,
        old::Severity::Warning => now::Severity::Warning,
        old::Severity::Info => now::Severity::Info,
    }
}

fn applicability(a: old::Applicability) -> now::Applicability {
    match a {
        old::Applicability::Safe => now::Applicability::Safe,
        old::Applicability::Unsafe => now::Applicability::Unsafe,
        old::Applicability::DisplayOnly => now::Applicability::DisplayOnly,
    }
}

fn object_ref(r: &now::ObjectRef) -> old::ObjectRef {
    old::ObjectRef {
        api_version: r.api_version.clone(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
    }
}

fn finding(f: old::Finding) -> now::Finding {
    now::Finding {
        rule: f.rule,
        message: f.message,
        help: f.help,
        pointer: f.pointer,
        severity: f.severity.map(severity),
        sub_span: f.sub_span.map(|s| now::SubSpan {
            start: s.start,
            end: s.end,
        }),
        fix: f.fix.map(|fix| now::Fix {
            title: fix.title,
            applicability: applicability(fix.applicability),
            operations: fix
                .operations
                .into_iter()
                .map(|op| match op {
                    old::PatchOp::Replace(pv) => now::PatchOp::Replace(now::PathValue {
                        path: pv.path,
                        value: pv.value,
                    }),
                    old::PatchOp::Add(pv) => now::PatchOp::Add(now::PathValue {
                        path: pv.path,
                        value: pv.value,
                    }),
                    old::PatchOp::Remove(path) => now::PatchOp::Remove(path),
                })
                .collect(),
        }),
    }
}

impl old::Host for State {}

impl inventory::Host for State {
    fn get(
        &mut self,
        kind: String,
        namespace: Option<String>,
        name: String,
    ) -> Option<inventory::Object> {
        let found = <Self as crate::bindings::kubectl_vllm::policy::inventory::Host>::get(
            self, kind, namespace, name,
        )?;
        Some(inventory::Object {
            object_ref: object_ref(&found.object_ref),
            json: found.json,
        })
    }

    fn list(
        &mut self,
        kind: String,
        namespace: Option<String>,
        label_selector: String,
    ) -> Vec<inventory::Object> {
        <Self as crate::bindings::kubectl_vllm::policy::inventory::Host>::list(
            self,
            kind,
            namespace,
            label_selector,
        )
        .into_iter()
        .map(|o| inventory::Object {
            object_ref: object_ref(&o.object_ref),
            json: o.json,
        })
        .collect()
    }
}

fn model(m: &crate::facts::ModelFact) -> facts::Model {
    let m = crate::imports::model_record(m);
    facts::Model {
        id: m.id,
        aliases: m.aliases,
        weights_mib: m.weights_mib,
        repository_mib: m.repository_mib,
        extra_folders: m.extra_folders,
        attention_heads: m.attention_heads,
        vision_heads: m.vision_heads,
        kv_heads: m.kv_heads,
        layers: m.layers,
        full_attention_layers: m.full_attention_layers,
        sliding_window: m.sliding_window,
        head_dim: m.head_dim,
        max_context: m.max_context,
        dtype: m.dtype,
        model_type: m.model_type,
        min_vllm: m.min_vllm,
        min_compute_capability: m.min_compute_capability,
        gated: m.gated,
        source: m.source,
    }
}

/// 0.1 keyed accelerators by their GKE label: only GKE-offered rows are visible to it.
fn accelerator(a: &crate::facts::AcceleratorFact) -> facts::Accelerator {
    facts::Accelerator {
        label: a.id.clone(),
        name: a.name.clone(),
        memory_mib: a.memory_mib,
        compute_capability: a.compute_capability,
        bf16: a.bf16(),
        fp8: a.fp8(),
        gpus_per_node: a.gpus_per_node.clone(),
        autopilot_counts: a.autopilot_counts.clone(),
        typos: a.typos.clone(),
        source: a.source.clone(),
    }
}

impl facts::Host for State {
    fn get_model(&mut self, name: String) -> Option<facts::Model> {
        self.shared.facts.model(&name).map(model)
    }

    fn list_models(&mut self) -> Vec<facts::Model> {
        self.shared.facts.models.iter().map(model).collect()
    }

    fn get_accelerator(&mut self, label: String) -> Option<facts::Accelerator> {
        self.shared
            .facts
            .accelerator(&label)
            .filter(|a| a.on_gke())
            .map(accelerator)
    }

    fn list_accelerators(&mut self) -> Vec<facts::Accelerator> {
        self.shared
            .facts
            .accelerators
            .iter()
            .filter(|a| a.on_gke())
            .map(accelerator)
            .collect()
    }
}

impl cluster::Host for State {
    fn get_profile(&mut self) -> cluster::Profile {
        let c = &self.shared.cluster;
        cluster::Profile {
            provider: if c.provider.provider == Provider::Gke {
                cluster::Provider::Gke
            } else {
                cluster::Provider::Generic
            },
            autopilot: c.autopilot,
            extended_resource_toleration: c.extended_resource_toleration,
            live: c.live,
        }
    }

    fn list_node_pools(&mut self) -> Vec<cluster::NodePool> {
        self.shared
            .cluster
            .node_pools
            .iter()
            .map(|p| {
                let pool = crate::imports::node_pool(p, &self.shared.facts);
                // 0.1 names accelerators by their GKE label: a pool's GPU that GKE does not
                // offer (found from GFD or an instance type) is unknown to it.
                let tables = &self.shared.facts;
                let accelerator = pool.accelerator.filter(|id| {
                    tables
                        .accelerator(id)
                        .is_some_and(crate::facts::AcceleratorFact::on_gke)
                });
                cluster::NodePool {
                    name: pool.name,
                    accelerator,
                    gpus_per_node: pool.gpus_per_node,
                    labels: pool.labels,
                    taints: pool
                        .taints
                        .into_iter()
                        .map(|t| cluster::Taint {
                            key: t.key,
                            value: t.value,
                            effect: t.effect,
                        })
                        .collect(),
                }
            })
            .collect()
    }

    fn list_storage_classes(&mut self) -> Vec<cluster::StorageClass> {
        self.shared
            .cluster
            .storage_classes
            .iter()
            .map(|s| cluster::StorageClass {
                name: s.name.clone(),
                provisioner: s.provisioner.clone(),
                parameters: s.parameters.clone().into_iter().collect(),
                volume_binding_mode: s.volume_binding_mode.clone(),
                is_default: s.is_default,
            })
            .collect()
    }
}
