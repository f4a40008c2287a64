#!/usr/bin/env python3
"""Whole-process benchmark of kubectl-vllm, everything measured in the same run.

    python3 crates/bench/run.py [--quick] [--peers] [--repeat N] [--work DIR] [--webhook-only]

Builds the release binaries, writes the seeded corpora with `corpus`, then times
`kubectl-vllm lint -o json` (wall time and peak RSS of the process) on the field report's
manifests (warm, and first run with an empty artifact cache), on 1k, 10k and 100k documents in one
namespace and in many, and on one 50 MB file; `parse-floor` (our loader alone) on the same files;
and with `--peers`, kubernetes-validate and checkov (installed from PyPI into WORK/venv) on the
same 400 documents. It prints a table with documents/s, the ratio to the floor and the peak RSS
against the input's size, then the targets of BENCHMARKS.md and whether each holds.

First it loads `webhook serve` on loopback with `webhook-load` (requests/s, p50/p99 latency of a
Deployment review, against a review it admits without evaluating). It also times schema validation's cost (10k documents with and without `--no-schema`).
`--quick` skips the 100k corpora and the 50 MB file. Each figure is the median of `--repeat`
runs (default 3; 1 for inputs of 50 MB and more).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "target" / "release"
SEED_FIXTURES = ROOT / "fixtures" / "field-report" / "as-written"


def run(cmd, env=None, ok=(0, 1)):
    """Runs `cmd`; returns (seconds, peak RSS in MB). Output is discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.exit(f"{' '.join(map(str, cmd))} exited {code}:\n{stderr[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def measure(cmd, repeat, env=None, ok=(0, 1)):
    runs = [run(cmd, env, ok) for _ in range(repeat)]
    return statistics.median(t for t, _ in runs), max(m for _, m in runs)


def size_mb(path):
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def corpus(work, name, documents, namespaces=1, per_file=500):
    out = work / name
    if not out.exists():
        subprocess.run(
            [RELEASE / "corpus", "--documents", str(documents), "--namespaces",
             str(namespaces), "--per-file", str(per_file), "--out", out],
            check=True, stdout=subprocess.DEVNULL,
        )
    return out


def install_peers(work):
    venv = work / "venv"
    if not (venv / "bin" / "checkov").exists():
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run(
            [venv / "bin" / "pip", "install", "--quiet", "kubernetes-validate", "checkov"],
            check=True,
        )
    return venv / "bin"


def webhook_load(work, seconds, connections):
    """Starts `webhook serve --offline --mutate` on loopback and loads it with `webhook-load`:
    a DELETE review (decoded and admitted without evaluating: the floor of TLS, HTTP and JSON),
    then the field report's gemma-27b Deployment CREATE on /validate and on /mutate. Returns
    {label: {requests_per_s, p50_ms, p99_ms, ...}} and the server's peak RSS in MB."""
    import json
    import re
    import threading

    certs = work / "webhook"
    certs.mkdir(parents=True, exist_ok=True)
    binary = RELEASE / "kubectl-vllm"
    subprocess.run([binary, "webhook", "cert", "--out-dir", certs], check=True,
                   stdout=subprocess.DEVNULL)
    create = ROOT / "fixtures" / "webhook" / "deployment-create.json"
    review = json.loads(create.read_text())
    request = review["request"]
    request["operation"], request["oldObject"], request["object"] = "DELETE", request["object"], None
    request["options"] = {"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"}
    delete = certs / "deployment-delete.json"
    delete.write_text(json.dumps(review))
    server = subprocess.Popen(
        [binary, "webhook", "serve", "--offline", "--mutate", "--listen", "127.0.0.1:0",
         "--tls-cert", certs / "tls.crt", "--tls-key", certs / "tls.key"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, KUBECTL_VLLM_CACHE_DIR=str(work / "cache")),
    )
    line = server.stderr.readline()
    match = re.search(r"listening on https://(\S+)", line)
    if not match:
        server.kill()
        sys.exit(f"webhook serve did not start: {line}{server.stderr.read()}")
    threading.Thread(target=server.stderr.read, daemon=True).start()
    results = {}
    for label, body, path in [
        ("DELETE review (not evaluated)", delete, "/validate"),
        ("Deployment CREATE /validate", create, "/validate"),
        ("Deployment CREATE /mutate", create, "/mutate"),
    ]:
        out = subprocess.run(
            [RELEASE / "webhook-load", "--address", match.group(1), "--ca", certs / "ca.crt",
             "--body", body, "--path", path, "--connections", str(connections),
             "--seconds", str(seconds)],
            check=True, capture_output=True, text=True,
        ).stdout
        results[label] = {k: float(v) for k, v in (kv.split("=") for kv in out.split())}
    status = Path(f"/proc/{server.pid}/status").read_text()
    rss = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    server.terminate()
    server.wait(timeout=30)
    return results, rss


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip 100k and the 50 MB file")
    parser.add_argument("--peers", action="store_true",
                        help="install kubernetes-validate and checkov from PyPI and time them")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=ROOT / "target" / "bench")
    parser.add_argument("--webhook-only", action="store_true",
                        help="only the admission webhook's load test")
    parser.add_argument("--webhook-seconds", type=float, default=10)
    parser.add_argument("--webhook-connections", type=int, default=4)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-p", "kubectl-vllm", "-p",
         "kubectl-vllm-bench", "--bins"],
        check=True, cwd=ROOT,
    )
    webhook, webhook_rss = webhook_load(args.work, args.webhook_seconds,
                                        args.webhook_connections)
    print(f"\nwebhook on loopback ({args.webhook_connections} keep-alive connections, "
          f"{args.webhook_seconds:g} s each, offline, all default policies; "
          f"server peak RSS {webhook_rss:.0f} MB)")
    print(f"{'review':<32}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'× floor':>9}")
    floor_rate = webhook["DELETE review (not evaluated)"]["requests_per_s"]
    for label, r in webhook.items():
        print(f"{label:<32}{r['requests_per_s']:>8.0f}{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}"
              f"{r['max_ms']:>8.2f}{floor_rate / r['requests_per_s']:>9.2f}")
    validate = webhook["Deployment CREATE /validate"]
    webhook_checks = [
        ("webhook Deployment review >= 1,000 requests/s", validate["requests_per_s"] >= 1000),
        ("webhook Deployment review p99 <= 20 ms", validate["p99_ms"] <= 20),
    ]
    if args.webhook_only:
        print("\ntargets:")
        for name, held in webhook_checks:
            print(f"  {'ok  ' if held else 'MISS'} {name}")
        return

    lint = [RELEASE / "kubectl-vllm", "lint", "-o", "json", "-R"]
    floor = [RELEASE / "parse-floor"]
    cache = args.work / "cache"
    env = dict(os.environ, KUBECTL_VLLM_CACHE_DIR=str(cache))

    rows = []  # (input, documents, MB, lint (s, MB), floor (s, MB))

    # Seed fixtures: first run with an empty cache (as on a CI runner), then warm. The baseline:
    # the same first run compiling the policies, as a binary on a CPU it was not built for does.
    shutil.rmtree(cache, ignore_errors=True)
    first = run(lint + [SEED_FIXTURES], env)
    shutil.rmtree(cache, ignore_errors=True)
    compiling = run(lint + [SEED_FIXTURES], dict(env, KUBECTL_VLLM_PRECOMPILED="off"))
    warm = measure(lint + [SEED_FIXTURES], max(args.repeat, 5), env)
    start = measure([RELEASE / "kubectl-vllm", "version"], max(args.repeat, 5), ok=(0,))

    inputs = [
        ("1k, one namespace", corpus(args.work, "1k", 1_000), 1_001),
        ("10k, one namespace", corpus(args.work, "10k", 10_000), 10_001),
        ("10k, 2,000 namespaces", corpus(args.work, "10k-ns", 10_000, 2_000), 10_001),
    ]
    if not args.quick:
        inputs += [
            ("100k, one namespace", corpus(args.work, "100k", 100_000), 100_001),
            ("100k, 5,000 namespaces", corpus(args.work, "100k-ns", 100_000, 5_000), 100_001),
            ("one 50 MB file", corpus(args.work, "50mb", 70_000, per_file=0), 70_001),
        ]
    for label, path, documents in inputs:
        mb = size_mb(path)
        repeat = 1 if mb >= 50 else args.repeat
        rows.append((label, documents, mb, measure(lint + [path], repeat, env),
                     measure(floor + [path], repeat, ok=(0,))))

    # Schema validation's cost (issue 8: at most +30%), same files, same run.
    ten = args.work / "10k-ns"
    no_schema = measure(lint + ["--no-schema", ten], args.repeat, env)
    with_schema = next(r[3] for r in rows if r[0] == "10k, 2,000 namespaces")

    peers = []
    if args.peers:
        bin_dir = install_peers(args.work)
        four = corpus(args.work, "400", 400, per_file=100)
        files = sorted(str(p) for p in four.glob("*.yaml"))
        ours = measure(lint + [four], args.repeat, env)
        peers.append(("kubectl-vllm lint", ours))
        peers.append(("kubernetes-validate", measure(
            [bin_dir / "kubernetes-validate", "--quiet", *files], args.repeat, ok=(0, 1))))
        peers.append(("checkov", measure(
            [bin_dir / "checkov", "-d", four, "--framework", "kubernetes", "--quiet",
             "--compact", "--skip-download"], args.repeat, ok=(0, 1))))

    print(f"\nmachine: {os.cpu_count()} cores; {sys.platform}; repeat {args.repeat}\n")
    print(f"{'input':<24}{'docs':>8}{'MB':>7}{'lint s':>9}{'docs/s':>9}{'RSS MB':>8}"
          f"{'floor s':>9}{'× floor':>9}{'floor RSS':>10}")
    print(f"{'process start (version)':<24}{'':>8}{'':>7}{start[0]:>9.3f}{'':>9}{start[1]:>8.0f}")
    print(f"{'field report, 1st run':<24}{'':>8}{size_mb(SEED_FIXTURES):>7.2f}"
          f"{first[0]:>9.3f}{'':>9}{first[1]:>8.0f}")
    print(f"{'  compiling (baseline)':<24}{'':>8}{size_mb(SEED_FIXTURES):>7.2f}"
          f"{compiling[0]:>9.3f}{'':>9}{compiling[1]:>8.0f}")
    print(f"{'field report, warm':<24}{'':>8}{size_mb(SEED_FIXTURES):>7.2f}"
          f"{warm[0]:>9.3f}{'':>9}{warm[1]:>8.0f}")
    per_doc = {}
    for label, documents, mb, (t, rss), (ft, frss) in rows:
        per_doc[label] = t / documents
        print(f"{label:<24}{documents:>8}{mb:>7.1f}{t:>9.3f}{documents / t:>9.0f}{rss:>8.0f}"
              f"{ft:>9.3f}{t / ft:>9.2f}{frss:>10.0f}")
    print(f"\nschema validation on 10k, 2,000 namespaces: {no_schema[0]:.3f} s without, "
          f"{with_schema[0]:.3f} s with ({with_schema[0] / no_schema[0] - 1:+.0%})")
    if peers:
        ours = peers[0][1][0]
        print(f"\n{'400 documents':<24}{'s':>9}{'RSS MB':>8}{'× ours':>9}")
        for name, (t, rss) in peers:
            print(f"{name:<24}{t:>9.3f}{rss:>8.0f}{t / ours:>9.1f}")

    print("\ntargets:")
    checks = [("seed fixtures warm <= 15 ms", warm[0] <= 0.015),
              ("seed fixtures first run <= 300 ms", first[0] <= 0.300)]
    by = {label: (documents, mb, lint_, floor_) for label, documents, mb, lint_, floor_ in rows}
    d, _, (t, _), (ft, _) = by["10k, one namespace"]
    checks += [("10k one namespace >= 20,000 docs/s", d / t >= 20_000),
               ("10k one namespace <= 2x the floor", t <= 2 * ft)]
    if "100k, one namespace" in by:
        for label in ("100k, one namespace", "100k, 5,000 namespaces"):
            _, mb, (_, rss), _ = by[label]
            small = per_doc["10k, one namespace" if "one" in label else "10k, 2,000 namespaces"]
            checks.append((f"{label}: per-document cost <= 1.2x 10k", per_doc[label] <= 1.2 * small))
            checks.append((f"{label}: peak RSS <= 3x input + 60 MB", rss <= 3 * mb + 60))
        checks.append(("one 50 MB file <= 5 s", by["one 50 MB file"][2][0] <= 5))
    if peers:
        ours = peers[0][1][0]
        for name, (t, _) in peers[1:]:
            checks.append((f">= 50x faster than {name}", t >= 50 * ours))
    checks += webhook_checks
    for name, held in checks:
        print(f"  {'ok  ' if held else 'MISS'} {name}")


if __name__ == "__main__":
    main()
