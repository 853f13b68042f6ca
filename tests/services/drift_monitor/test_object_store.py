"""Baselines and capture in object stores: S3 via moto in server mode, GCS via a storage emulator.

The drift monitor runs as a scheduled job on every target, reading the published baseline and the
capture prefix directly (real HTTP, real SDK clients, configured by the standard environment only).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import numpy as np
import pytest

from services.drift_monitor.cli import main
from tests.services.drift_monitor.conftest import capture_record, normal_tables, write_csv

NAMES = ("a", "b", "c")


def _capture_lines(rows: np.ndarray, per_request: int = 50) -> bytes:
    """Capture records of ``rows`` made just now (inside any --since-hours window)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lines = [capture_record(rows[i : i + per_request].tolist(), event_id=f"e-{i}").replace("2024-01-01T00:00:00Z", now)
             for i in range(0, len(rows), per_request)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def drifted(tmp_path: Path) -> tuple[bytes, list[bytes]]:
    """(baseline CSV bytes, two capture objects whose rows drift in 'a')."""
    baseline, current = normal_tables(seed=5, shift={0: 0.5})
    base = write_csv(tmp_path / "baseline.csv", NAMES, baseline).read_bytes()
    return base, [_capture_lines(current[:1000]), _capture_lines(current[1000:])]


def test_s3_baseline_and_capture_prefix(aws_env: str, drifted: tuple[bytes, list[bytes]], tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="drift-s3")
    base, captures = drifted
    s3.put_object(Bucket="drift-s3", Key="models/svc/3/baseline.csv", Body=base)
    for i, body in enumerate(captures):
        s3.put_object(Bucket="drift-s3", Key=f"capture/svc/2026/12/07/0{i}/part.jsonl", Body=body)
    code = main(["--baseline", "s3://drift-s3/models/svc/3/baseline.csv", "--current", "s3://drift-s3/capture/svc",
                 "--since-hours", "2", "--out", "s3://drift-s3/reports/svc/latest.json"])
    assert code == 3
    report = json.loads(s3.get_object(Bucket="drift-s3", Key="reports/svc/latest.json")["Body"].read())
    assert report["drifted_features"] == ["a"] and report["current"]["rows"] == 2000
    assert report["current"]["path"] == "s3://drift-s3/capture/svc"


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("s3://drift-missing-bucket/capture", "cannot be listed or read (NoSuchBucket"),
        ("s3://drift-empty/capture/none", "no objects written in the --since-hours window under this prefix"),
    ],
    ids=["no-bucket", "empty-window"],
)
def test_unusable_prefix_exits_2_naming_it(
    current: str, expected: str, aws_env: str, drifted: tuple[bytes, list[bytes]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    boto3.client("s3").create_bucket(Bucket="drift-empty")
    base = tmp_path / "b.csv"
    base.write_bytes(drifted[0])
    code = main(["--baseline", str(base), "--current", current, "--since-hours", "1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert current in err and expected in err


def test_gcs_baseline_and_capture_prefix(
    gcs_emulator: str, drifted: tuple[bytes, list[bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    from google.cloud import storage

    bucket = storage.Client().create_bucket("drift-gcs")
    base, captures = drifted
    bucket.blob("models/svc/3/baseline.csv").upload_from_string(base, content_type="text/csv")
    for i, body in enumerate(captures):
        bucket.blob(f"capture/svc/2026/12/07/0{i}/part.jsonl").upload_from_string(body)
    out = tmp_path / "report.json"
    code = main(["--baseline", "gs://drift-gcs/models/svc/3/baseline.csv", "--current", "gs://drift-gcs/capture/svc/",
                 "--since-hours", "1", "--out", str(out)])
    assert code == 3
    report = json.loads(out.read_text())
    assert report["drifted_features"] == ["a"] and report["current"]["rows"] == 2000


def test_report_to_a_missing_bucket_exits_2(aws_env: str, drifted: tuple[bytes, list[bytes]], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "b.csv"
    base.write_bytes(drifted[0])
    code = main(["--baseline", str(base), "--current", str(base), "--out", "s3://drift-no-reports/r.json"])
    assert code == 2
    assert "s3://drift-no-reports/r.json: cannot write the report (NoSuchBucket" in capsys.readouterr().err
