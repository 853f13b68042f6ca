"""The golden path as one test: train -> publish -> serve from s3:// -> every contract -> capture -> drift.

Real processes and real HTTP only: moto in server mode stands in for S3 and CloudWatch, and the
trainer, the model server and the drift monitor run as their own processes with nothing but the
standard AWS environment (`AWS_ENDPOINT_URL`) pointing them at it. The keys are the ones the stacks
plan (`infra/composition.py`): `models/<service>/<modelVersion>/model.tar.gz` with the baselines
beside it.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import numpy as np

from tests.services.model_server.harness import ServerProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
ROW_CSV = REPO_ROOT / "examples" / "data" / "row.csv"
BUCKET, SERVICE, VERSION = "golden-artifacts", "fraud-detector", "8"
CAPTURE_PREFIX = f"capture/{SERVICE}"
VERTEX_PREDICT = "/v1/endpoints/1/deployedModels/2:predict"


def _run(module: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=timeout, check=False)


def _requests(rows: np.ndarray, names: list[str], model: str) -> list[tuple[str, Any, dict[str, str]]]:
    """Ten requests of 20 rows each, two per contract, as each contract's clients send them."""
    chunks = [rows[i : i + 20] for i in range(0, 200, 20)]
    csv_body = [",".join(repr(float(v)) for v in row) for row in chunks[2]]
    return [
        ("/invocations", json.dumps({"instances": chunks[0].tolist()}), {"content-type": "application/json"}),
        ("/invocations", json.dumps([dict(zip(names, r, strict=True)) for r in chunks[1].tolist()]), {}),
        ("/invocations", "\n".join(csv_body), {"content-type": "text/csv"}),
        ("/invocations", "\n".join([",".join(names), *(",".join(map(repr, r)) for r in chunks[3].tolist())]),
         {"content-type": "text/csv", "accept": "text/csv"}),
        (VERTEX_PREDICT, json.dumps({"instances": chunks[4].tolist(), "parameters": {}}),
         {"content-type": "application/json"}),
        (VERTEX_PREDICT, json.dumps({"instances": chunks[5].tolist()}), {"content-type": "application/json"}),
        ("/score", json.dumps({"data": chunks[6].tolist()}), {"content-type": "application/json"}),
        ("/score", json.dumps({"data": chunks[7].tolist()}), {"content-type": "application/json"}),
        (f"/v2/models/{model}/infer",
         json.dumps({"inputs": [{"name": "input", "shape": [20, len(names)], "datatype": "FP32",
                                 "data": chunks[8].ravel().tolist()}]}), {"content-type": "application/json"}),
        (f"/v2/models/{model}/versions/{VERSION}/infer",
         json.dumps({"inputs": [{"name": "input", "shape": [20, len(names)], "datatype": "FP64",
                                 "data": chunks[9].tolist()}]}), {"content-type": "application/json"}),
    ]


def _sagemaker_capture(rows: np.ndarray, when: datetime) -> bytes:
    """Records as SageMaker's own data capture writes them (raw CSV body, BASE64 by default)."""
    lines = []
    for i, row in enumerate(rows):
        body = ",".join(repr(float(v)) for v in row).encode()
        lines.append(json.dumps({
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": base64.b64encode(body).decode(), "encoding": "BASE64"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "MQ==",
                                   "encoding": "BASE64"}},
            "eventMetadata": {"eventId": f"sm-{i}", "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "eventVersion": "0"}))
    return ("\n".join(lines) + "\n").encode()


def test_golden_path(aws_env: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)

    # 1. train, pack and publish version 8 where the stack's endpoint reads it
    trained = _run("services.trainer", "--out", str(tmp_path / "model"), "--no-mlflow", "--upload",
                   f"s3://{BUCKET}", "--service", SERVICE, "--model-version", VERSION)
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout)
    model_uri = f"s3://{BUCKET}/models/{SERVICE}/{VERSION}/model.tar.gz"
    assert summary["model_uri"] == model_uri
    names = json.loads((tmp_path / "model" / "metadata.json").read_text())["feature_names"]

    # 2. serve that model.tar.gz from s3://, capturing every request to s3://
    server = ServerProcess({
        "MODEL_URI": model_uri, "MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "CAPTURE_DESTINATION": f"s3://{BUCKET}/{CAPTURE_PREFIX}", "CAPTURE_SAMPLE_PERCENT": "100",
        "AIP_PREDICT_ROUTE": VERTEX_PREDICT, "AIP_HEALTH_ROUTE": "/v1/endpoints/1/deployedModels/2",
    }, tmp_path / "server.log")
    baseline = np.loadtxt(tmp_path / "model" / "baseline.csv", delimiter=",", skiprows=1)
    current = baseline[:200].copy()
    current[:, 0] += baseline[:, 0].std()  # 'mean radius' drifts by one standard deviation
    try:
        server.wait_ready()
        assert server.client.get("/v2/models").json()["models"][0]["version"] == VERSION
        sample = server.client.post("/invocations", content=ROW_CSV.read_bytes(), headers={"content-type": "text/csv"})
        assert sample.status_code == 200 and len(sample.json()["predictions"]) == 1  # the docs' sample row
        for path, body, headers in _requests(current, names, summary["name"]):
            reply = server.client.post(path, content=body, headers=headers)
            assert reply.status_code == 200, (path, reply.text)
    finally:
        server.stop()  # SIGTERM: drain, flush the capture; uvicorn then re-raises the signal (exit -15)
    assert "stopped" in [line.get("event") for line in server.log_lines()], server.log_path.read_text()
    captured = s3.list_objects_v2(Bucket=BUCKET, Prefix=CAPTURE_PREFIX)["Contents"]
    assert captured and all(o["Key"].endswith(".jsonl") for o in captured)

    # 3. SageMaker's own capture of the same endpoint lands beside it; one record is days old
    now = datetime.now(UTC)
    old = datetime(2020, 1, 1, tzinfo=UTC)
    s3.put_object(Bucket=BUCKET, Key=f"{CAPTURE_PREFIX}/{SERVICE}/blue/{now:%Y/%m/%d/%H}/sm.jsonl",
                  Body=_sagemaker_capture(current[:40], now) + _sagemaker_capture(current[:1], old))

    # 4. the drift monitor reads the last hour of capture and publishes to CloudWatch
    report_path = tmp_path / "drift.json"
    monitored = _run("services.drift_monitor", "--baseline", f"s3://{BUCKET}/models/{SERVICE}/{VERSION}/baseline.csv",
                     "--current", f"s3://{BUCKET}/{CAPTURE_PREFIX}/", "--since-hours", "1", "--out", str(report_path),
                     "--cloudwatch", "--dimension", f"Service={SERVICE}")
    assert monitored.returncode == 3, monitored.stderr  # 3: drift found
    report = json.loads(report_path.read_text())
    assert report["drifted_features"] == ["mean radius"]
    assert report["current"]["rows"] == 1 + 200 + 40  # the sample row, every contract, SageMaker's records
    assert (report["current"]["unreadable_records"], report["current"]["records_outside_window"]) == (0, 1)

    cloudwatch = boto3.client("cloudwatch")
    stats = cloudwatch.get_metric_statistics(
        Namespace="MLOps/DriftMonitor", MetricName="DriftDetected",
        Dimensions=[{"Name": "Service", "Value": SERVICE}], StartTime=datetime(2020, 1, 1, tzinfo=UTC),
        EndTime=datetime(2100, 1, 1, tzinfo=UTC), Period=60, Statistics=["Maximum"])
    assert [point["Maximum"] for point in stats["Datapoints"]] == [1.0]
