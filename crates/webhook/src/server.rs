//! The HTTPS server: rustls over TCP, HTTP/1.1 by hyper, and the routes `POST /validate`,
//! `POST /mutate`, `GET /readyz`, `GET /livez` and `GET /metrics`.
//!
//! Bounds: the body size (`--max-request-bytes`; a larger one is 400, read to its end up to
//! 64 MiB so that the client gets the answer), a concurrency limit (`--concurrency` reviews
//! evaluate at once, each on a linter of its own), and a deadline per review (`--deadline`, and
//! never past the API server's `?timeout=` less half a second; reading the body counts).
//! A review past its deadline, or whose policy failed, is answered as admitted with a warning
//! (fail open) unless `--deny-on-policy-error`; its evaluation finishes in the background within
//! the sandbox's per-call limit, and other reviews go on meanwhile.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use kubectl_vllm_engine::Linter;
use kubectl_vllm_engine::config::Config;
use kubectl_vllm_engine::lint::Live;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::check::{self, Answer, Gate};
use crate::live::Cluster;
use crate::metrics::{Metrics, Outcome};
use crate::review::{self, Admission};
use crate::tls::Certificate;

/// A TLS handshake must finish within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A body over `--max-request-bytes` is still read (and dropped) up to this many bytes within
/// [`LINGER`]: a server that stops reading makes the client's kernel reset the connection, and
/// the client sees that instead of the 400.
const LINGER_BYTES: usize = 64 << 20;
const LINGER: Duration = Duration::from_secs(2);
/// In-flight reviews get this long to finish after the listener closes.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What turns findings into answers.
    pub gate: Gate,
    /// Whether `/mutate` answers with the safe fixes.
    pub mutate: bool,
    /// A review's time from request to answer.
    pub deadline: Duration,
    /// The largest request body taken.
    pub max_body: usize,
    /// How often the TLS files are checked for changes.
    pub reload_every: Duration,
    /// After a shutdown signal: how long `/readyz` says 503 while requests are still served, so
    /// that the endpoints drop this pod before it stops listening.
    pub shutdown_delay: Duration,
}

/// The webhook: its linters, config, cluster and metrics.
pub struct Service {
    settings: Settings,
    config: Config,
    pool: Mutex<Vec<Linter>>,
    permits: Arc<Semaphore>,
    concurrency: usize,
    cluster: Option<Arc<Cluster>>,
    metrics: Metrics,
    ready: AtomicBool,
    stopping: AtomicBool,
}

/// Which review endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Validate,
    Mutate,
}

impl Endpoint {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Mutate => "mutate",
        }
    }
}

impl Service {
    /// A service evaluating on `linters` (one review each at a time).
    #[must_use]
    pub fn new(
        settings: Settings,
        config: Config,
        linters: Vec<Linter>,
        cluster: Option<Arc<Cluster>>,
    ) -> Arc<Self> {
        let concurrency = linters.len().max(1);
        Arc::new(Self {
            settings,
            config,
            pool: Mutex::new(linters),
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            cluster,
            metrics: Metrics::default(),
            ready: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
        })
    }

    /// `/readyz` answers 200 from now on.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_string();
        match (request.method(), path.as_str()) {
            (&Method::GET, "/livez") => text(StatusCode::OK, "ok\n"),
            (&Method::GET, "/readyz") => {
                if self.ready.load(Ordering::Acquire) && !self.stopping.load(Ordering::Acquire) {
                    text(StatusCode::OK, "ok\n")
                } else if self.stopping.load(Ordering::Acquire) {
                    text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
                } else {
                    text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "not ready: the cluster's nodes and storage classes are not listed yet\n",
                    )
                }
            }
            (&Method::GET, "/metrics") => {
                let mut response = text(StatusCode::OK, &self.metrics.render());
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                response
            }
            (&Method::POST, "/validate") => self.review(request, Endpoint::Validate).await,
            (&Method::POST, "/mutate") if self.settings.mutate => {
                self.review(request, Endpoint::Mutate).await
            }
            (&Method::POST, "/mutate") => text(
                StatusCode::NOT_FOUND,
                "mutation is off: start the webhook with --mutate\n",
            ),
            (_, "/validate" | "/mutate" | "/readyz" | "/livez" | "/metrics") => {
                text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
            }
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    }

    async fn review(
        self: Arc<Self>,
        request: Request<Incoming>,
        endpoint: Endpoint,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let deadline = started + self.deadline(request.uri().query());
        let invalid = |message: String| {
            self.metrics
                .request(endpoint.as_str(), Outcome::Invalid, started.elapsed());
            text(StatusCode::BAD_REQUEST, &(message + "\n"))
        };
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        {
            return invalid(format!(
                "Content-Type must be application/json (an AdmissionReview), not `{content_type}`"
            ));
        }
        let max = self.settings.max_body;
        let read = read_body(request.into_body(), max);
        let body = match tokio::time::timeout_at(deadline.into(), read).await {
            Err(_) => return invalid("the body did not arrive before the deadline".into()),
            Ok(Ok(body)) => body,
            Ok(Err(Some(e))) => return invalid(format!("cannot read the body: {e}")),
            Ok(Err(None)) => {
                return invalid(format!(
                    "the body is larger than {max} bytes (--max-request-bytes)"
                ));
            }
        };
        let admission = match review::decode(&body) {
            Ok(admission) => Arc::new(admission),
            Err(message) => return invalid(message),
        };
        let answer = if admission.checked() {
            Arc::clone(&self)
                .evaluate(&admission, endpoint, deadline)
                .await
        } else {
            Answer {
                allowed: true,
                ..Answer::default()
            }
        };
        let outcome = if !answer.allowed {
            Outcome::Denied
        } else if answer.policy_errors.is_empty() {
            Outcome::Allowed
        } else {
            Outcome::Unchecked
        };
        self.metrics
            .findings(&answer.findings, &answer.policy_errors);
        self.metrics
            .request(endpoint.as_str(), outcome, started.elapsed());
        let mut response =
            Response::new(Full::new(Bytes::from(review::encode(&admission, &answer))));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }

    /// `--deadline`, and half a second less than the API server's `timeout` (`?timeout=10s`).
    fn deadline(&self, query: Option<&str>) -> Duration {
        let asked = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| pair.strip_prefix("timeout="))
            .and_then(review::parse_duration);
        match asked {
            Some(t) => self
                .settings
                .deadline
                .min(t.saturating_sub(Duration::from_millis(500))),
            None => self.settings.deadline,
        }
    }

    /// Evaluates on a blocking thread with a linter of the pool, within the deadline.
    async fn evaluate(
        self: Arc<Self>,
        admission: &Arc<Admission>,
        endpoint: Endpoint,
        deadline: Instant,
    ) -> Answer {
        let deny = self.settings.gate.deny_on_policy_error;
        let deadline = tokio::time::Instant::from_std(deadline);
        let Ok(Ok(permit)) =
            tokio::time::timeout_at(deadline, Arc::clone(&self.permits).acquire_owned()).await
        else {
            return Answer::unchecked(
                &format!(
                    "{} reviews were evaluating until the deadline (--concurrency)",
                    self.concurrency
                ),
                deny,
            );
        };
        let this = Arc::clone(&self);
        let admission = Arc::clone(admission);
        let runtime = tokio::runtime::Handle::current();
        let job = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.metrics.in_flight(1);
            let mut linter = Borrowed::take(&this.pool);
            let answer = this.evaluate_with(linter.get(), &runtime, &admission, endpoint, deadline);
            this.metrics.in_flight(-1);
            answer
        });
        let budget = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout_at(deadline, job).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => Answer::unchecked(&format!("the evaluation failed: {e}"), deny),
            Err(_) => Answer::unchecked(
                &format!(
                    "the policies did not finish within the deadline ({} ms)",
                    budget.as_millis()
                ),
                deny,
            ),
        }
    }

    fn evaluate_with(
        &self,
        linter: &mut Linter,
        runtime: &tokio::runtime::Handle,
        admission: &Admission,
        endpoint: Endpoint,
        deadline: tokio::time::Instant,
    ) -> Answer {
        let object = admission.object.as_ref().expect("checked reviews have one");
        let namespace = admission
            .request
            .namespace
            .clone()
            .or_else(|| {
                object
                    .pointer("/metadata/namespace")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "default".into());
        let mut notes = Vec::new();
        let live = |linter: &mut Linter| {
            if let Some(cluster) = &self.cluster {
                linter.set_live(Some(Live {
                    facts: (*cluster.facts()).clone(),
                    objects: cluster.known(&namespace),
                    absence_proves_missing: false,
                }));
            }
        };
        live(linter);
        if endpoint == Endpoint::Mutate {
            return self.mutation(linter, object, &namespace);
        }
        let prepared = check::prepared(object);
        let mut report = check::lint(linter, &self.config, &prepared, &namespace);
        if let Some(cluster) = &self.cluster {
            let missed = linter.missed_lookups();
            if !missed.is_empty() {
                // Reads are bounded by the review's deadline, not only by the client's timeout.
                let read = tokio::time::timeout_at(deadline, cluster.read(missed, &namespace));
                match runtime.block_on(read) {
                    Err(_) => notes.push(
                        "kubectl-vllm could not read the objects this one references before the deadline".into(),
                    ),
                    Ok(Ok((found, warnings))) => {
                        notes.extend(warnings);
                        if found {
                            live(linter);
                            report = check::lint(linter, &self.config, &prepared, &namespace);
                        }
                    }
                    Ok(Err(e)) => notes.push(format!(
                        "kubectl-vllm could not read the objects this one references: {e}"
                    )),
                }
            }
        }
        let before = admission
            .old_object
            .as_ref()
            .map(|old| check::lint(linter, &self.config, &check::prepared(old), &namespace));
        let mut answer = check::answer(linter, &report, before.as_ref(), self.settings.gate);
        if !answer.allowed
            && answer.policy_errors.is_empty()
            && let Some(owner) = controller(object)
        {
            // Its owner was admitted; denying its pods would only show as FailedCreate
            // events on the owner, retried forever.
            answer.allowed = true;
            let denied = answer.message.take().unwrap_or_default();
            let mut lines: Vec<String> = denied
                .lines()
                .map(|l| format!("error {l} [not denied: made by {owner}]"))
                .collect();
            lines.append(&mut answer.warnings);
            answer.warnings = check::warning_list(&lines);
        }
        answer.warnings.extend(notes);
        answer
    }

    /// `/mutate`: the safe fixes as a JSON Patch, each named in a warning.
    fn mutation(&self, linter: &mut Linter, object: &serde_json::Value, namespace: &str) -> Answer {
        let mutation = check::mutate(linter, &self.config, object, namespace);
        let mut answer = check::answer(
            linter,
            &mutation.remaining,
            None,
            Gate {
                mode: check::Mode::Warn,
                fail_on: None,
                // Validation warns of what remains; mutation names only what it changed.
                warn_on: kubectl_vllm_core::Severity::Error,
                ..self.settings.gate
            },
        );
        answer
            .warnings
            .retain(|w| w.starts_with("kubectl-vllm could not check"));
        answer.findings.clear();
        if mutation.operations.is_empty() {
            return answer;
        }
        match check::applies(object, &mutation.operations) {
            Ok(_) => {
                answer.warnings.extend(
                    mutation
                        .applied
                        .iter()
                        .map(|fix| format!("kubectl-vllm fixed {fix}")),
                );
                answer.patch = Some(mutation.operations);
            }
            Err(e) => answer.warnings.push(format!(
                "kubectl-vllm did not mutate: its fixes do not apply to the object as sent ({e})"
            )),
        }
        answer.warnings.extend(
            mutation
                .failed
                .iter()
                .map(|f| format!("kubectl-vllm could not fix {f}")),
        );
        answer
    }
}

/// `ReplicaSet vllm-7d9` when `object` is a Pod a controller made.
fn controller(object: &serde_json::Value) -> Option<String> {
    if object.get("kind").and_then(|k| k.as_str()) != Some("Pod") {
        return None;
    }
    object
        .pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(serde_json::Value::as_bool) == Some(true))
        .map(|r| {
            let field = |f: &str| r.get(f).and_then(|v| v.as_str()).unwrap_or("?");
            format!("{} {}", field("kind"), field("name"))
        })
}

/// A linter taken from the pool, put back when dropped (also when the evaluation panics).
struct Borrowed<'a> {
    pool: &'a Mutex<Vec<Linter>>,
    linter: Option<Linter>,
}

impl<'a> Borrowed<'a> {
    fn take(pool: &'a Mutex<Vec<Linter>>) -> Self {
        let linter = pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .expect("a permit is held for every linter taken");
        Self {
            pool,
            linter: Some(linter),
        }
    }

    fn get(&mut self) -> &mut Linter {
        self.linter.as_mut().expect("taken until dropped")
    }
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        if let Some(linter) = self.linter.take() {
            self.pool
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(linter);
        }
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Serves `service` on `listener` until `shutdown` resolves, then drains: `/readyz` fails for
/// the shutdown delay, the listener closes, in-flight requests get [`DRAIN_TIMEOUT`].
pub async fn serve(
    service: Arc<Service>,
    certificate: Arc<Certificate>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(Arc::new(certificate.server_config()));
    let reload_every = service.settings.reload_every;
    let reloading = Arc::clone(&certificate);
    let reloader = tokio::spawn(async move {
        loop {
            tokio::time::sleep(reload_every).await;
            match reloading.reload() {
                Ok(true) => eprintln!("info: TLS certificate reloaded"),
                Ok(false) => {}
                Err(e) => {
                    eprintln!("warning: TLS certificate not reloaded, the old one is served: {e}");
                }
            }
        }
    });
    let graceful = GracefulShutdown::new();
    accept_until(&listener, &acceptor, &service, &graceful, shutdown).await;
    service.stopping.store(true, Ordering::Release);
    eprintln!(
        "info: shutting down: /readyz fails for {} ms, then the listener closes",
        service.settings.shutdown_delay.as_millis()
    );
    // Keep serving during the delay: the API server may still send reviews here.
    let delay = tokio::time::sleep(service.settings.shutdown_delay);
    accept_until(&listener, &acceptor, &service, &graceful, delay).await;
    drop(listener);
    reloader.abort();
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("warning: requests still open after {DRAIN_TIMEOUT:?} were cut");
    }
}

/// Accepts connections and serves each on a task of its own until `until` resolves.
async fn accept_until(
    listener: &TcpListener,
    acceptor: &TlsAcceptor,
    service: &Arc<Service>,
    graceful: &GracefulShutdown,
    until: impl std::future::Future<Output = ()>,
) {
    let mut until = std::pin::pin!(until);
    loop {
        let (tcp, _peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("warning: accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut until => return,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = Arc::clone(service);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return;
            };
            let handler = hyper::service::service_fn(move |request| {
                let service = Arc::clone(&service);
                async move { Ok::<_, Infallible>(service.handle(request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT)
                .serve_connection(TokioIo::new(tls), handler);
            let _ = watcher.watch(connection).await;
        });
    }
}

/// The body, up to `max` bytes (`Err(None)`: it is larger; `Err(Some)`: it could not be read).
async fn read_body(mut body: Incoming, max: usize) -> Result<Bytes, Option<hyper::Error>> {
    if hyper::body::Body::size_hint(&body).lower() > LINGER_BYTES as u64 {
        return Err(None); // not worth reading to say no
    }
    let mut kept: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    let linger = tokio::time::Instant::now() + LINGER;
    loop {
        let frame = if seen > max {
            match tokio::time::timeout_at(linger, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => return Err(None),
            }
        } else {
            body.frame().await
        };
        let Some(frame) = frame else { break };
        if let Ok(data) = frame.map_err(Some)?.into_data() {
            seen += data.len();
            if seen <= max {
                kept.extend_from_slice(&data);
            } else if seen > LINGER_BYTES {
                return Err(None);
            }
        }
    }
    if seen > max {
        Err(None)
    } else {
        Ok(Bytes::from(kept))
    }
}
