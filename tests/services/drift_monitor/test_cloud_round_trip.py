"""The round trip a GKE or AKS user relies on: the model server captures to the bucket, the drift CronJob reads it.

The real server app (in process) captures every request to ``gs://`` (gcp-storage-emulator) or to an Azure Blob
URL (Azurite), with its own SDK clients configured by the standard environment only (``STORAGE_EMULATOR_HOST``,
``AZURE_STORAGE_CONNECTION_STRING``). The drift monitor's CLI then reads the published baseline and the capture
prefix from the same store, computes KS and PSI, and writes its report there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.drift_monitor.cli import main
from services.trainer import train
from tests.services.model_server.harness import InProcessServer
from tests.support.tools import AZURITE_ACCOUNT, AZURITE_KEY

AZURE = "https://devstoreaccount1.blob.core.windows.net"
CAPTURE = "data-capture/churn/kubernetes"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tmp_path_factory.mktemp("round-trip"), seed=42, git_sha="unknown")


class Store:
    """One bucket/container: ``url(key)`` as the server and the monitor take it, ``put``/``get``/``names`` for the
    test itself, and the environment the server and the monitor each run with."""

    def __init__(self, url: Callable[[str], str], put: Callable[[str, bytes], None], get: Callable[[str], bytes],
                 names: Callable[[], list[str]], server_env: dict[str, str] | None = None,
                 monitor_env: dict[str, str] | None = None) -> None:
        self.url, self.put, self.get, self.names = url, put, get, names
        self.server_env, self.monitor_env = server_env or {}, monitor_env or {}


def _gcs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", request.getfixturevalue("gcs_emulator"))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    from google.cloud import storage

    client = storage.Client()
    name = f"rt-{time.monotonic_ns()}"
    bucket = client.create_bucket(name)
    return Store(lambda key: f"gs://{name}/{key}", lambda key, body: bucket.blob(key).upload_from_string(body),
                 lambda key: bucket.blob(key).download_as_bytes(), lambda: [b.name for b in client.list_blobs(name)])


def _azure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Azurite, with the grants of AKS: the server may only create blobs, the monitor may read, list and write
    (its report), neither may delete or read the container (container SAS tokens, which Azurite enforces)."""
    from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

    connection = request.getfixturevalue("azurite")
    name = f"rt{time.monotonic_ns()}"
    container: Any = BlobServiceClient.from_connection_string(connection).get_container_client(name)
    container.create_container()
    endpoint = connection.split("BlobEndpoint=")[1].rstrip(";")

    def sas(**allowed: bool) -> dict[str, str]:
        token = generate_container_sas(AZURITE_ACCOUNT, name, account_key=AZURITE_KEY,
                                       permission=ContainerSasPermissions(**allowed),
                                       expiry=datetime.now(UTC) + timedelta(hours=1))
        return {"AZURE_STORAGE_CONNECTION_STRING": f"BlobEndpoint={endpoint};SharedAccessSignature={token}"}

    return Store(lambda key: f"{AZURE}/{name}/{key}", lambda key, body: container.upload_blob(key, body),
                 lambda key: container.download_blob(key).readall(), lambda: [b.name for b in container.list_blobs()],
                 server_env=sas(create=True), monitor_env=sas(read=True, list=True, create=True, write=True))


@pytest.fixture(params=["gcs", "azure"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Store:
    return {"gcs": _gcs, "azure": _azure}[request.param](request, monkeypatch)


def _capture(artifact: Path, destination: str, rows: np.ndarray) -> None:
    """Serve ``rows`` through the real server (CSV, 50 a request) with capture to ``destination`` at 100 %."""
    server = InProcessServer({"MODEL_URI": str(artifact), "CAPTURE_DESTINATION": destination,
                              "CAPTURE_SAMPLE_PERCENT": "100"})
    try:
        server.app.capture.start()  # what the ASGI lifespan startup does under uvicorn
        for start in range(0, len(rows), 50):
            body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows[start : start + 50]).encode()
            assert server.request("POST", "/invocations", body, {"content-type": "text/csv"}).status == 200
    finally:
        server.close()  # flushes what is still queued
    assert server.app.capture.errors == 0


def test_what_the_server_captures_the_drift_job_reads_back_and_scores(
    artifact: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = (artifact / "baseline.csv").read_bytes()
    names = baseline.decode().splitlines()[0].split(",")
    rows = np.loadtxt(artifact / "baseline.csv", delimiter=",", skiprows=1)
    rows[:, 0] *= 1.5  # production radii half as large again: one drifted feature
    store.put("models/churn/7/baseline.csv", baseline)

    for key, value in store.server_env.items():
        monkeypatch.setenv(key, value)
    _capture(artifact, store.url(CAPTURE), rows)
    captured = [key for key in store.names() if key.startswith(CAPTURE + "/")]
    assert captured and all(key.endswith(".jsonl") for key in captured)  # prefix/YYYY/MM/DD/HH/<name>.jsonl

    for key, value in store.monitor_env.items():
        monkeypatch.setenv(key, value)
    code = main(["--baseline", store.url("models/churn/7/baseline.csv"), "--current", store.url(CAPTURE),
                 "--since-hours", "1", "--out", store.url("drift-reports/churn/latest.json")])

    report = json.loads(store.get("drift-reports/churn/latest.json"))
    assert code == 3
    assert report["current"]["rows"] == len(rows) and report["current"]["unreadable_records"] == 0
    assert report["drifted_features"] == [names[0]]
    radius = next(f for f in report["features"] if f["name"] == names[0])
    assert radius["psi"] >= 0.1
    untouched = next(f for f in report["features"] if f["name"] == names[1])
    assert untouched["psi"] < 0.01 and not untouched["drifted"]
