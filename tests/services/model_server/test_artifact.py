"""Finding, fetching and trusting a model artifact: local paths, S3 (moto server), GCS (emulator), Azure URLs."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from services.model_server.artifact import (
    ArtifactError,
    ArtifactLocation,
    ModelMetadata,
    download_s3,
    fetch,
    find_artifact_dir,
    parse_location,
)
from services.model_server.model import OnnxModel, choose_providers
from tests.services.ports import free_port


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/opt/ml/model", ArtifactLocation("local", "/opt/ml/model")),
        ("file:///srv/model", ArtifactLocation("local", "/srv/model")),
        ("s3://models/churn/v3", ArtifactLocation("s3", "churn/v3", bucket="models")),
        ("gs://vertex-artifacts/model", ArtifactLocation("gs", "model", bucket="vertex-artifacts")),
        (
            "https://acct.blob.core.windows.net/models/churn/v3?sv=2024&sig=x",
            ArtifactLocation(
                "azure",
                "churn/v3",
                bucket="models",
                account_url="https://acct.blob.core.windows.net",
                sas_token="sv=2024&sig=x",
            ),
        ),
    ],
)
def test_model_locations_are_parsed(uri: str, expected: ArtifactLocation) -> None:
    assert parse_location(uri) == expected


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("s3:///no-bucket", "missing bucket"),
        ("https://example.com/model", "unsupported model location"),
        ("ftp://host/model", "unsupported model location"),
        ("https://acct.blob.core.windows.net/", "missing container"),
    ],
)
def test_unusable_locations_are_rejected_with_the_expected_form(uri: str, words: str) -> None:
    with pytest.raises(ArtifactError, match=words):
        parse_location(uri)


def test_artifact_one_folder_down_is_found(artifact_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(artifact_dir, tmp_path / "breast-cancer")  # how Azure ML mounts a registered folder
    assert find_artifact_dir(tmp_path) == tmp_path / "breast-cancer"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match=r"no model\.onnx here or in a sub-folder"):
        find_artifact_dir(tmp_path / "empty")
    with pytest.raises(ArtifactError, match="not a directory"):
        find_artifact_dir(tmp_path / "missing")


def test_metadata_problems_are_all_reported_at_once() -> None:
    with pytest.raises(ArtifactError) as caught:
        ModelMetadata.from_dict(
            {
                "name": "",
                "version": "1",
                "feature_names": ["a", "a"],
                "input_name": "x",
                "output_names": [],
                "task": "regression",
                "class_labels": [1],
            }
        )
    message = str(caught.value)
    for words in ("name:", "output_names", "only 'classification'", "class_labels", "must be unique"):
        assert words in message


def test_metadata_that_contradicts_the_model_is_refused(artifact_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(artifact_dir, broken)
    meta = json.loads((broken / "metadata.json").read_text())
    (broken / "metadata.json").write_text(json.dumps({**meta, "input_name": "pixels"}))
    with pytest.raises(ArtifactError, match="'pixels' is not a model input"):
        OnnxModel.load(broken)
    (broken / "metadata.json").write_text(json.dumps({**meta, "feature_names": meta["feature_names"][:29]}))
    with pytest.raises(ArtifactError, match="takes 30 features"):
        OnnxModel.load(broken)


def test_zipmap_and_string_labels_are_served(string_label_artifact_dir: Path, samples) -> None:
    model = OnnxModel.load(string_label_artifact_dir)
    x, y, _ = samples
    predictions = model.predict(x[:50])
    truth = np.array(["malignant", "benign"])[y[:50]]
    assert (np.array(predictions.labels) == truth).mean() > 0.9
    assert predictions.probabilities.shape == (50, 2)


def test_gpu_is_used_when_onnx_runtime_offers_it() -> None:
    assert choose_providers("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"])[0] == "CUDAExecutionProvider"
    assert choose_providers("auto", ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert choose_providers("cpu", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    with pytest.raises(ArtifactError, match="EXECUTION_PROVIDER=cuda"):
        choose_providers("cuda", ["CPUExecutionProvider"])


# ---- S3 through moto's server mode: real HTTP, real boto3 ---------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket="models")
    return client


def test_s3_prefix_is_downloaded_and_loads(s3, artifact_dir: Path, tmp_path: Path) -> None:
    for path in artifact_dir.iterdir():
        s3.upload_file(str(path), "models", f"breast-cancer/7/{path.name}")
    s3.put_object(Bucket="models", Key="breast-cancer/70/model.onnx", Body=b"not this one")
    directory = fetch("s3://models/breast-cancer/7", tmp_path / "cache")
    assert sorted(p.name for p in directory.iterdir()) == ["metadata.json", "model.onnx"]
    assert OnnxModel.load(directory).metadata.version == "7"


def test_sagemaker_model_tarball_is_unpacked(s3, artifact_dir: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(artifact_dir, arcname="model")
    s3.put_object(Bucket="models", Key="jobs/train-1/output/model.tar.gz", Body=buffer.getvalue())
    directory = fetch("s3://models/jobs/train-1/output/model.tar.gz", tmp_path / "cache")
    assert OnnxModel.load(directory).metadata.name == "breast-cancer"


def test_s3_keys_escaping_the_cache_are_refused(s3, tmp_path: Path) -> None:
    s3.put_object(Bucket="models", Key="evil/../../outside.txt", Body=b"x")
    with pytest.raises(ArtifactError, match="outside"):
        download_s3(s3, "models", "evil", tmp_path / "cache")
    assert not (tmp_path / "outside.txt").exists()


def test_missing_s3_objects_say_where_nothing_was_found(s3, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no objects found"):
        fetch("s3://models/does-not-exist", tmp_path / "cache")
    with pytest.raises(ArtifactError, match="could not download 's3://no-such-bucket/x'"):
        fetch("s3://no-such-bucket/x", tmp_path / "cache")


# ---- GCS through a local storage emulator over HTTP ---------------------------------------------------


@pytest.fixture(scope="module")
def gcs_host() -> Iterator[str]:
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.mark.filterwarnings("ignore::FutureWarning")  # google-api-core on Python 3.11
def test_gcs_prefix_is_downloaded_and_loads(
    gcs_host: str, artifact_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials())
    bucket = client.create_bucket("vertex-models")
    for path in artifact_dir.iterdir():
        bucket.blob(f"breast-cancer/{path.name}").upload_from_filename(str(path))
    directory = fetch("gs://vertex-models/breast-cancer", tmp_path / "cache")
    assert OnnxModel.load(directory).metadata.version == "7"


def test_azure_blob_url_builds_a_client_for_its_container_with_the_sas(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.model_server.artifact import azure_container_client

    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    location = parse_location("https://acct.blob.core.windows.net/models/churn/v3?sv=2024-01-01&sig=abc")
    client = azure_container_client(location)
    assert client.container_name == "models"
    assert client.url.startswith("https://acct.blob.core.windows.net/models")
    assert "sig=abc" in client.url
