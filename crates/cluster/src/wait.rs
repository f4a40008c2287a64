//! `apply --wait`: watch each workload's rollout until it is available or the deadline passes,
//! and say why a pod is stuck (the scheduler's or kubelet's own words).

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use serde_json::Value;

use crate::{ClusterError, Connection, Planned};

/// Where a workload's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// `deployment.apps/vllm`.
    pub reference: String,
    /// `0/1 available`.
    pub progress: String,
    /// Whether it is available.
    pub done: bool,
    /// Why a pod is not running, when one is stuck.
    pub stuck: Option<String>,
    /// Why waiting stopped early: the workload failed (a failed Pod, an exceeded progress
    /// deadline) or was deleted.
    pub failed: Option<String>,
}

/// Whether `kind` is waited for.
#[must_use]
pub fn waits_for(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment" | "StatefulSet" | "LeaderWorkerSet" | "Pod"
    )
}

/// Watches each workload of `planned` in turn until it is available, calling `report` whenever
/// its progress changes; stops at `deadline` with the workloads not yet available (and why).
pub async fn wait_for(
    connection: &Connection,
    planned: &[Planned],
    deadline: Instant,
    report: &mut dyn FnMut(&Rollout),
) -> Result<Vec<Rollout>, ClusterError> {
    let mut results = Vec::new();
    for item in planned
        .iter()
        .filter(|p| waits_for(p.object["kind"].as_str().unwrap_or("")))
    {
        results.push(wait_one(connection, item, deadline, report).await?);
    }
    Ok(results)
}

async fn wait_one(
    connection: &Connection,
    item: &Planned,
    deadline: Instant,
    report: &mut dyn FnMut(&Rollout),
) -> Result<Rollout, ClusterError> {
    let fail = |e| connection.error(e, "GET", &item.path());
    let api: Api<DynamicObject> = match &item.namespace {
        Some(ns) => Api::namespaced_with(connection.client.clone(), ns, &item.resource),
        None => Api::all_with(connection.client.clone(), &item.resource),
    };
    let mut last = Rollout {
        reference: item.reference.clone(),
        progress: "waiting".into(),
        done: false,
        stuck: None,
        failed: None,
    };
    let mut latest: Option<Value> = None;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Ok(last);
        }
        // A short watch, so a stuck pod is diagnosed while we wait.
        let seconds = remaining.min(Duration::from_secs(10)).as_secs().max(1);
        let params = WatchParams::default()
            .fields(&format!("metadata.name={}", item.name))
            .timeout(u32::try_from(seconds).unwrap_or(10));
        // A dropped connection (a load balancer's idle reset) is retried, not fatal.
        let mut retries = 0;
        let mut events = loop {
            match api.watch(&params, "0").await {
                Ok(stream) => break Box::pin(stream),
                Err(e) => match fail(e) {
                    ClusterError::Unreachable { .. }
                        if retries < 3 && Instant::now() < deadline =>
                    {
                        retries += 1;
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    other => return Err(other),
                },
            }
        };
        while let Some(event) = events.next().await {
            match event.map_err(fail)? {
                WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                    let object = serde_json::to_value(&object).unwrap_or(Value::Null);
                    let (progress, state) = status_of(&object);
                    latest = Some(object);
                    let done = state == State::Done;
                    let failed = match state {
                        State::Failed(why) => Some(why),
                        State::Waiting | State::Done => None,
                    };
                    if done || failed.is_some() || progress != last.progress {
                        last = Rollout {
                            progress,
                            done,
                            stuck: None,
                            failed,
                            ..last
                        };
                        report(&last);
                    }
                    if last.done || last.failed.is_some() {
                        return Ok(last);
                    }
                }
                WatchEvent::Deleted(_) => {
                    last.progress = "deleted".into();
                    last.failed = Some("deleted while waiting".into());
                    report(&last);
                    return Ok(last);
                }
                WatchEvent::Bookmark(_) => {}
                WatchEvent::Error(status) => {
                    return Err(connection.error(
                        kube::Error::Api(status),
                        "GET",
                        &format!("{}?watch=true", item.path()),
                    ));
                }
            }
        }
        // The watch ended without the rollout finishing: look at its pods.
        if let Some(object) = &latest {
            let stuck = stuck_reason(connection, item, object).await?;
            if stuck != last.stuck {
                last.stuck = stuck;
                report(&last);
            }
        }
    }
}

/// Where a workload stands, from its status.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Still rolling out.
    Waiting,
    /// Available (a Pod: ready or succeeded).
    Done,
    /// It will not get there by waiting (a failed Pod, an exceeded progress deadline).
    Failed(String),
}

/// `(progress, state)` of a workload, judged as `kubectl rollout status` does: the status must
/// be of the current generation, every replica updated, no old replica left, and enough
/// available.
fn status_of(object: &Value) -> (String, State) {
    let number = |pointer: &str| object.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let current = number("/status/observedGeneration") >= number("/metadata/generation");
    let condition = |kind: &str, status: &str| {
        object
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter()
                    .find(|c| c["type"] == kind && c["status"] == status)
            })
            .cloned()
    };
    let replicas = object
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let updated = number("/status/updatedReplicas");
    match object["kind"].as_str().unwrap_or("") {
        "Pod" => match object.pointer("/status/phase").and_then(Value::as_str) {
            Some("Failed") => ("failed".into(), State::Failed("the pod failed".into())),
            Some("Succeeded") => ("succeeded".into(), State::Done),
            _ if condition("Ready", "True").is_some() => ("ready".into(), State::Done),
            _ => ("not ready".into(), State::Waiting),
        },
        "LeaderWorkerSet" => {
            let ready = number("/status/readyReplicas");
            // Available stays True from the previous revision while an update rolls out.
            let done = condition("Available", "True").is_some()
                && condition("UpdateInProgress", "True").is_none()
                && updated >= replicas
                && ready >= replicas;
            let state = if done { State::Done } else { State::Waiting };
            (format!("{ready}/{replicas} groups ready"), state)
        }
        kind => {
            let available = if kind == "StatefulSet" {
                number("/status/readyReplicas")
            } else {
                number("/status/availableReplicas")
            };
            let old = number("/status/replicas").saturating_sub(updated);
            let progress = if old > 0 && updated >= replicas {
                format!("{available}/{replicas} available, {old} old pending termination")
            } else {
                format!("{available}/{replicas} available")
            };
            if let Some(stalled) = condition("Progressing", "False")
                .filter(|c| c["reason"] == "ProgressDeadlineExceeded")
            {
                let message = stalled["message"].as_str().unwrap_or("").to_string();
                return (
                    progress,
                    State::Failed(format!("ProgressDeadlineExceeded: {message}")),
                );
            }
            let done = current && updated >= replicas && old == 0 && available >= replicas;
            (progress, if done { State::Done } else { State::Waiting })
        }
    }
}

/// The label selector of a workload's pods (`None`: it has no equality selector to use).
fn pod_selector(kind: &str, name: &str, object: &Value) -> Option<String> {
    if kind == "LeaderWorkerSet" {
        return Some(format!("leaderworkerset.sigs.k8s.io/name={name}"));
    }
    let labels = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .filter(|labels| !labels.is_empty())?;
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Why the workload's first stuck pod is stuck: its newest Warning event, else its scheduling
/// condition, else a waiting container's reason.
async fn stuck_reason(
    connection: &Connection,
    item: &Planned,
    object: &Value,
) -> Result<Option<String>, ClusterError> {
    let namespace = item.namespace.as_deref().unwrap_or(&connection.namespace);
    let pods_path = crate::error::resource_path("", "v1", "pods", Some(namespace), None);
    let fail = |e| connection.error(e, "GET", &pods_path);
    let pods: Api<Pod> = Api::namespaced(connection.client.clone(), namespace);
    let kind = object["kind"].as_str().unwrap_or("");
    let selector = if kind == "Pod" {
        None
    } else {
        // Without an equality selector there is no safe way to find its pods.
        let Some(selector) = pod_selector(kind, &item.name, object) else {
            return Ok(None);
        };
        Some(selector)
    };
    let candidates: Vec<Pod> = match selector {
        None => pods
            .get_opt(&item.name)
            .await
            .map_err(fail)?
            .into_iter()
            .collect(),
        Some(selector) => {
            pods.list(&ListParams::default().labels(&selector))
                .await
                .map_err(fail)?
                .items
        }
    };
    let events: Api<Event> = Api::namespaced(connection.client.clone(), namespace);
    for pod in candidates {
        let status = pod.status.clone().unwrap_or_default();
        let ready = status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        if ready {
            continue;
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        let phase = status.phase.clone().unwrap_or_else(|| "Pending".into());
        let warnings = events
            .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
            .await
            .map_err(|e| {
                let path = crate::error::resource_path("", "v1", "events", Some(namespace), None);
                connection.error(e, "GET", &path)
            })?;
        let newest = warnings
            .items
            .iter()
            .filter(|e| e.type_.as_deref() == Some("Warning"))
            .max_by_key(|e| {
                // Events written through events.k8s.io have only eventTime.
                let e = serde_json::to_value(e).unwrap_or(Value::Null);
                [
                    "/lastTimestamp",
                    "/eventTime",
                    "/series/lastObservedTime",
                    "/metadata/creationTimestamp",
                ]
                .iter()
                .find_map(|p| e.pointer(p).and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default()
            })
            .map(|e| because(e.reason.as_deref(), e.message.as_deref()));
        let unscheduled = status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            .map(|c| because(c.reason.as_deref(), c.message.as_deref()));
        let waiting = status
            .container_statuses
            .iter()
            .flatten()
            .find_map(|c| c.state.as_ref()?.waiting.clone())
            .map(|w| because(w.reason.as_deref(), w.message.as_deref()));
        if let Some(why) = newest.or(unscheduled).or(waiting) {
            return Ok(Some(format!("pod {name} {phase}: {why}")));
        }
    }
    Ok(None)
}

/// `Reason: message`.
fn because(reason: Option<&str>, message: Option<&str>) -> String {
    format!(
        "{}: {}",
        reason.unwrap_or_default(),
        message.unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{State, status_of};

    #[test]
    fn availability_by_kind() {
        let deployment = json!({"kind": "Deployment", "metadata": {"generation": 2},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}});
        assert_eq!(
            status_of(&deployment),
            ("1/2 available".to_string(), State::Waiting)
        );
        let mut done = deployment.clone();
        done["status"]["availableReplicas"] = json!(2);
        assert_eq!(status_of(&done), ("2/2 available".to_string(), State::Done));
        let mut stale = done.clone();
        stale["metadata"]["generation"] = json!(3);
        assert_eq!(
            status_of(&stale).1,
            State::Waiting,
            "an old generation's status does not count"
        );
        let mut surging = done.clone();
        surging["status"]["replicas"] = json!(3);
        assert_eq!(
            status_of(&surging),
            (
                "2/2 available, 1 old pending termination".to_string(),
                State::Waiting
            )
        );
        let mut stalled = deployment.clone();
        stalled["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"v-1\" has timed out progressing."}]);
        assert!(
            matches!(status_of(&stalled).1, State::Failed(why) if why.contains("timed out progressing"))
        );
        let lws = json!({"kind": "LeaderWorkerSet", "spec": {"replicas": 1},
            "status": {"readyReplicas": 1, "updatedReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]}});
        assert_eq!(
            status_of(&lws),
            ("1/1 groups ready".to_string(), State::Done)
        );
        let mut updating = lws.clone();
        updating["status"]["conditions"] = json!([{"type": "Available", "status": "True"}, {"type": "UpdateInProgress", "status": "True"}]);
        assert_eq!(status_of(&updating).1, State::Waiting);
        let failed = json!({"kind": "Pod", "status": {"phase": "Failed"}});
        assert!(matches!(status_of(&failed).1, State::Failed(_)));
    }
}
