"""Serving benchmark: services.model_server beside a bare Starlette + ONNX Runtime app, in one run.

The trainer (``services.trainer``) writes one artifact; every server process serves that same
``model.onnx`` on 127.0.0.1, pinned to one core with ``taskset``, while ``wrk`` (Debian package)
drives it from the other core with single-row ``POST /invocations`` requests. Rounds alternate the
servers (the order flips every round) so background load on a shared machine hits them alike;
each row of the table is the median-throughput round.

    .venv/bin/python benchmarks/serve.py                      # print the table and the verdicts
    .venv/bin/python benchmarks/serve.py --rounds 7 --seconds 5 --write-docs

Servers: ``bare`` (benchmarks/bare_server.py under uvicorn with uvloop + httptools, no access log);
``model_server`` with the production defaults (Prometheus metrics, one JSON access-log line per
request written to a file, 10% prediction capture to a local JSON Lines file); and the same with
logs and capture off, which shows what those two cost. Targets (issue 11) are checked here, never
in timed tests: at c=8 the model server keeps >= 0.8x the bare app's throughput with p99 <= 1.5x;
at c=32 it matches the bare app's throughput or beats it (micro-batching).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "performance.md"
HOST = "127.0.0.1"  # loopback only, by design
BARE, PRODUCTION, QUIET = (
    "bare (Starlette + ONNX Runtime)",
    "model_server (production defaults)",
    "model_server (logs, capture off)",
)
TARGETS = {8: (0.8, 1.5), 32: (1.0, None)}  # concurrency -> (min throughput ratio, max p99 ratio)
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class Run:
    server: str
    concurrency: int
    throughput: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    cpu_us: float
    """Server CPU time (user + system, all threads) per request: what the load cannot blur much."""


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"benchmarks/serve.py needs '{tool}': apt-get install -y {package}")
    return path


def train(workdir: Path) -> tuple[Path, list[float]]:
    """The trainer's artifact and one row of its features (the first row of its data set)."""
    artifact = workdir / "artifact"
    subprocess.run(
        [sys.executable, "-m", "services.trainer", "--out", str(artifact), "--no-mlflow"],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    from sklearn.datasets import load_breast_cancer

    return artifact, [float(v) for v in load_breast_cancer().data[0]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start(name: str, artifact: Path, workdir: Path, cpu: int) -> tuple[subprocess.Popen, int]:
    """Start one server pinned to ``cpu``; wait until ``/ping`` answers."""
    port = free_port()
    env = {**os.environ, "HOST": HOST, "PORT": str(port), "MODEL_URI": str(artifact)}
    if name == BARE:
        command = [sys.executable, "-m", "uvicorn", "benchmarks.bare_server:app", "--host", HOST, "--port", str(port)]
        command += ["--no-access-log", "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]
        env["BARE_MODEL_DIR"] = str(artifact)
    else:
        command = [sys.executable, "-m", "services.model_server"]
        if name == PRODUCTION:
            env |= {"CAPTURE_DESTINATION": str(workdir / "capture.jsonl"), "CAPTURE_SAMPLE_PERCENT": "10"}
        else:
            env["LOG_LEVEL"] = "warning"
    log = (workdir / f"{port}.log").open("wb")  # a real file: log lines cost real writes
    process = subprocess.Popen(["taskset", "-c", str(cpu), *command], cwd=REPO, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1) as sock:
                sock.sendall(f"GET /ping HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not become healthy; see {log.name}")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * UNITS[unit]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(server: subprocess.Popen, port: int, script: Path, concurrency: int, seconds: int, cpu: int) -> tuple:
    """``(req/s, p50 ms, p99 ms, non-2xx, server CPU us/request)`` of one wrk run pinned to ``cpu``."""
    cpu_before = cpu_seconds(server.pid)
    out = subprocess.run(
        [
            *("taskset", "-c", str(cpu), "wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s"),
            str(script),
            f"http://{HOST}:{port}/invocations",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    used = cpu_seconds(server.pid) - cpu_before
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    throughput = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    requests = int(re.search(r"(\d+) requests in", out)[1])
    return (
        throughput,
        _ms(percentiles["50"]),
        _ms(percentiles["99"]),
        int(non_2xx[1]) if non_2xx else 0,
        used / max(requests, 1) * 1e6,
    )


def measure(
    servers: dict[str, int], script: Path, concurrencies: list[int], rounds: int, seconds: float, cpu: int
) -> list[Run]:
    names = list(servers)
    for name in names:  # warm-up: imports, allocator, ORT arenas
        wrk(*servers[name], script, 8, 2, cpu)
    runs: dict[tuple[str, int], list[Run]] = {}
    for round_index in range(rounds):
        order = names if round_index % 2 == 0 else names[::-1]
        for concurrency in concurrencies:
            for name in order:
                run = Run(name, concurrency, *wrk(*servers[name], script, concurrency, seconds, cpu))
                runs.setdefault((name, concurrency), []).append(run)
                print(
                    f"  round {round_index + 1} {name:<36} c={concurrency:<3} {run.throughput:8.0f} req/s "
                    f"p50 {run.p50_ms:6.3f} ms p99 {run.p99_ms:6.3f} ms cpu {run.cpu_us:5.1f} us/req",
                    file=sys.stderr,
                )
    medians = []
    for name in names:
        for concurrency in concurrencies:
            ordered = sorted(runs[(name, concurrency)], key=lambda r: r.throughput)
            medians.append(ordered[len(ordered) // 2])
    spread = {key: (min(r.throughput for r in value), max(r.throughput for r in value)) for key, value in runs.items()}
    return medians, spread


def report(medians: list[Run], spread: dict, args: argparse.Namespace, load: tuple[float, float]) -> str:
    lines = [
        f"Machine: {os.cpu_count()} cores ({machine()}), Python {sys.version.split()[0]}. "
        f"1-minute load average {load[0]:.2f} before the run, {load[1]:.2f} after "
        "(the machine is shared: other work shows up as noise).",
        f"Server pinned to CPU {args.server_cpu}, wrk (1 thread) on CPU {args.client_cpu}; {args.rounds} alternated "
        f"rounds of {args.seconds:g} s per server and concurrency; each row is the median-throughput round "
        "(min-max of the rounds in brackets).",
        "",
        "| server | connections | req/s (min-max) | p50 ms | p99 ms | server CPU µs/request | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in medians:
        low, high = spread[(run.server, run.concurrency)]
        lines.append(
            f"| {run.server} | {run.concurrency} | {run.throughput:,.0f} ({low:,.0f}-{high:,.0f}) | "
            f"{run.p50_ms:.2f} | {run.p99_ms:.2f} | {run.cpu_us:.0f} | {run.non_2xx} |"
        )
    lines.append("")
    by_key = {(r.server, r.concurrency): r for r in medians}
    for concurrency, (min_ratio, max_p99) in TARGETS.items():
        ours, bare = by_key.get((PRODUCTION, concurrency)), by_key.get((BARE, concurrency))
        if ours is None or bare is None:
            continue
        ratio, p99_ratio = ours.throughput / bare.throughput, ours.p99_ms / bare.p99_ms
        met = ratio >= min_ratio and (max_p99 is None or p99_ratio <= max_p99)
        target = f">= {min_ratio:g}x throughput" + (f", p99 <= {max_p99:g}x" if max_p99 else "")
        lines.append(
            f"- c={concurrency}: production defaults {ratio:.2f}x the bare app's throughput, p99 {p99_ratio:.2f}x "
            f"(target {target}): **{'met' if met else 'not met'}**; CPU per request "
            f"{ours.cpu_us:.0f} µs vs {bare.cpu_us:.0f} µs ({bare.cpu_us / ours.cpu_us:.2f}x the bare app's "
            "throughput per CPU second)"
        )
    return "\n".join(lines)


def machine() -> str:
    try:
        return next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        return "unknown CPU"


def write_docs(text: str) -> None:
    """Replace the generated block between the serve.py markers in docs/performance.md."""
    begin, end = "<!-- serve.py results: begin -->", "<!-- serve.py results: end -->"
    content = DOCS.read_text()
    if begin not in content:
        sys.exit(f"{DOCS} has no '{begin}' marker")
    content = re.sub(
        re.escape(begin) + ".*?" + re.escape(end), lambda _: f"{begin}\n{text}\n{end}", content, flags=re.S
    )
    DOCS.write_text(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--rounds", type=int, default=5, help="alternated rounds; the median is kept (default 5)")
    parser.add_argument("--seconds", type=int, default=4, help="wrk duration per run (default 4)")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--servers", nargs="+", choices=[BARE, PRODUCTION, QUIET], default=[BARE, PRODUCTION, QUIET])
    parser.add_argument("--write-docs", action="store_true", help="replace the results block in docs/performance.md")
    args = parser.parse_args(argv)
    require("wrk", "wrk")
    require("taskset", "util-linux")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        artifact, row = train(workdir)
        script = workdir / "post.lua"
        body = json.dumps({"instances": [row]})
        script.write_text(
            f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = {json.dumps(body)}\n'
        )
        processes, servers = [], {}
        try:
            for name in args.servers:
                process, port = start(name, artifact, workdir, args.server_cpu)
                processes.append(process)
                servers[name] = (process, port)
            medians, spread = measure(servers, script, args.concurrency, args.rounds, args.seconds, args.client_cpu)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)
    text = report(medians, spread, args, (load_before, os.getloadavg()[0]))
    print(text)
    if args.write_docs:
        write_docs(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
