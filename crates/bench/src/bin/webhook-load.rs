//! `webhook-load --address ADDR --ca FILE --body FILE [--path /validate] [--connections N]
//! [--seconds S]`: a bounded load on a running `kubectl vllm webhook serve`, as the API server
//! puts it there: N keep-alive HTTPS connections, each posting the same AdmissionReview as soon
//! as the previous answer arrived, for S seconds after one second of warm-up. Prints requests/s
//! and the latency percentiles (`crates/bench/run.py` starts the server and reads this line).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kubectl_vllm_webhook::client::Client;

/// The name `webhook cert` puts in the serving certificate by default.
const SERVER_NAME: &str = "kubectl-vllm-webhook.kubectl-vllm.svc";

struct Args {
    address: SocketAddr,
    ca: PathBuf,
    body: PathBuf,
    path: String,
    connections: usize,
    seconds: f64,
}

fn parse() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut address, mut ca, mut body) = (None, None, None);
    let (mut path, mut connections, mut seconds) = ("/validate".to_string(), 4, 5.0);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--address" => address = Some(value()?.parse().map_err(|e| format!("--address: {e}"))?),
            "--ca" => ca = Some(PathBuf::from(value()?)),
            "--body" => body = Some(PathBuf::from(value()?)),
            "--path" => path = value()?,
            "--connections" => {
                connections = value()?
                    .parse()
                    .map_err(|e| format!("--connections: {e}"))?;
            }
            "--seconds" => seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Args {
        address: address.ok_or("--address is required")?,
        ca: ca.ok_or("--ca is required")?,
        body: body.ok_or("--body is required")?,
        path,
        connections: connections.max(1),
        seconds,
    })
}

/// What one connection saw: latencies of 200 answers, and how many were not 200 or failed.
#[derive(Default)]
struct Seen {
    latencies: Vec<Duration>,
    other: usize,
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("webhook-load: {e}");
            return ExitCode::from(2);
        }
    };
    let (ca, body) = match (std::fs::read(&args.ca), std::fs::read(&args.body)) {
        (Ok(ca), Ok(body)) => (ca, body),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("webhook-load: {e}");
            return ExitCode::from(2);
        }
    };
    let warm_up = Instant::now() + Duration::from_secs(1);
    let end = warm_up + Duration::from_secs_f64(args.seconds);
    let seen: Vec<Seen> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.connections)
            .map(|_| {
                let (ca, body, path) = (&ca, &body, args.path.as_str());
                scope.spawn(move || {
                    let mut seen = Seen::default();
                    let mut client = None;
                    loop {
                        let start = Instant::now();
                        if start >= end {
                            return seen;
                        }
                        if client.is_none() {
                            client = Client::connect(args.address, SERVER_NAME, ca).ok();
                        }
                        let Some(c) = client.as_mut() else {
                            seen.other += 1;
                            std::thread::sleep(Duration::from_millis(10));
                            continue;
                        };
                        let reply = c.post(path, "application/json", body);
                        let took = start.elapsed();
                        if start < warm_up {
                            continue;
                        }
                        match reply {
                            Ok(reply) if reply.status == 200 => seen.latencies.push(took),
                            Ok(_) => seen.other += 1,
                            Err(_) => {
                                seen.other += 1;
                                client = None;
                            }
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let other: usize = seen.iter().map(|s| s.other).sum();
    let mut latencies: Vec<Duration> = seen.into_iter().flat_map(|s| s.latencies).collect();
    latencies.sort();
    if latencies.is_empty() {
        eprintln!("webhook-load: no request was answered with 200 ({other} others)");
        return ExitCode::from(1);
    }
    let quantile = |q: f64| {
        // Nearest rank.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1].as_secs_f64() * 1e3
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = latencies.len() as f64 / args.seconds;
    println!(
        "requests={} seconds={} requests_per_s={rate:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} not_200={other}",
        latencies.len(),
        args.seconds,
        quantile(0.50),
        quantile(0.99),
        quantile(1.0),
    );
    if other == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
