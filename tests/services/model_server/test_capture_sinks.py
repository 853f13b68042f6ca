"""Capture to GCS and Azure Blob: the object layout of S3Sink, create-only writes, and failures that stay counted.

GCS runs against gcp-storage-emulator, Azure against Azurite (Microsoft's emulator), both over real HTTP with the
real SDK clients. The identities on GKE/AKS may create objects under the capture prefix and do nothing else, so
the sinks must never overwrite, read, list or get the bucket/container.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.model_server.capture import DataCapture
from services.model_server.settings import Settings, SettingsError
from services.model_server.sinks import AzureBlobSink, GcsSink, open_sink
from services.trainer import train
from tests.services.model_server.harness import InProcessServer

AZURE = "https://devstoreaccount1.blob.core.windows.net"


def _offer(capture: DataCapture, count: int) -> None:
    for i in range(count):
        capture.offer(b'{"instances": [[1]]}', "application/json", b'{"predictions": [0]}', "application/json",
                      f"ev-{i}", None)


def _assert_layout(key: str, prefix: str) -> None:
    now = datetime.now(UTC)
    assert key.startswith(f"{prefix}/{now:%Y/%m/%d/%H}/") and key.endswith(".jsonl"), key


@pytest.fixture
def gcs(gcs_emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list[tuple[str, str]]]]:
    """A google-cloud-storage client on the emulator, and every (method, URL) it sent."""
    import requests
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    sent: list[tuple[str, str]] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: sent.append((response.request.method,
                                                                         response.request.url)))
    yield storage.Client(project="test", credentials=AnonymousCredentials(), _http=session), sent
    session.close()


def test_gcs_sink_writes_the_s3_layout_with_a_create_only_upload_and_no_bucket_get(gcs) -> None:
    """The upload asks for ``ifGenerationMatch=0``: GCS then refuses (412) to replace an existing object
    (cloud.google.com/storage/docs/request-preconditions), which is what lets GKE grant only
    roles/storage.objectCreator. gcp-storage-emulator ignores preconditions, so the request itself is checked.
    No request reads the bucket (``get_bucket`` would need storage.buckets.get)."""
    client, sent = gcs
    client.create_bucket("capture-gcs")
    sent.clear()
    capture = DataCapture(GcsSink("gs://capture-gcs/data-capture/svc/kubernetes", 1000, 3600, client=client), 100)
    capture.start()
    _offer(capture, 3)
    capture.close()
    requests_of_the_sink = list(sent)

    (blob,) = client.list_blobs("capture-gcs")
    _assert_layout(blob.name, "data-capture/svc/kubernetes")
    lines = blob.download_as_bytes().decode().splitlines()
    assert [json.loads(line)["eventMetadata"]["eventId"] for line in lines] == ["ev-0", "ev-1", "ev-2"]
    assert blob.content_type == "application/jsonlines"
    ((method, upload),) = requests_of_the_sink  # one request: no bucket get, no read, no list
    assert method == "POST" and "/upload/storage/v1/b/capture-gcs/o?" in upload and "ifGenerationMatch=0" in upload


@pytest.fixture
def container(azurite: str) -> Any:
    """A fresh Azurite container, as a ContainerClient from the dev connection string."""
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(azurite).get_container_client(f"c{time.monotonic_ns()}")
    client.create_container()
    return client


def test_azure_sink_writes_the_s3_layout(container: Any) -> None:
    uri = f"{AZURE}/{container.container_name}/data-capture/svc/kubernetes"
    capture = DataCapture(AzureBlobSink(uri, 1000, 3600, client=container), 100)
    capture.start()
    _offer(capture, 3)
    capture.close()

    (blob,) = container.list_blobs()
    _assert_layout(blob.name, "data-capture/svc/kubernetes")
    assert blob.content_settings.content_type == "application/jsonlines"
    lines = container.download_blob(blob.name).readall().decode().splitlines()
    assert [json.loads(line)["eventMetadata"]["eventId"] for line in lines] == ["ev-0", "ev-1", "ev-2"]


def test_azure_sink_never_overwrites_an_existing_blob(container: Any) -> None:
    """``overwrite=False`` sends ``If-None-Match: *``: the second write of a key is refused (409
    BlobAlreadyExists), so an ABAC grant limited to creating blobs is enough and nothing is ever replaced."""
    from azure.core.exceptions import ResourceExistsError

    sink = AzureBlobSink(f"{AZURE}/{container.container_name}/p", 1000, 3600, client=container)
    sink.put("p/one.jsonl", b"first\n")
    with pytest.raises(ResourceExistsError):
        sink.put("p/one.jsonl", b"second\n")
    assert container.download_blob("p/one.jsonl").readall() == b"first\n"


def test_every_flush_is_a_new_object(container: Any) -> None:
    sink = AzureBlobSink(f"{AZURE}/{container.container_name}/p", 1, 3600, client=container)
    for _ in range(3):
        sink.write([b"{}\n"])
    assert len(list(container.list_blobs())) == 3


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tmp_path_factory.mktemp("sink-artifact"), seed=42, git_sha="unknown")


def _metric(server: InProcessServer, name: str) -> float:
    for line in server.request("GET", "/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exposed")


def test_a_refused_write_is_counted_and_serving_goes_on(
    artifact: Path, azurite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's own Azure client (AZURE_STORAGE_CONNECTION_STRING) writes to a container that does not
    exist: predictions still answer 200 and the lost records show in model_server_capture_failed_records."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    server = InProcessServer({"MODEL_URI": str(artifact), "CAPTURE_DESTINATION": f"{AZURE}/no-such-container/cap",
                              "CAPTURE_SAMPLE_PERCENT": "100", "CAPTURE_FLUSH_SECONDS": "0.1"})
    try:
        server.app.capture.start()
        row = (artifact / "baseline.csv").read_text().splitlines()[1].encode()
        for _ in range(2):
            assert server.request("POST", "/invocations", row, {"content-type": "text/csv"}).status == 200
        deadline = time.monotonic() + 15
        while _metric(server, "model_server_capture_failed_records_total") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _metric(server, "model_server_capture_failed_records_total") == 2
        assert _metric(server, "model_server_captured_records_total") == 0
        assert server.request("POST", "/invocations", row, {"content-type": "text/csv"}).status == 200
    finally:
        server.close()


@pytest.mark.parametrize("destination", [
    "gs://capture/svc", "s3://capture/svc", f"{AZURE}/capture/svc", f"{AZURE}/capture?sv=2024-01-01&sig=x",
    "/var/capture/c.jsonl", "azureml-mdc",
])
def test_every_documented_destination_is_accepted(destination: str) -> None:
    assert Settings.from_env({"MODEL_URI": "/m", "CAPTURE_DESTINATION": destination}).capture_destination


@pytest.mark.parametrize("destination", [
    "ftp://host/capture", "https://example.com/capture", "http://acct.blob.core.windows.net/c/p",
    f"{AZURE}/", "gs:///capture",
])
def test_an_unsupported_destination_fails_start_up_naming_the_variable_and_the_forms(destination: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"MODEL_URI": "/m", "CAPTURE_DESTINATION": destination})
    (problem,) = caught.value.problems
    assert problem.startswith(f"CAPTURE_DESTINATION={destination!r}")
    for form in ("s3://bucket/prefix", "gs://bucket/prefix", "https://<account>.blob.core.windows.net/<container>",
                 "azureml-mdc", "local .jsonl path"):
        assert form in problem


def test_open_sink_builds_no_cloud_client_until_the_first_write(tmp_path: Path) -> None:
    """The SDKs are imported only for their scheme, and only when a flush happens: start-up with capture to a
    local file (or to a cloud without credentials yet) imports none of them."""
    script = (
        "import sys\n"
        "from services.model_server.sinks import open_sink\n"
        f"open_sink({str(tmp_path / 'c.jsonl')!r}, 1, 1.0)\n"
        "for uri in ('gs://b/p', 's3://b/p', 'https://a.blob.core.windows.net/c/p'):\n"
        "    open_sink(uri, 1, 1.0)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('google.cloud.storage', 'boto3', 'azure.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.stdout.strip() == "[]"


def test_open_sink_picks_the_sink_of_the_scheme(tmp_path: Path) -> None:
    assert isinstance(open_sink("gs://b/p", 1, 1.0), GcsSink)
    sink = open_sink(f"{AZURE}/c/p/q?sv=1&sig=s", 1, 1.0)
    assert isinstance(sink, AzureBlobSink) and (sink.bucket, sink.prefix) == ("c", "p/q")
    assert sink.location.sas_token == "sv=1&sig=s"


def test_a_sas_token_never_reaches_the_log_or_a_start_up_error(artifact: Path) -> None:
    """A SAS in the URL is a bearer credential: the start-up log and errors show the location without it."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"MODEL_URI": "/m", "CAPTURE_DESTINATION": "http://a.blob.core.windows.net/c/p?sig=SECRET"})
    assert "SECRET" not in str(caught.value.problems) and "<SAS redacted>" in caught.value.problems[0]
    server = InProcessServer({"MODEL_URI": str(artifact), "CAPTURE_DESTINATION": f"{AZURE}/c/p?sv=1&sig=SECRET"})
    try:
        (loaded,) = [line for line in server.log_lines() if line["event"] == "model_loaded"]
    finally:
        server.close()
    assert loaded["capture"] == f"{AZURE}/c/p?<SAS redacted>"
