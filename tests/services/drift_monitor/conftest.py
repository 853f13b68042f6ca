"""Fixtures and helpers: synthetic tables, CSV/capture writers, moto's CloudWatch in server mode."""

from __future__ import annotations

import base64
import csv
import json
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_csv(path: Path, names: Sequence[str], rows: np.ndarray | list[list[object]]) -> Path:
    """Write a CSV with a header row."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows([[repr(float(v)) if isinstance(v, float | np.floating) else v for v in row] for row in rows])
    return path


def capture_record(rows: list[list[float]], encoding: str = "JSON", event_id: str = "e-1") -> str:
    """One SageMaker data-capture line whose request carried ``rows``."""
    if encoding == "CSV":
        data, content_type = "\n".join(",".join(repr(v) for v in row) for row in rows), "text/csv"
    else:
        data, content_type = json.dumps({"instances": rows}), "application/json"
    if encoding == "BASE64":
        data = base64.b64encode(data.encode()).decode()
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": json.dumps({"predictions": [0] * len(rows)}),
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": "2024-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


def normal_tables(seed: int, n: int = 2000, features: int = 3, shift: dict[int, float] | None = None):
    """Baseline and current samples of independent standard normals; ``shift`` moves some means."""
    rng = np.random.default_rng(seed)
    baseline = rng.normal(size=(n, features))
    current = rng.normal(size=(n, features))
    for column, amount in (shift or {}).items():
        current[:, column] += amount
    return baseline, current


@pytest.fixture
def three_features(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(baseline.csv, current.csv with a 0.5-sigma shift in 'b', drift-free current.csv)."""
    names = ("a", "b", "c")
    baseline, current = normal_tables(seed=1, shift={1: 0.5})
    _, quiet = normal_tables(seed=2)
    return (
        write_csv(tmp_path / "baseline.csv", names, baseline),
        write_csv(tmp_path / "shifted.csv", names, current),
        write_csv(tmp_path / "quiet.csv", names, quiet),
    )


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server (real HTTP) for the whole session; stopped afterwards."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, moto_endpoint: str) -> str:
    """Point boto3 at moto through the standard environment variables only."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return moto_endpoint
