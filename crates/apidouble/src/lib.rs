//! A Kubernetes API server double for tests: real HTTP/1.1 on a loopback port, so the real
//! kube-rs client (connection pool, discovery, error decoding) talks to it as to a cluster.
//!
//! It is small and keeps to the shapes of the real API (copied from the Kubernetes API
//! reference and from responses of real API servers):
//!
//! - discovery: `/api`, `/apis`, `/api/v1` and `/apis/{group}/{version}` `APIResourceList`s for
//!   core, `apps`, `batch`, `storage.k8s.io`, `apiextensions.k8s.io` and one CRD group
//!   (`leaderworkerset.x-k8s.io`, served whether or not its CRD was applied);
//! - `GET` and `LIST` (`labelSelector` and `fieldSelector` equality terms) of every listed resource, `GET` as
//!   `PartialObjectMetadata` when the client asks for it (`Accept: ...;as=PartialObjectMetadata`);
//! - server-side apply (`PATCH` with `application/apply-patch+yaml`): field managers, conflicts
//!   (409 with the real `Status` body, `FieldManagerConflict` causes), `force=true`, `dryRun=All`,
//!   `managedFields` in the response, `resourceVersion` and `generation` bookkeeping;
//! - `watch=true` streams (`ADDED`, then `MODIFIED` as tests change objects) until
//!   `timeoutSeconds`;
//! - failures as real servers send them: 401 for a wrong bearer token, 403 `Forbidden` naming
//!   the verb, resource, group and scope, 404 `NotFound` (also for a namespace that does not
//!   exist, as NamespaceLifecycle admission answers, dry runs included), and scripted rejections
//!   (an admission webhook's denial, or validation's 422 `Invalid`).
//!
//! Simplifications, stated so tests do not rely on them: lists are atomic in server-side apply
//! (the real server merges lists by key, such as containers by name); no defaulting, validation
//! or admission beyond the scripted rejections; one version per group; watches always start
//! with `ADDED` for what exists (as with `resourceVersion=0`) and send no bookmarks; LIST does
//! not answer as `PartialObjectMetadataList`; every resource lists a `/status` subresource.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// A resource the double serves.
#[derive(Debug, Clone, Copy)]
struct Resource {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
}

const fn resource(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> Resource {
    Resource {
        group,
        version,
        plural,
        kind,
        namespaced,
        short_names,
    }
}

const RESOURCES: &[Resource] = &[
    resource("", "v1", "namespaces", "Namespace", false, &["ns"]),
    resource("", "v1", "nodes", "Node", false, &["no"]),
    resource(
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        false,
        &["pv"],
    ),
    resource(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
    ),
    resource("", "v1", "serviceaccounts", "ServiceAccount", true, &["sa"]),
    resource("", "v1", "secrets", "Secret", true, &[]),
    resource("", "v1", "configmaps", "ConfigMap", true, &["cm"]),
    resource("", "v1", "services", "Service", true, &["svc"]),
    resource("", "v1", "pods", "Pod", true, &["po"]),
    resource("", "v1", "events", "Event", true, &["ev"]),
    resource("apps", "v1", "deployments", "Deployment", true, &["deploy"]),
    resource("apps", "v1", "statefulsets", "StatefulSet", true, &["sts"]),
    resource("apps", "v1", "replicasets", "ReplicaSet", true, &["rs"]),
    resource("batch", "v1", "jobs", "Job", true, &[]),
    resource(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        false,
        &["sc"],
    ),
    resource(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
    ),
    resource(
        "leaderworkerset.x-k8s.io",
        "v1",
        "leaderworkersets",
        "LeaderWorkerSet",
        true,
        &["lws"],
    ),
];

impl Resource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The singular name: the lower-cased kind for every resource listed here.
    fn singular(&self) -> String {
        self.kind.to_lowercase()
    }

    /// `deployments.apps`, as API messages name resources.
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn by_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
        RESOURCES
            .iter()
            .find(|r| r.kind == kind && r.api_version() == api_version)
    }
}

/// One request as the double received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `PATCH`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Query parameters, percent-decoded.
    pub query: BTreeMap<String, String>,
    /// Header values by lower-case name.
    pub headers: BTreeMap<String, String>,
    /// The body, when it was JSON.
    pub body: Option<Value>,
    /// The HTTP status the double answered with.
    pub status: u16,
}

impl Request {
    /// `METHOD path`, for assertions on the order of calls.
    #[must_use]
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A field manager's entry on an object.
#[derive(Debug, Clone)]
struct Managed {
    manager: String,
    operation: &'static str,
    api_version: String,
    fields: BTreeSet<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Stored {
    object: Value,
    managed: Vec<Managed>,
}

/// How a scripted rejection answers.
#[derive(Debug, Clone)]
enum Rejection {
    /// 422 `Invalid` on a field, as validation answers.
    Invalid { field: String, message: String },
    /// A validating admission webhook's denial, with the code it chose.
    Webhook {
        webhook: String,
        code: u16,
        message: String,
    },
}

#[derive(Debug, Default)]
struct State {
    /// By (resource plural with group, namespace, name).
    objects: BTreeMap<(String, String, String), Stored>,
    requests: Vec<Request>,
    forbidden: BTreeSet<(String, String)>,
    rejections: BTreeMap<(String, String), Rejection>,
    token: Option<String>,
    /// API groups discovery lists beside the built-in resources' (`config.openshift.io`).
    extra_groups: Vec<String>,
    resource_version: u64,
    /// Bumped on every change, for watches.
    changes: u64,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An EKS GPU node as the kubelet and NVIDIA GPU feature discovery label it: `gpus` L4s on a
/// `g6.12xlarge` of node group `gpu`, with an `aws://` provider ID.
#[must_use]
pub fn eks_l4_node(name: &str, gpus: u32) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {
        "eks.amazonaws.com/nodegroup": "gpu", "node.kubernetes.io/instance-type": "g6.12xlarge",
        "nvidia.com/gpu.product": "NVIDIA-L4", "nvidia.com/gpu.count": gpus.to_string()}},
        "spec": {"providerID": format!("aws:///us-east-1a/{name}")},
        "status": {"allocatable": {"cpu": "47", "memory": "180Gi", "nvidia.com/gpu": gpus.to_string()}}})
}

/// The running double. Dropping it stops the server.
pub struct ApiDouble {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Default for ApiDouble {
    fn default() -> Self {
        Self::start()
    }
}

impl ApiDouble {
    /// Starts a server on a free loopback port.
    #[must_use]
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                resource_version: 1000,
                ..State::default()
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let server = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if server.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let connection = Arc::clone(&server);
                std::thread::spawn(move || serve(&connection, stream));
            }
        });
        let double = Self { addr, shared };
        for namespace in ["default", "kube-system"] {
            double.seed(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
                "kube-apiserver",
            );
        }
        double
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes a kubeconfig for the double into `dir` (context `double`, the given default
    /// namespace, bearer token `token`) and returns its path.
    #[must_use]
    pub fn kubeconfig(&self, dir: &Path, namespace: &str, token: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: double\nclusters:\n- name: double\n  cluster:\n    server: {}\ncontexts:\n- name: double\n  context:\n    cluster: double\n    user: tester\n    namespace: {namespace}\nusers:\n- name: tester\n  user:\n    token: {token}\n",
            self.url()
        );
        std::fs::write(&path, text).expect("write the kubeconfig");
        path
    }

    /// Lists `group` in `/apis` discovery, with no resources, as an OpenShift cluster lists
    /// `config.openshift.io`.
    pub fn serve_group(&self, group: &str) {
        self.shared.lock().extra_groups.push(group.to_string());
    }

    /// Requires `Authorization: Bearer <token>`; anything else is 401.
    pub fn require_token(&self, token: &str) {
        self.shared.lock().token = Some(token.to_string());
    }

    /// Answers `verb` (`get`, `list`, `watch`, `patch`) on `plural` (`nodes`, `deployments`)
    /// with 403 Forbidden.
    pub fn forbid(&self, verb: &str, plural: &str) {
        self.shared
            .lock()
            .forbidden
            .insert((verb.to_string(), plural.to_string()));
    }

    /// Rejects applies of `plural`/`name` with a 422 `Invalid` Status carrying `message` (as
    /// validation or a webhook would), naming `field`.
    pub fn reject(&self, plural: &str, name: &str, field: &str, message: &str) {
        self.shared.lock().rejections.insert(
            (plural.to_string(), name.to_string()),
            Rejection::Invalid {
                field: field.to_string(),
                message: message.to_string(),
            },
        );
    }

    /// Denies applies of `plural`/`name` as validating admission webhook `webhook` would, with
    /// its HTTP `code` (policy engines such as Gatekeeper and Kyverno answer 403).
    pub fn deny_by_webhook(
        &self,
        plural: &str,
        name: &str,
        webhook: &str,
        code: u16,
        message: &str,
    ) {
        self.shared.lock().rejections.insert(
            (plural.to_string(), name.to_string()),
            Rejection::Webhook {
                webhook: webhook.to_string(),
                code,
                message: message.to_string(),
            },
        );
    }

    /// Stores an object as if `manager` had created it with an update (not an apply), as
    /// `kubectl create` or a controller would. Namespaced objects without a namespace go to
    /// `default`.
    pub fn seed(&self, object: Value, manager: &str) {
        let mut state = self.shared.lock();
        let (key, resource) = key_of(&object).expect("a kind the double serves");
        let mut object = object;
        if resource.namespaced && object.pointer("/metadata/namespace").is_none() {
            object["metadata"]["namespace"] = json!("default");
        }
        let fields = field_paths(&object);
        state.resource_version += 1;
        let version = state.resource_version;
        let mut stored = Stored {
            object,
            managed: vec![Managed {
                manager: manager.to_string(),
                operation: "Update",
                api_version: resource.api_version(),
                fields,
            }],
        };
        finish_metadata(&mut stored, version, None);
        state.objects.insert(key, stored);
        state.changes += 1;
        drop(state);
        self.shared.changed.notify_all();
    }

    /// Replaces the `status` of a stored object (a controller's work), waking watches.
    pub fn set_status(&self, plural: &str, namespace: &str, name: &str, status: Value) {
        let mut state = self.shared.lock();
        state.resource_version += 1;
        let version = state.resource_version;
        let key = (plural.to_string(), namespace.to_string(), name.to_string());
        let stored = state.objects.get_mut(&key).expect("a stored object");
        stored.object["status"] = status;
        stored.object["metadata"]["resourceVersion"] = json!(version.to_string());
        state.changes += 1;
        drop(state);
        self.shared.changed.notify_all();
    }

    /// A stored object (`plural` with its group for non-core kinds: `deployments.apps`).
    #[must_use]
    pub fn object(&self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let key = (plural.to_string(), namespace.to_string(), name.to_string());
        self.shared
            .lock()
            .objects
            .get(&key)
            .map(|s| s.object.clone())
    }

    /// Every request so far, in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the requests so far.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }
}

impl Drop for ApiDouble {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The storage key and resource of an object.
fn key_of(object: &Value) -> Option<((String, String, String), &'static Resource)> {
    let resource = Resource::by_kind(object["apiVersion"].as_str()?, object["kind"].as_str()?)?;
    let namespace = if resource.namespaced {
        object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string()
    } else {
        String::new()
    };
    let name = object.pointer("/metadata/name")?.as_str()?.to_string();
    Some(((resource.qualified(), namespace, name), resource))
}

/// Serves one connection: requests until the client closes it.
fn serve(shared: &Shared, stream: TcpStream) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        if !respond(shared, &request, &mut writer) {
            return;
        }
    }
}

/// A parsed request and its raw body.
struct Incoming {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Incoming {
    /// A query parameter, empty when absent.
    fn param(&self, name: &str) -> &str {
        self.query.get(name).map_or("", String::as_str)
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Incoming> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_lowercase(), value.trim().to_string());
    }
    let mut body = Vec::new();
    if let Some(length) = headers.get("content-length") {
        body.resize(length.parse().ok()?, 0);
        reader.read_exact(&mut body).ok()?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect();
    Some(Incoming {
        method,
        path: path.to_string(),
        query,
        headers,
        body,
    })
}

/// Percent-decoding (and `+` as space) of a query component.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                if let Ok(b) = u8::from_str_radix(hex, 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a request addresses.
struct Target {
    resource: &'static Resource,
    namespace: Option<String>,
    name: Option<String>,
}

enum Route {
    Document(Value),
    /// `/apis`: the group list, which depends on the groups a test added.
    Groups,
    Target(Target),
    NotFound,
}

fn route(path: &str) -> Route {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api"] => {
            return Route::Document(json!({
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
            }));
        }
        ["apis"] => return Route::Groups,
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Route::NotFound,
    };
    if rest.is_empty() {
        return match resource_list(group, version) {
            Some(list) => Route::Document(list),
            None => Route::NotFound,
        };
    }
    let find = |plural: &str| {
        RESOURCES
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    };
    let target = match rest {
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 1 => find(plural)
            .filter(|r| r.namespaced)
            .map(|resource| Target {
                resource,
                namespace: Some((*ns).to_string()),
                name: tail.first().map(|s| (*s).to_string()),
            }),
        [plural, tail @ ..] if tail.len() <= 1 => find(plural).map(|resource| Target {
            resource,
            namespace: None,
            name: tail.first().map(|s| (*s).to_string()),
        }),
        _ => None,
    };
    target.map_or(Route::NotFound, Route::Target)
}

/// The `APIGroupList` of `/apis`: the built-in resources' groups, then `extra`.
fn group_list(extra: &[String]) -> Value {
    let mut groups: Vec<&str> = RESOURCES
        .iter()
        .map(|r| r.group)
        .filter(|g| !g.is_empty())
        .collect();
    groups.dedup();
    for group in extra {
        if !groups.contains(&group.as_str()) {
            groups.push(group);
        }
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|group| {
            let gv = format!("{group}/v1");
            json!({
                "name": group,
                "versions": [{"groupVersion": gv, "version": "v1"}],
                "preferredVersion": {"groupVersion": gv, "version": "v1"}
            })
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// An `APIResourceList` as `kubectl get --raw /apis/apps/v1` shows it.
fn resource_list(group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .flat_map(|r| {
            let main = json!({
                "name": r.plural,
                "singularName": r.singular(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                "shortNames": r.short_names,
            });
            let status = json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            });
            [main, status]
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

/// A `Status` failure body as the API server sends it.
fn status(code: u16, reason: &str, message: &str, details: Value) -> Value {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    });
    if !details.is_null() {
        body["details"] = details;
    }
    body["code"] = json!(code);
    body
}

fn not_found(target: &Target, name: &str) -> (u16, Value) {
    let r = target.resource;
    (
        404,
        status(
            404,
            "NotFound",
            &format!("{} \"{name}\" not found", r.qualified()),
            details(name, r.group, r.plural),
        ),
    )
}

/// The 404 for a path the server does not serve.
fn no_route() -> (u16, Value) {
    (
        404,
        status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            json!({}),
        ),
    )
}

/// `details` of a Status about one object; a core group is left out, as the server does.
fn details(name: &str, group: &str, kind: &str) -> Value {
    let mut details = json!({"name": name});
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    details["kind"] = json!(kind);
    details
}

/// Handles one request; false when the connection must close (the client went away).
fn respond(shared: &Shared, incoming: &Incoming, writer: &mut TcpStream) -> bool {
    let body: Option<Value> = serde_json::from_slice(&incoming.body).ok();
    let watch = incoming
        .query
        .get("watch")
        .is_some_and(|w| w == "true" || w == "1");
    let (code, response) = handle(shared, incoming, body.as_ref(), watch);
    {
        let mut state = shared.lock();
        state.requests.push(Request {
            method: incoming.method.clone(),
            path: incoming.path.clone(),
            query: incoming.query.clone(),
            headers: incoming.headers.clone(),
            body,
            status: code,
        });
    }
    if watch && code == 200 {
        // A finished watch leaves the connection reusable, as a real server does: closing it
        // would race with the client's connection pool.
        return match route(&incoming.path) {
            Route::Target(target) => stream_watch(shared, incoming, &target, writer),
            _ => false,
        };
    }
    let text = response.to_string();
    let reason = match code {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        text.len()
    );
    writer.write_all(head.as_bytes()).is_ok() && writer.write_all(text.as_bytes()).is_ok()
}

fn handle(shared: &Shared, incoming: &Incoming, body: Option<&Value>, watch: bool) -> (u16, Value) {
    let mut state = shared.lock();
    if let Some(token) = &state.token {
        let expected = format!("Bearer {token}");
        if incoming.headers.get("authorization") != Some(&expected) {
            return (
                401,
                status(401, "Unauthorized", "Unauthorized", json!(null)),
            );
        }
    }
    let target = match route(&incoming.path) {
        Route::Document(document) if incoming.method == "GET" => return (200, document),
        Route::Groups if incoming.method == "GET" => {
            return (200, group_list(&state.extra_groups));
        }
        Route::Target(target) => target,
        Route::Document(_) | Route::Groups | Route::NotFound => {
            return no_route();
        }
    };
    let r = target.resource;
    let verb = match (incoming.method.as_str(), &target.name) {
        ("GET", _) if watch => "watch",
        ("GET", Some(_)) => "get",
        ("GET", None) => "list",
        ("PATCH", _) => "patch",
        (other, _) => {
            return (
                405,
                status(
                    405,
                    "MethodNotAllowed",
                    &format!("{other} is not supported by the double"),
                    json!({}),
                ),
            );
        }
    };
    if state
        .forbidden
        .contains(&(verb.to_string(), r.plural.to_string()))
    {
        let scope = match &target.namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        let what = match &target.name {
            Some(name) => format!("{} \"{name}\"", r.qualified()),
            None => r.qualified(),
        };
        let message = format!(
            "{what} is forbidden: User \"system:serviceaccount:ci:deployer\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            r.plural, r.group
        );
        let mut details = json!({"kind": r.plural});
        if let Some(name) = &target.name {
            details["name"] = json!(name);
        }
        if !r.group.is_empty() {
            details["group"] = json!(r.group);
        }
        return (403, status(403, "Forbidden", &message, details));
    }
    let namespace = target.namespace.clone().unwrap_or_default();
    match verb {
        "get" => {
            let name = target.name.clone().unwrap_or_default();
            let key = (r.qualified(), namespace, name.clone());
            match state.objects.get(&key) {
                None => not_found(&target, &name),
                Some(stored) => {
                    let metadata_only = incoming
                        .headers
                        .get("accept")
                        .is_some_and(|a| a.contains("as=PartialObjectMetadata"));
                    if metadata_only {
                        (
                            200,
                            json!({
                                "kind": "PartialObjectMetadata",
                                "apiVersion": "meta.k8s.io/v1",
                                "metadata": stored.object["metadata"],
                            }),
                        )
                    } else {
                        (200, stored.object.clone())
                    }
                }
            }
        }
        "list" | "watch"
            if incoming
                .param("labelSelector")
                .split(',')
                .chain(incoming.param("fieldSelector").split(','))
                .any(|term| !term.is_empty() && !term.contains('=')) =>
        {
            (
                400,
                status(
                    400,
                    "BadRequest",
                    "the double supports equality selectors only (a=b, a==b, a!=b)",
                    json!(null),
                ),
            )
        }
        "list" | "watch" => {
            let items = matching(
                &state,
                &target,
                incoming.param("labelSelector"),
                incoming.param("fieldSelector"),
            );
            (
                200,
                json!({
                    "kind": format!("{}List", r.kind),
                    "apiVersion": r.api_version(),
                    "metadata": {"resourceVersion": state.resource_version.to_string()},
                    "items": items,
                }),
            )
        }
        _ => {
            let result = apply(&mut state, incoming, &target, body);
            if result.0 < 300 {
                drop(state);
                shared.changed.notify_all();
            }
            result
        }
    }
}

/// Objects of the target's resource (and namespace, when given) matching an equality label
/// selector and an equality field selector (`metadata.name=x`, `involvedObject.name=y`).
fn matching(state: &State, target: &Target, selector: &str, fields: &str) -> Vec<Value> {
    // (pointer, value, equal): `metadata.name=x`, `involvedObject.name==y`, `a!=b`.
    let field_terms: Vec<(String, &str, bool)> = fields
        .split(',')
        .filter_map(|t| {
            t.split_once("!=")
                .map(|(k, v)| (k, v, false))
                .or_else(|| t.split_once("==").map(|(k, v)| (k, v, true)))
                .or_else(|| t.split_once('=').map(|(k, v)| (k, v, true)))
        })
        .map(|(path, value, equal)| (format!("/{}", path.replace('.', "/")), value, equal))
        .collect();
    let terms: Vec<(&str, &str, bool)> = selector
        .split(',')
        .filter(|t| !t.is_empty())
        .filter_map(|t| {
            t.split_once("!=")
                .map(|(k, v)| (k, v, false))
                .or_else(|| t.split_once("==").map(|(k, v)| (k, v, true)))
                .or_else(|| t.split_once('=').map(|(k, v)| (k, v, true)))
        })
        .collect();
    state
        .objects
        .iter()
        .filter(|((plural, ns, _), _)| {
            *plural == target.resource.qualified()
                && target.namespace.as_ref().is_none_or(|want| want == ns)
        })
        .map(|(_, stored)| &stored.object)
        .filter(|object| {
            field_terms.iter().all(|(pointer, value, equal)| {
                (object.pointer(pointer).and_then(Value::as_str) == Some(*value)) == *equal
            })
        })
        .filter(|object| {
            terms.iter().all(|(key, value, equal)| {
                let label = object
                    .pointer("/metadata/labels")
                    .and_then(|l| l.get(*key))
                    .and_then(Value::as_str);
                (label == Some(*value)) == *equal
            })
        })
        .cloned()
        .collect()
}

/// Server-side apply.
fn apply(
    state: &mut State,
    incoming: &Incoming,
    target: &Target,
    body: Option<&Value>,
) -> (u16, Value) {
    let r = target.resource;
    let content_type = incoming
        .headers
        .get("content-type")
        .cloned()
        .unwrap_or_default();
    if !content_type.starts_with("application/apply-patch") {
        return (
            415,
            status(
                415,
                "UnsupportedMediaType",
                &format!(
                    "the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml (got {content_type})"
                ),
                json!({}),
            ),
        );
    }
    let Some(manager) = incoming.query.get("fieldManager").cloned() else {
        return (
            422,
            status(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                json!({}),
            ),
        );
    };
    let Some(applied) = body.cloned() else {
        return (
            400,
            status(
                400,
                "BadRequest",
                "error decoding patch: the body is not JSON",
                json!({}),
            ),
        );
    };
    let name = target.name.clone().unwrap_or_default();
    let namespace = target.namespace.clone().unwrap_or_default();
    match state.rejections.get(&(r.plural.to_string(), name.clone())) {
        Some(Rejection::Invalid { field, message }) => {
            let group_kind = if r.group.is_empty() {
                r.kind.to_string()
            } else {
                format!("{}.{}", r.kind, r.group)
            };
            let full = format!("{group_kind} \"{name}\" is invalid: {field}: {message}");
            let mut causes = details(&name, r.group, r.kind);
            causes["causes"] =
                json!([{"reason": "FieldValueInvalid", "message": message, "field": field}]);
            return (422, status(422, "Invalid", &full, causes));
        }
        Some(Rejection::Webhook {
            webhook,
            code,
            message,
        }) => {
            let full = format!("admission webhook \"{webhook}\" denied the request: {message}");
            let reason = if *code == 403 {
                "Forbidden"
            } else {
                "BadRequest"
            };
            return (*code, status(*code, reason, &full, json!(null)));
        }
        None => {}
    }
    if r.namespaced {
        if target.namespace.is_none() {
            return no_route();
        }
        let body_namespace = applied
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        if body_namespace.is_some_and(|ns| ns != namespace) {
            return (
                400,
                status(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                    json!(null),
                ),
            );
        }
        // NamespaceLifecycle admission, which runs on dry runs too.
        let namespace_key = ("namespaces".to_string(), String::new(), namespace.clone());
        if !state.objects.contains_key(&namespace_key) {
            return (
                404,
                status(
                    404,
                    "NotFound",
                    &format!("namespaces \"{namespace}\" not found"),
                    details(&namespace, "", "namespaces"),
                ),
            );
        }
    }
    let force = incoming.query.get("force").is_some_and(|f| f == "true");
    let dry_run = incoming.query.get("dryRun").is_some_and(|d| d == "All");
    let key = (r.qualified(), namespace.clone(), name.clone());
    let existing = state.objects.get(&key).cloned();
    let applied_fields = field_paths(&applied);
    let mut stored = existing.clone().unwrap_or_else(|| Stored {
        object: json!({"apiVersion": r.api_version(), "kind": r.kind, "metadata": {"name": name}}),
        managed: Vec::new(),
    });
    if r.namespaced {
        stored.object["metadata"]["namespace"] = json!(namespace);
    }
    // Conflicts: fields another manager owns that this apply sets to a different value.
    let mut conflicts: Vec<Conflict> = Vec::new();
    for other in stored.managed.iter().filter(|m| m.manager != manager) {
        for path in other.fields.intersection(&applied_fields) {
            if get_path(&stored.object, path) != get_path(&applied, path) {
                conflicts.push(Conflict {
                    manager: if other.operation == "Update" {
                        format!("\"{}\" using {}", other.manager, other.api_version)
                    } else {
                        format!("\"{}\"", other.manager)
                    },
                    path: path.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return (409, conflict_status(&conflicts));
    }
    let before = stored.object.clone();
    // Fields this manager applied before and no longer applies, and nobody else owns, go away.
    let previous: BTreeSet<Vec<String>> = stored
        .managed
        .iter()
        .find(|m| m.manager == manager && m.operation == "Apply")
        .map(|m| m.fields.clone())
        .unwrap_or_default();
    for path in previous.difference(&applied_fields) {
        let owned_elsewhere = stored
            .managed
            .iter()
            .any(|m| m.manager != manager && m.fields.contains(path));
        if !owned_elsewhere {
            remove_path(&mut stored.object, path);
        }
    }
    merge(&mut stored.object, &applied);
    for other in stored.managed.iter_mut().filter(|m| m.manager != manager) {
        for conflict in &conflicts {
            other.fields.remove(&conflict.path);
        }
    }
    stored
        .managed
        .retain(|m| !(m.fields.is_empty() || m.manager == manager && m.operation == "Apply"));
    stored.managed.push(Managed {
        manager: manager.clone(),
        operation: "Apply",
        api_version: r.api_version(),
        fields: applied_fields,
    });
    // A no-op apply is not persisted: same object, same owners, same resourceVersion.
    if let Some(existing) = &existing {
        let owners = |s: &Stored| -> BTreeSet<(String, Vec<Vec<String>>)> {
            s.managed
                .iter()
                .map(|m| (m.manager.clone(), m.fields.iter().cloned().collect()))
                .collect()
        };
        let bare = |o: &Value| {
            let mut o = o.clone();
            if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("managedFields");
                m.remove("resourceVersion");
            }
            o
        };
        if bare(&existing.object) == bare(&stored.object) && owners(existing) == owners(&stored) {
            return (200, existing.object.clone());
        }
    }
    // A dry run is not stored: the resource version stays.
    let version = match (&existing, dry_run) {
        (Some(existing), true) => existing.object["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(state.resource_version),
        (None, true) => state.resource_version,
        (_, false) => state.resource_version + 1,
    };
    let spec_changed = without_metadata(&before) != without_metadata(&stored.object);
    finish_metadata(
        &mut stored,
        version,
        existing.as_ref().map(|_| spec_changed),
    );
    let created = existing.is_none();
    let mut response = stored.object.clone();
    if dry_run && created {
        // Nothing was stored: no resource version, no uid.
        if let Some(metadata) = response["metadata"].as_object_mut() {
            metadata.remove("resourceVersion");
            metadata.remove("uid");
        }
    }
    if !dry_run {
        state.resource_version = version;
        state.objects.insert(key, stored);
        state.changes += 1;
    }
    (if created { 201 } else { 200 }, response)
}

/// A field another manager owns and this apply changes.
struct Conflict {
    /// The manager as the server prints it: `"name"`, and ` using apps/v1` for an Update.
    manager: String,
    path: Vec<String>,
}

/// The 409 body of a failed apply, worded as the API server words it (`getConflictMessage`
/// and `NewApplyConflict` in k8s.io/apiserver's field manager).
fn conflict_status(conflicts: &[Conflict]) -> Value {
    let n = conflicts.len();
    let listed = if let [one] = conflicts {
        format!("conflict with {}: {}", one.manager, dotted(&one.path))
    } else {
        let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
        managers.sort_unstable();
        managers.dedup();
        let mut lines = Vec::new();
        for manager in managers {
            lines.push(format!("conflicts with {manager}:"));
            for conflict in conflicts.iter().filter(|c| c.manager == manager) {
                lines.push(format!("- {}", dotted(&conflict.path)));
            }
        }
        lines.join("\n")
    };
    let plural = if n == 1 { "" } else { "s" };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager),
                "field": dotted(&c.path),
            })
        })
        .collect();
    status(
        409,
        "Conflict",
        &format!("Apply failed with {n} conflict{plural}: {listed}"),
        json!({"causes": causes}),
    )
}

/// `.spec.replicas`.
fn dotted(path: &[String]) -> String {
    path.iter().fold(String::new(), |mut out, s| {
        let _ = write!(out, ".{s}");
        out
    })
}

/// Sets uid, creation time, resource version, generation and `managedFields`.
/// `spec_changed`: `None` for a new object.
fn finish_metadata(stored: &mut Stored, version: u64, spec_changed: Option<bool>) {
    let metadata = stored.object["metadata"]
        .as_object_mut()
        .expect("objects have metadata");
    metadata.insert("resourceVersion".into(), json!(version.to_string()));
    if spec_changed.is_none() || !metadata.contains_key("uid") {
        metadata.insert(
            "uid".into(),
            json!(format!("00000000-0000-4000-8000-{version:012}")),
        );
        metadata.insert("creationTimestamp".into(), json!("2026-01-01T00:00:00Z"));
        metadata.insert("generation".into(), json!(1));
    } else if spec_changed == Some(true) {
        let generation = metadata
            .get("generation")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        metadata.insert("generation".into(), json!(generation + 1));
    }
    let managed: Vec<Value> = stored
        .managed
        .iter()
        .map(|m| {
            json!({
                "manager": m.manager,
                "operation": m.operation,
                "apiVersion": m.api_version,
                "time": "2026-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1(&m.fields),
            })
        })
        .collect();
    metadata.insert("managedFields".into(), Value::Array(managed));
}

/// A set of paths in the `FieldsV1` encoding: `{"f:spec": {"f:replicas": {}}}`.
fn fields_v1(paths: &BTreeSet<Vec<String>>) -> Value {
    let mut root = Map::new();
    for path in paths {
        let mut node = &mut root;
        for segment in path {
            node = node
                .entry(format!("f:{segment}"))
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("objects all the way down");
        }
    }
    Value::Object(root)
}

/// Leaf paths an object sets (lists are atomic), minus the identity fields.
fn field_paths(object: &Value) -> BTreeSet<Vec<String>> {
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, child) in map {
                    path.push(key.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => {
                out.insert(path.clone());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(object, &mut Vec::new(), &mut out);
    out.retain(|p| {
        let first = p.first().map(String::as_str);
        !matches!(first, Some("apiVersion" | "kind" | "status"))
            && !matches!(
                p.as_slice(),
                [m, f] if m == "metadata" && matches!(f.as_str(), "name" | "namespace" | "managedFields" | "resourceVersion" | "uid" | "generation" | "creationTimestamp")
            )
    });
    out
}

fn get_path<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, segment| v.get(segment))
}

fn remove_path(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = value;
    for segment in parents {
        match node.get_mut(segment) {
            Some(next) => node = next,
            None => return,
        }
    }
    if let Some(map) = node.as_object_mut() {
        map.remove(last);
    }
}

/// Deep merge of maps; anything else (lists included) is replaced.
fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value);
                    }
                    _ => {
                        into.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (into, from) => *into = from.clone(),
    }
}

fn without_metadata(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    object
}

/// A watch: `ADDED` for what matches now, then `MODIFIED` as objects change, as chunked JSON
/// lines, until `timeoutSeconds` (default 5) or the double stops. True when the connection can
/// serve the next request.
fn stream_watch(
    shared: &Shared,
    incoming: &Incoming,
    target: &Target,
    writer: &mut TcpStream,
) -> bool {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    if writer.write_all(head.as_bytes()).is_err() {
        return false;
    }
    let timeout = incoming
        .query
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .unwrap_or(5);
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut state = shared.lock();
    loop {
        let mut events = Vec::new();
        for object in matching(
            &state,
            target,
            incoming.param("labelSelector"),
            incoming.param("fieldSelector"),
        ) {
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let version = object["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let kind = match seen.insert(name, version.clone()) {
                None => "ADDED",
                Some(old) if old != version => "MODIFIED",
                Some(_) => continue,
            };
            events.push(json!({"type": kind, "object": object}));
        }
        drop(state);
        for event in events {
            let line = format!("{event}\n");
            let chunk = format!("{:x}\r\n{line}\r\n", line.len());
            if writer.write_all(chunk.as_bytes()).is_err() {
                return false;
            }
        }
        let now = Instant::now();
        if now >= deadline || shared.stop.load(Ordering::SeqCst) {
            return writer.write_all(b"0\r\n\r\n").is_ok() && !shared.stop.load(Ordering::SeqCst);
        }
        state = shared.lock();
        let changes = state.changes;
        while state.changes == changes
            && Instant::now() < deadline
            && !shared.stop.load(Ordering::SeqCst)
        {
            let wait = deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100));
            state = shared
                .changed
                .wait_timeout(state, wait)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_discovery() {
        assert!(matches!(route("/api/v1"), Route::Document(_)));
        assert!(matches!(
            route("/apis/leaderworkerset.x-k8s.io/v1"),
            Route::Document(_)
        ));
        assert!(matches!(route("/apis/example.com/v1"), Route::NotFound));
        let Route::Target(t) = route("/apis/apps/v1/namespaces/ml/deployments/vllm") else {
            panic!()
        };
        assert_eq!(
            (t.resource.kind, t.namespace.as_deref(), t.name.as_deref()),
            ("Deployment", Some("ml"), Some("vllm"))
        );
        let Route::Target(t) = route("/api/v1/namespaces/ml") else {
            panic!()
        };
        assert_eq!(
            (t.resource.kind, t.name.as_deref()),
            ("Namespace", Some("ml"))
        );
        let Route::Target(t) = route("/api/v1/nodes") else {
            panic!()
        };
        assert_eq!((t.resource.kind, t.name), ("Node", None));
    }

    #[test]
    fn fields_v1_and_paths() {
        let paths = field_paths(
            &json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "n", "labels": {"a": "b"}}, "spec": {"replicas": 1, "list": [1]}}),
        );
        assert_eq!(
            fields_v1(&paths),
            json!({"f:metadata": {"f:labels": {"f:a": {}}}, "f:spec": {"f:list": {}, "f:replicas": {}}})
        );
        assert_eq!(decode("app%3Dvllm+x"), "app=vllm x");
    }
}
