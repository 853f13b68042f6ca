"""Uploading the artifact directory: S3 via moto in server mode, GCS via a storage emulator (real HTTP)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from services.trainer import UploadError, upload_artifacts
from services.trainer.cli import main
from tests.services.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]


def _s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def test_upload_puts_every_file_under_the_versioned_prefix(artifact_dir: Path, aws_env: str) -> None:
    s3 = _s3(aws_env)
    s3.create_bucket(Bucket="artifacts-api")
    meta = json.loads((artifact_dir / "metadata.json").read_text())

    uploaded = upload_artifacts(artifact_dir, "s3://artifacts-api/models/{name}/{version}", client=s3)

    prefix = f"models/{meta['name']}/{meta['version']}"
    listed = s3.list_objects_v2(Bucket="artifacts-api", Prefix=prefix)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f"{prefix}/{p.name}" for p in artifact_dir.iterdir())
    assert uploaded == sorted(f"s3://artifacts-api/{o['Key']}" for o in listed)
    model = s3.get_object(Bucket="artifacts-api", Key=f"{prefix}/model.onnx")
    assert model["Body"].read() == (artifact_dir / "model.onnx").read_bytes()
    assert s3.head_object(Bucket="artifacts-api", Key=f"{prefix}/metadata.json")["ContentType"] == "application/json"


def test_cli_trains_and_uploads_using_the_aws_environment(tmp_path: Path, aws_env: str) -> None:
    _s3(aws_env).create_bucket(Bucket="artifacts-cli")
    out = tmp_path / "model"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.trainer",
            "--out",
            str(out),
            "--no-mlflow",
            "--upload",
            "s3://artifacts-cli/demo",
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "s3://artifacts-cli/demo/model.onnx" in json.loads(result.stdout)["uploaded"]
    body = _s3(aws_env).get_object(Bucket="artifacts-cli", Key="demo/model.onnx")["Body"].read()
    assert body == (out / "model.onnx").read_bytes()


def test_missing_bucket_fails_with_exit_1_and_says_why(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--out", str(tmp_path / "m"), "--no-mlflow", "--upload", "s3://no-such-bucket/x"])
    err = capsys.readouterr().err
    assert code == 1
    assert "upload to s3://no-such-bucket/x failed" in err and "NoSuchBucket" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("uri", "hint"),
    [
        ("ftp://host/x", "expected s3://bucket/prefix or gs://bucket/prefix"),
        ("s3://", "expected s3://bucket/prefix"),
        ("s3://bucket/{stage}", "only {name} and {version}"),
    ],
)
def test_unsupported_destination_is_rejected_before_training(
    uri: str, hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never-written"
    assert main(["--out", str(out), "--no-mlflow", "--upload", uri]) == 2
    assert hint in capsys.readouterr().err
    assert not out.exists()


def test_unknown_placeholder_in_prefix_is_an_upload_error(artifact_dir: Path) -> None:
    with pytest.raises(UploadError, match=r"only \{name\} and \{version\}"):
        upload_artifacts(artifact_dir, "s3://bucket/{stage}/model")


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[str]:
    """A GCS emulator on 127.0.0.1 (in memory) for this module; stopped afterwards."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_gcs_upload_puts_every_file_under_the_prefix(
    artifact_dir: Path, gcs_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials())
    client.create_bucket("vertex-artifacts")

    uploaded = upload_artifacts(artifact_dir, "gs://vertex-artifacts/models/{version}", client=client)

    meta = json.loads((artifact_dir / "metadata.json").read_text())
    blobs = {blob.name: blob for blob in client.list_blobs("vertex-artifacts")}
    assert sorted(blobs) == sorted(f"models/{meta['version']}/{p.name}" for p in artifact_dir.iterdir())
    assert uploaded == sorted(f"gs://vertex-artifacts/{name}" for name in blobs)
    model = client.bucket("vertex-artifacts").blob(f"models/{meta['version']}/model.onnx").download_as_bytes()
    assert model == (artifact_dir / "model.onnx").read_bytes()


def test_cli_uploads_to_gcs_with_the_default_client(
    tmp_path: Path, gcs_emulator: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    from google.cloud import storage

    storage.Client().create_bucket("cli-artifacts")
    assert main(["--out", str(tmp_path / "m"), "--no-mlflow", "--upload", "gs://cli-artifacts/demo"]) == 0
    assert "gs://cli-artifacts/demo/model.onnx" in json.loads(capsys.readouterr().out)["uploaded"]
    assert {b.name for b in storage.Client().list_blobs("cli-artifacts")} >= {"demo/model.onnx", "demo/metadata.json"}


def test_out_path_that_is_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "model"
    blocker.write_text("not a directory")
    assert main(["--out", str(blocker), "--no-mlflow"]) == 2
    assert f"cannot write {blocker}" in capsys.readouterr().err


def test_test_size_outside_0_1_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "m"), "--no-mlflow", "--test-size", "1.5"]) == 2
    assert "--test-size must be between 0 and 1" in capsys.readouterr().err
