"""Publishing a model version: S3 via moto in server mode, GCS via a storage emulator (real HTTP)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from services.trainer import UploadError, destination, upload_artifacts
from services.trainer.cli import main

REPO_ROOT = Path(__file__).resolve().parents[3]
VERSION_FILES = ["baseline.csv", "constraints.json", "model.tar.gz", "statistics.json"]


def _s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def _members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_upload_writes_the_version_folder_the_endpoints_read(artifact_dir: Path, aws_env: str) -> None:
    s3 = _s3(aws_env)
    s3.create_bucket(Bucket="artifacts-api")

    uploaded = upload_artifacts(artifact_dir, destination("s3://artifacts-api", "fraud-detector", "8"), client=s3)

    listed = s3.list_objects_v2(Bucket="artifacts-api")["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"models/fraud-detector/8/{f}" for f in VERSION_FILES]
    assert sorted(uploaded) == [f"s3://artifacts-api/models/fraud-detector/8/{f}" for f in VERSION_FILES]
    archive = s3.get_object(Bucket="artifacts-api", Key="models/fraud-detector/8/model.tar.gz")
    assert archive["ContentType"] == "application/gzip"
    assert _members(archive["Body"].read()) == {
        "metadata.json": (artifact_dir / "metadata.json").read_bytes(),
        "model.onnx": (artifact_dir / "model.onnx").read_bytes(),
    }
    stats = s3.get_object(Bucket="artifacts-api", Key="models/fraud-detector/8/statistics.json")
    assert stats["ContentType"] == "application/json"


def test_model_prefix_replaces_models_service(artifact_dir: Path, aws_env: str) -> None:
    s3 = _s3(aws_env)
    s3.create_bucket(Bucket="artifacts-prefix")
    upload_artifacts(artifact_dir, destination("s3://artifacts-prefix", "ranker", "3", "teams/search/ranker"), s3)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="artifacts-prefix")["Contents"])
    assert keys == [f"teams/search/ranker/3/{f}" for f in VERSION_FILES]


def test_a_published_version_is_immutable(artifact_dir: Path, tmp_path: Path, aws_env: str) -> None:
    """Re-publishing the same bytes is a no-op; other bytes under the same version are refused.

    An endpoint pins `<prefix>/<modelVersion>/model.tar.gz`; SageMaker copies the model when it
    creates a variant, so replacing the object would change what the next scale-out or rollback
    serves without any stack change.
    """
    s3 = _s3(aws_env)
    s3.create_bucket(Bucket="artifacts-immutable")
    target = destination("s3://artifacts-immutable", "fraud-detector", "9")
    upload_artifacts(artifact_dir, target, client=s3)
    upload_artifacts(artifact_dir, target, client=s3)  # same files: fine

    other = tmp_path / "other"
    other.mkdir()
    for file in (*VERSION_FILES, "model.onnx", "metadata.json"):
        (other / file).write_bytes((artifact_dir / file).read_bytes())
    (other / "baseline.csv").write_text("changed\n")
    with pytest.raises(UploadError, match=r"already exists with other content.*choose a new --model-version"):
        upload_artifacts(other, target, client=s3)
    body = s3.get_object(Bucket="artifacts-immutable", Key="models/fraud-detector/9/baseline.csv")["Body"].read()
    assert body == (artifact_dir / "baseline.csv").read_bytes()


def test_a_publish_cut_short_is_finished_by_running_it_again(artifact_dir: Path, aws_env: str) -> None:
    """The archive goes last, so a folder without it is incomplete, and publishing again completes it."""
    s3 = _s3(aws_env)
    s3.create_bucket(Bucket="artifacts-halfway")
    target = destination("s3://artifacts-halfway", "fraud-detector", "10")
    upload_artifacts(artifact_dir, target, client=s3)
    s3.delete_object(Bucket="artifacts-halfway", Key=target.key("model.tar.gz"))  # as if the run died there

    upload_artifacts(artifact_dir, target, client=s3)

    body = s3.get_object(Bucket="artifacts-halfway", Key=target.key("model.tar.gz"))["Body"].read()
    assert body == (artifact_dir / "model.tar.gz").read_bytes()


def test_cli_trains_and_publishes_using_the_aws_environment(tmp_path: Path, aws_env: str) -> None:
    _s3(aws_env).create_bucket(Bucket="artifacts-cli")
    out = tmp_path / "model"
    result = subprocess.run(
        [sys.executable, "-m", "services.trainer", "--out", str(out), "--no-mlflow",
         "--upload", "s3://artifacts-cli", "--service", "fraud-detector", "--model-version", "8"],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["version"] == "8"
    assert summary["model_uri"] == "s3://artifacts-cli/models/fraud-detector/8/model.tar.gz"
    body = _s3(aws_env).get_object(Bucket="artifacts-cli", Key="models/fraud-detector/8/model.tar.gz")["Body"].read()
    assert body == (out / "model.tar.gz").read_bytes()
    assert json.loads(_members(body)["metadata.json"])["version"] == "8"


def test_missing_bucket_fails_with_exit_1_and_says_why(
    tmp_path: Path, aws_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--out", str(tmp_path / "m"), "--no-mlflow", "--upload", "s3://no-such-bucket", "--service", "x"])
    err = capsys.readouterr().err
    assert code == 1
    assert "upload to s3://no-such-bucket failed" in err and "NoSuchBucket" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--upload", "ftp://host", "--service", "s"], "expected s3://BUCKET or gs://BUCKET"),
        (["--upload", "s3://", "--service", "s"], "expected s3://BUCKET"),
        (["--upload", "s3://bucket/models/{name}/{version}", "--service", "s"], "give the bucket only"),
        (["--upload", "s3://bucket"], "--upload needs --service"),
        (["--upload", "s3://bucket", "--service", "a/b"], "--service 'a/b'"),
        (["--upload", "s3://bucket", "--service", "s", "--model-version", "v/1"], "--model-version 'v/1'"),
        (["--upload", "s3://bucket", "--service", "s", "--model-prefix", "/models/x/"], "--model-prefix"),
        (["--service", "s"], "only apply with --upload"),
    ],
)
def test_unusable_destination_is_rejected_before_training(
    args: list[str], hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never-written"
    assert main(["--out", str(out), "--no-mlflow", *args]) == 2
    assert hint in capsys.readouterr().err
    assert not out.exists()


def test_gcs_publish_writes_the_same_layout(
    artifact_dir: Path, gcs_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials())
    client.create_bucket("vertex-artifacts")

    uploaded = upload_artifacts(artifact_dir, destination("gs://vertex-artifacts", "fraud-detector", "8"), client)

    blobs = sorted(blob.name for blob in client.list_blobs("vertex-artifacts"))
    assert blobs == [f"models/fraud-detector/8/{f}" for f in VERSION_FILES]
    assert sorted(uploaded) == [f"gs://vertex-artifacts/{name}" for name in blobs]
    archive = client.bucket("vertex-artifacts").blob("models/fraud-detector/8/model.tar.gz").download_as_bytes()
    assert archive == (artifact_dir / "model.tar.gz").read_bytes()
    with pytest.raises(UploadError, match="already exists"):
        changed = artifact_dir.parent / "changed-gcs"
        changed.mkdir(exist_ok=True)
        for file in VERSION_FILES:
            (changed / file).write_bytes((artifact_dir / file).read_bytes())
        (changed / "statistics.json").write_text("{}")
        upload_artifacts(changed, destination("gs://vertex-artifacts", "fraud-detector", "8"), client)


def test_cli_publishes_to_gcs_with_the_default_client(
    tmp_path: Path, gcs_emulator: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    from google.cloud import storage

    storage.Client().create_bucket("cli-artifacts")
    code = main(["--out", str(tmp_path / "m"), "--no-mlflow", "--upload", "gs://cli-artifacts",
                 "--service", "scorer", "--model-version", "2"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["model_uri"] == "gs://cli-artifacts/models/scorer/2/model.tar.gz"
    names = {b.name for b in storage.Client().list_blobs("cli-artifacts")}
    assert names == {f"models/scorer/2/{f}" for f in VERSION_FILES}


def test_out_path_that_is_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "model"
    blocker.write_text("not a directory")
    assert main(["--out", str(blocker), "--no-mlflow"]) == 2
    assert f"cannot write {blocker}" in capsys.readouterr().err


def test_test_size_outside_0_1_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "m"), "--no-mlflow", "--test-size", "1.5"]) == 2
    assert "--test-size must be between 0 and 1" in capsys.readouterr().err
