"""Fixtures and helpers: synthetic tables, CSV/capture writers, moto's CloudWatch in server mode."""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest


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
