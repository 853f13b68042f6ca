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


AZURE = "https://devstoreaccount1.blob.core.windows.net"


@pytest.fixture
def azure_container(azurite: str, monkeypatch: pytest.MonkeyPatch):
    """A fresh Azurite container; the monitor finds Azurite through AZURE_STORAGE_CONNECTION_STRING only."""
    import time

    from azure.storage.blob import BlobServiceClient

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    container = BlobServiceClient.from_connection_string(azurite).get_container_client(f"d{time.monotonic_ns()}")
    container.create_container()
    return container


def test_azure_blob_baseline_and_capture_prefix_and_report(azure_container, drifted: tuple[bytes, list[bytes]]) -> None:
    name = azure_container.container_name
    base, captures = drifted
    azure_container.upload_blob("models/svc/3/baseline.csv", base)
    for i, body in enumerate(captures):
        azure_container.upload_blob(f"capture/svc/2026/12/07/0{i}/part.jsonl", body)
    azure_container.upload_blob("capture/other/part.jsonl", b"not read: outside the prefix\n")
    azure_container.upload_blob("drift-reports/svc/latest.json", b"{}")  # last run's report is replaced
    code = main(["--baseline", f"{AZURE}/{name}/models/svc/3/baseline.csv", "--current", f"{AZURE}/{name}/capture/svc",
                 "--since-hours", "1", "--out", f"{AZURE}/{name}/drift-reports/svc/latest.json"])
    assert code == 3
    report = json.loads(azure_container.download_blob("drift-reports/svc/latest.json").readall())
    assert report["drifted_features"] == ["a"] and report["current"]["rows"] == 2000
    assert report["current"]["path"] == f"{AZURE}/{name}/capture/svc"


def test_azure_blobs_written_before_the_window_are_not_read(
    azure_container, drifted: tuple[bytes, list[bytes]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.drift_monitor.sources import iter_sources

    name = azure_container.container_name
    azure_container.upload_blob("capture/svc/old.jsonl", drifted[1][0])
    location = f"{AZURE}/{name}/capture/svc"
    assert [uri for uri, _ in iter_sources(location)] == [f"{location}/old.jsonl"]
    base = tmp_path / "b.csv"
    base.write_bytes(drifted[0])
    later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    with pytest.raises(Exception, match="no objects written in the --since-hours window"):
        list(iter_sources(location, since=later))


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (f"{AZURE}/no-such-container/capture", "cannot be listed or read (ResourceNotFoundError"),
        ("https://example.com/capture/svc", "unsupported location; expected a local path, s3://bucket/prefix"),
        (f"{AZURE}/", "missing container"),
        (f"{AZURE}/no-such-container/capture?sv=2024-01-01&sig=SECRET", "cannot be listed or read"),
    ],
    ids=["no-container", "not-a-blob-url", "no-container-in-url", "sas-redacted"],
)
def test_unusable_azure_location_exits_2_naming_it(
    current: str, expected: str, azure_container, drifted: tuple[bytes, list[bytes]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = tmp_path / "b.csv"
    base.write_bytes(drifted[0])
    code = main(["--baseline", str(base), "--current", current, "--out", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    shown = current.replace("sv=2024-01-01&sig=SECRET", "<SAS redacted>")  # a SAS is a bearer credential
    assert shown in err and expected in err and "SECRET" not in err


def test_gcs_reads_and_report_writes_never_get_the_bucket(
    gcs_emulator: str, drifted: tuple[bytes, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GKE grants the drift job object permissions conditioned on prefixes, not storage.buckets.get: every
    request must be an object list, an object read or an object upload (``get_bucket`` would reload the bucket:
    GET /storage/v1/b/<bucket>, refused under such a grant)."""
    import requests
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    from services.drift_monitor.sources import iter_sources, write_report

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    sent: list[tuple[str, str]] = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, **_: sent.append((r.request.method, r.request.path_url)))
    client = storage.Client(project="test", credentials=AnonymousCredentials(), _http=session)
    bucket = client.create_bucket("drift-grants")
    bucket.blob("capture/svc/2026/12/07/00/part.jsonl").upload_from_string(drifted[1][0])
    sent.clear()

    assert len(list(iter_sources("gs://drift-grants/capture/svc", client=client))) == 1
    write_report("gs://drift-grants/reports/svc/latest.json", "{}", client=client)

    assert [(method, path.split("?")[0]) for method, path in sent] == [
        ("GET", "/storage/v1/b/drift-grants/o"),  # list under the prefix
        ("GET", "/download/storage/v1/b/drift-grants/o/capture/svc/2026/12/07/00/part.jsonl"),  # read
        ("POST", "/upload/storage/v1/b/drift-grants/o"),
    ]
