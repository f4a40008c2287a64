//! Server-side apply of a manifest set, in dependency order, and server-side dry-run diffs.

use std::collections::HashMap;

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersion;
use kube::discovery::{self, ApiGroup, Scope};
use serde_json::{Value, json};

use crate::{ClusterError, Connection};

/// Apply order: what others depend on first (kubectl applies in file order, which breaks a
/// PVC that names a StorageClass defined later in the same run).
#[must_use]
pub fn rank(kind: &str) -> u8 {
    match kind {
        "CustomResourceDefinition" | "Namespace" => 0,
        "StorageClass" | "PriorityClass" | "RuntimeClass" => 1,
        "PersistentVolume" => 2,
        "ServiceAccount" | "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding" => 3,
        "Secret" => 4,
        "ConfigMap" => 5,
        "PersistentVolumeClaim" => 6,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" | "Pod"
        | "LeaderWorkerSet" => 7,
        "Service" => 8,
        _ => 9,
    }
}

/// An object resolved through API discovery, ready to send.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The object, namespace filled in for namespaced kinds.
    pub object: Value,
    /// Its API resource (group, version, plural).
    pub resource: ApiResource,
    /// Its namespace, for namespaced kinds.
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// How kubectl names it: `deployment.apps/vllm-gemma-1b`, `service/vllm`.
    pub reference: String,
}

impl Planned {
    /// Its URL path, as the errors of requests about it name it.
    pub(crate) fn path(&self) -> String {
        crate::error::resource_path(
            &self.resource.group,
            &self.resource.version,
            &self.resource.plural,
            self.namespace.as_deref(),
            Some(&self.name),
        )
    }

    /// Whether it goes into one of `namespaces` (those a dry run "creates").
    fn lands_in(&self, namespaces: &[String]) -> bool {
        self.namespace
            .as_ref()
            .is_some_and(|ns| namespaces.contains(ns))
    }
}

/// Orders `objects` for applying and resolves each kind through discovery (one request per
/// group-version, so CRDs such as LeaderWorkerSet work). Objects of namespaced kinds without a
/// namespace get `namespace`. Nothing is sent when a kind is unknown to the server. Groups in
/// `new_groups` belong to CustomResourceDefinitions just applied: their discovery is retried
/// for up to 10 s while the API server starts serving them.
pub async fn plan(
    connection: &Connection,
    objects: &[Value],
    namespace: &str,
    new_groups: &[String],
) -> Result<Vec<Planned>, ClusterError> {
    let mut ordered: Vec<&Value> = objects.iter().collect();
    ordered.sort_by_key(|o| rank(o["kind"].as_str().unwrap_or("")));
    // One discovery document per group-version, fetched once.
    let mut groups: HashMap<String, Option<ApiGroup>> = HashMap::new();
    let mut planned = Vec::with_capacity(ordered.len());
    for object in ordered {
        let api_version = object["apiVersion"].as_str().unwrap_or("").to_string();
        let kind = object["kind"].as_str().unwrap_or("").to_string();
        if !groups.contains_key(&api_version) {
            let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
            let gv = GroupVersion::gv(group, version);
            let patience = if new_groups.iter().any(|g| g == group) {
                20
            } else {
                1
            };
            let mut found = None;
            for attempt in 0..patience {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                found = match discovery::pinned_group(&connection.client, &gv).await {
                    Ok(found) => Some(found),
                    // The group-version is not served (yet).
                    Err(kube::Error::Discovery(_)) => None,
                    Err(e) => match connection.error(
                        e,
                        "GET",
                        &if group.is_empty() {
                            format!("/api/{version}")
                        } else {
                            format!("/apis/{group}/{version}")
                        },
                    ) {
                        ClusterError::Api { code: 404, .. } => None,
                        other => return Err(other),
                    },
                };
                if found.as_ref().is_some_and(|g| {
                    g.versioned_resources(version)
                        .iter()
                        .any(|(r, _)| r.kind == kind)
                }) {
                    break;
                }
            }
            groups.insert(api_version.clone(), found);
        }
        let version = api_version.rsplit('/').next().unwrap_or(&api_version);
        let Some((resource, capabilities)) = groups[&api_version].as_ref().and_then(|g| {
            g.versioned_resources(version)
                .into_iter()
                .find(|(r, _)| r.kind == kind)
        }) else {
            return Err(no_match(&kind, &api_version));
        };
        let namespaced = capabilities.scope == Scope::Namespaced;
        let mut object = object.clone();
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let namespace = namespaced.then(|| {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(namespace)
                .to_string()
        });
        if let Some(ns) = &namespace {
            object["metadata"]["namespace"] = json!(ns);
        }
        let reference = if resource.group.is_empty() {
            format!("{}/{name}", kind.to_lowercase())
        } else {
            format!("{}.{}/{name}", kind.to_lowercase(), resource.group)
        };
        planned.push(Planned {
            object,
            resource,
            namespace,
            name,
            reference,
        });
    }
    Ok(planned)
}

/// kubectl's error for a kind the server does not serve.
fn no_match(kind: &str, api_version: &str) -> ClusterError {
    ClusterError::Api {
        code: 404,
        reason: "NotFound".into(),
        message: format!(
            "no matches for kind \"{kind}\" in version \"{api_version}\": ensure its CustomResourceDefinition is installed first"
        ),
        conflicts: Vec::new(),
    }
}

/// How an apply is sent.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// `fieldManager` (kubectl-vllm).
    pub field_manager: String,
    /// Take ownership of fields another manager owns (`force=true`).
    pub force_conflicts: bool,
    /// `dryRun=All`: admission runs, nothing is stored.
    pub dry_run: bool,
}

/// What an apply did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The object did not exist.
    Created,
    /// The object changed.
    Configured,
    /// The apply changed nothing (same resourceVersion).
    Unchanged,
    /// A dry run could not send it: its namespace is created by this same run, and a server
    /// refuses dry runs in a namespace that does not exist yet.
    NotValidated,
}

/// One applied object.
#[derive(Debug, Clone)]
pub struct Applied {
    /// `deployment.apps/vllm`.
    pub reference: String,
    /// Namespace, for namespaced kinds.
    pub namespace: Option<String>,
    /// What happened.
    pub outcome: Outcome,
    /// The object as the server returned it.
    pub object: Value,
}

/// The result of applying a set: what was applied, the failure that stopped it, and what was
/// never sent.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Applied, in order.
    pub applied: Vec<Applied>,
    /// The object that failed, and why.
    pub failed: Option<(String, ClusterError)>,
    /// Objects not sent because an earlier one failed.
    pub not_applied: Vec<String>,
}

fn api_for(connection: &Connection, planned: &Planned) -> Api<DynamicObject> {
    match &planned.namespace {
        Some(ns) => Api::namespaced_with(connection.client.clone(), ns, &planned.resource),
        None => Api::all_with(connection.client.clone(), &planned.resource),
    }
}

fn patch_params(options: &ApplyOptions) -> PatchParams {
    let mut params = PatchParams::apply(&options.field_manager);
    params.force = options.force_conflicts;
    params.dry_run = options.dry_run;
    params
}

/// Server-side applies `planned` in order; stops at the first failure.
pub async fn apply_all(
    connection: &Connection,
    planned: &[Planned],
    options: &ApplyOptions,
) -> ApplyReport {
    let mut report = ApplyReport::default();
    let params = patch_params(options);
    // Namespaces a dry run "creates": nothing in them can be dry-run.
    let mut new_namespaces: Vec<String> = Vec::new();
    for (i, item) in planned.iter().enumerate() {
        if item.lands_in(&new_namespaces) {
            report.applied.push(Applied {
                reference: item.reference.clone(),
                namespace: item.namespace.clone(),
                outcome: Outcome::NotValidated,
                object: item.object.clone(),
            });
            continue;
        }
        let api = api_for(connection, item);
        // Metadata only (never a Secret's values); a refused GET just leaves the outcome open.
        let before = api.get_metadata_opt(&item.name).await.ok();
        match api
            .patch(&item.name, &params, &Patch::Apply(&item.object))
            .await
        {
            Ok(after) => {
                if options.dry_run
                    && item.object["kind"] == "Namespace"
                    && matches!(before, Some(None))
                {
                    new_namespaces.push(item.name.clone());
                }
                let outcome = match before {
                    Some(None) => Outcome::Created,
                    // A dry run keeps the live resourceVersion whatever it would change.
                    Some(Some(b))
                        if !options.dry_run
                            && b.metadata.resource_version == after.metadata.resource_version =>
                    {
                        Outcome::Unchanged
                    }
                    _ => Outcome::Configured,
                };
                report.applied.push(Applied {
                    reference: item.reference.clone(),
                    namespace: item.namespace.clone(),
                    outcome,
                    object: serde_json::to_value(&after).unwrap_or(Value::Null),
                });
            }
            Err(e) => {
                report.failed = Some((
                    item.reference.clone(),
                    connection.error(e, "PATCH", &item.path()),
                ));
                report.not_applied = planned[i + 1..]
                    .iter()
                    .map(|p| p.reference.clone())
                    .collect();
                break;
            }
        }
    }
    report
}

/// For each object, the live object (`None` when it does not exist) and what a server-side
/// apply would make of it (a dry run: admission runs, nothing is stored).
pub async fn diff_all(
    connection: &Connection,
    planned: &[Planned],
    options: &ApplyOptions,
) -> Result<Vec<(String, Option<Value>, Value)>, (String, ClusterError)> {
    let mut params = patch_params(options);
    params.dry_run = true;
    let mut out = Vec::with_capacity(planned.len());
    let mut new_namespaces: Vec<String> = Vec::new();
    for item in planned {
        // In a namespace this run creates, the object is new as written.
        if item.lands_in(&new_namespaces) {
            out.push((item.reference.clone(), None, item.object.clone()));
            continue;
        }
        let api = api_for(connection, item);
        let fail = |e| {
            (
                item.reference.clone(),
                connection.error(e, "GET", &item.path()),
            )
        };
        let live = api.get_opt(&item.name).await.map_err(fail)?;
        if item.object["kind"] == "Namespace" && live.is_none() {
            new_namespaces.push(item.name.clone());
        }
        let merged = api
            .patch(&item.name, &params, &Patch::Apply(&item.object))
            .await
            .map_err(fail)?;
        out.push((
            item.reference.clone(),
            live.map(|l| serde_json::to_value(&l).unwrap_or(Value::Null)),
            serde_json::to_value(&merged).unwrap_or(Value::Null),
        ));
    }
    Ok(out)
}

/// Plans and applies `objects`. CustomResourceDefinitions go first, in a run of their own (not
/// in a dry run, which creates nothing): their custom resources can only be resolved once the
/// server serves them. Fails only when nothing was sent.
pub async fn plan_and_apply(
    connection: &Connection,
    objects: Vec<Value>,
    namespace: &str,
    options: &ApplyOptions,
) -> Result<(Vec<Planned>, ApplyReport), ClusterError> {
    let (definitions, rest): (Vec<Value>, Vec<Value>) = objects
        .into_iter()
        .partition(|o| o["kind"] == "CustomResourceDefinition" && !options.dry_run);
    let mut planned = Vec::new();
    let mut report = ApplyReport::default();
    let mut new_groups = Vec::new();
    if !definitions.is_empty() {
        planned = plan(connection, &definitions, namespace, &[]).await?;
        report = apply_all(connection, &planned, options).await;
        if report.failed.is_some() {
            report.not_applied.extend(rest.iter().map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("").to_lowercase(),
                    o.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )
            }));
            return Ok((planned, report));
        }
        new_groups = definitions
            .iter()
            .filter_map(|d| d.pointer("/spec/group").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
    }
    let second = match plan(connection, &rest, namespace, &new_groups).await {
        Ok(second) => second,
        Err(e) if report.applied.is_empty() => return Err(e),
        Err(e) => {
            report.failed = Some(("discovery".into(), e));
            return Ok((planned, report));
        }
    };
    let more = apply_all(connection, &second, options).await;
    planned.extend(second);
    report.applied.extend(more.applied);
    report.failed = more.failed;
    report.not_applied = more.not_applied;
    Ok((planned, report))
}
