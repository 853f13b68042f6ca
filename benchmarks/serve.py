"""Serving benchmark: services.model_server against the naive FastAPI + joblib + sklearn baseline.

Both servers run as real processes on 127.0.0.1 serving the same model (a scaled logistic
regression on scikit-learn's breast cancer data; ONNX for ours, a joblib pickle for the baseline).
A light asyncio HTTP/1.1 keep-alive client sends single-row requests at several concurrencies and
reports throughput and latency percentiles. Request counts and run time are bounded.

    python benchmarks/serve.py                    # print a markdown table
    python benchmarks/serve.py --requests 2000 --concurrency 1 8 32 --write-docs

On a machine with two or more cores the servers are pinned to CPU 0 and the load generator to
CPU 1, so the client does not steal the server's core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "performance.md"
SECTION = "## Serving (services.model_server)"
HOST = "127.0.0.1"  # loopback only, by design


@dataclass
class Result:
    server: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


def build_models(workdir: Path) -> tuple[Path, Path, list[float]]:
    """Train one model; write it as an ONNX artifact (ours) and a joblib pickle (baseline)."""
    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, data.target)
    artifact = workdir / "artifact"
    artifact.mkdir()
    onx = to_onnx(
        model,
        initial_types=[("features", FloatTensorType([None, 30]))],
        options={id(model): {"zipmap": False}},
        target_opset=17,
    )
    (artifact / "model.onnx").write_bytes(onx.SerializeToString())
    (artifact / "metadata.json").write_text(
        json.dumps(
            {
                "name": "breast-cancer",
                "version": "bench",
                "feature_names": [str(n) for n in data.feature_names],
                "input_name": "features",
                "output_names": [o.name for o in onx.graph.output],
                "task": "classification",
                "class_labels": [int(c) for c in model.classes_],
            }
        )
    )
    pickle = workdir / "model.joblib"
    joblib.dump(model, pickle)
    return artifact, pickle, [float(v) for v in x[0]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict[str, str], port: int, health: str, cpu: int | None) -> subprocess.Popen:
    """Start a server process (optionally pinned to ``cpu``) and wait until ``health`` answers."""

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1) as sock:
                sock.sendall(f"GET {health} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command} did not become healthy")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def _client(
    port: int, request: bytes, remaining: list[int], deadline: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while remaining[0] > 0 and time.perf_counter() < deadline:
            remaining[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head)[1])
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000.0)
            if not head.startswith(b"HTTP/1.1 200"):
                errors[0] += 1
    finally:
        writer.close()


async def _load(port: int, request: bytes, concurrency: int, total: int, max_seconds: float) -> Result:
    latencies: list[float] = []
    errors = [0]
    remaining = [total]
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(port, request, remaining, started + max_seconds, latencies, errors) for _ in range(concurrency))
    )
    return Result("", concurrency, len(latencies), errors[0], time.perf_counter() - started, latencies)


def http_post(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _event_loop_runner() -> Any:
    """uvloop when installed: the load generator must cost less CPU than the servers it measures."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def measure(
    servers: list[tuple[str, int, bytes, subprocess.Popen]],
    concurrencies: list[int],
    total: int,
    max_seconds: float,
    repeat: int,
) -> list[Result]:
    """Interleave servers (shuffled) within each round so background load hits them alike; keep medians."""
    runner = _event_loop_runner()
    for _, port, request, _ in servers:
        runner(_load(port, request, 4, 500, 10))  # warm-up
    runs: dict[tuple[str, int], list[Result]] = {}
    order = random.Random(0)
    for _ in range(repeat):
        for concurrency in concurrencies:
            for name, port, request, _ in order.sample(servers, len(servers)):
                result = runner(_load(port, request, concurrency, total, max_seconds))
                result.server = name
                runs.setdefault((name, concurrency), []).append(result)
    results = []
    for name, *_ in servers:
        for concurrency in concurrencies:
            ordered = sorted(runs[(name, concurrency)], key=lambda r: r.throughput)
            result = ordered[len(ordered) // 2]
            results.append(result)
            print(
                f"  {name:<28} c={concurrency:<3} {result.throughput:8.0f} req/s  p50 {result.percentile(50):6.2f} ms"
                f"  p99 {result.percentile(99):6.2f} ms  errors {result.errors}",
                file=sys.stderr,
            )
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| server | concurrency | requests | throughput (req/s) | p50 (ms) | p99 (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.server} | {r.concurrency} | {r.requests} | {r.throughput:.0f} | "
            f"{r.percentile(50):.2f} | {r.percentile(99):.2f} | {r.errors} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per concurrency level (default 3000)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time cap per run (default 30)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per level; the median is kept (default 3)")
    parser.add_argument("--write-docs", action="store_true", help=f"replace '{SECTION}' in docs/performance.md")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and client to separate CPUs")
    args = parser.parse_args(argv)
    pin = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    server_cpu = min(os.sched_getaffinity(0)) if pin else None
    if pin:
        os.sched_setaffinity(0, set(os.sched_getaffinity(0)) - {server_cpu})

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        artifact, pickle, row = build_models(Path(tmp))
        ours_request = http_post("/invocations", json.dumps({"instances": [row]}).encode())
        baseline_request = http_post("/predict", json.dumps({"features": row}).encode())
        ours = [sys.executable, "-m", "services.model_server"]
        # Each server keeps its default request logging (ours: one JSON line; uvicorn: its access log).
        servers = [
            ("model_server", ours, {"MODEL_URI": str(artifact)}, "/ping", ours_request),
            (
                "model_server (no batching)",
                ours,
                {"MODEL_URI": str(artifact), "BATCH_MAX_ROWS": "1"},
                "/ping",
                ours_request,
            ),
            (
                "baseline (FastAPI+sklearn)",
                [sys.executable, "-m", "uvicorn", "benchmarks.baseline_server:app"],
                {"BASELINE_MODEL_PATH": str(pickle)},
                "/health",
                baseline_request,
            ),
        ]
        running = []
        try:
            for name, command, env, health, request in servers:
                port = free_port()
                if command is ours:
                    env = {**env, "PORT": str(port), "HOST": HOST}
                else:
                    command = [*command, "--host", HOST, "--port", str(port)]
                running.append((name, port, request, start(command, env, port, health, server_cpu)))
            results = measure(running, args.concurrency, args.requests, args.max_seconds, args.repeat)
        finally:
            for *_, process in running:
                stop(process)

    placement = f"Server pinned to CPU {server_cpu}, load generator on the other core(s)." if pin else "No CPU pinning."
    report = [
        f"Machine: {machine()}. 1-minute load average before the run {load_before:.2f}, "
        f"after {os.getloadavg()[0]:.2f} (other work on the machine shows up as noise).",
        f"Each row is the median-throughput run of {args.repeat} runs of {args.requests} single-row requests. "
        + placement,
        "",
        table(results),
        "",
    ]
    ours = {r.concurrency: r for r in results if r.server == "model_server"}
    base = {r.concurrency: r for r in results if r.server.startswith("baseline")}
    for c in sorted(ours):
        report.append(
            f"- concurrency {c}: {ours[c].throughput / base[c].throughput:.1f}x the baseline's throughput, "
            f"p99 {ours[c].percentile(99):.2f} ms vs {base[c].percentile(99):.2f} ms"
        )
    text = "\n".join(report)
    print(text)
    if args.write_docs:
        write_docs(text)
    return 0


def write_docs(results_text: str) -> None:
    """Replace the generated block inside this script's section of docs/performance.md."""
    begin, end = "<!-- serve.py results: begin -->", "<!-- serve.py results: end -->"
    content = DOCS.read_text() if DOCS.exists() else "# Performance\n"
    block = f"{begin}\n{results_text}\n{end}"
    if begin in content:
        content = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, content, flags=re.S)
    elif SECTION in content:
        content = content.replace(SECTION, f"{SECTION}\n\n{block}", 1)
    else:
        content = content.rstrip() + f"\n\n{SECTION}\n\n{block}\n"
    DOCS.write_text(content)


if __name__ == "__main__":
    sys.exit(main())
