"""Every serving contract, spoken over HTTP to ``python -m services.model_server`` on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.services.model_server.conftest import VERTEX_HEALTH, VERTEX_PREDICT
from tests.services.model_server.harness import ServerProcess

pytestmark = pytest.mark.slow
AZURE_LIVE, AZURE_READY, AZURE_SCORE = "/aml/live", "/aml/ready", "/aml/score"


@pytest.fixture(scope="module")
def live(artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("live")
    server = ServerProcess(
        {
            "MODEL_URI": str(artifact_dir),
            "AIP_HEALTH_ROUTE": VERTEX_HEALTH,
            "AIP_PREDICT_ROUTE": VERTEX_PREDICT,
            "AZUREML_LIVENESS_ROUTE": AZURE_LIVE,
            "AZUREML_READINESS_ROUTE": AZURE_READY,
            "AZUREML_SCORING_ROUTE": AZURE_SCORE,
            "CAPTURE_DESTINATION": str(workdir / "capture" / "data.jsonl"),
            "CAPTURE_SAMPLE_PERCENT": "100",
        },
        workdir / "server.log",
    ).wait_ready()
    yield server
    # uvicorn re-raises the SIGTERM after its graceful shutdown, hence -15 rather than 0
    assert server.stop() in (0, -15)
    assert server.log_lines()[-1]["event"] == "stopped", "SIGTERM should drain and stop cleanly"


def rows(samples, n: int = 8) -> np.ndarray:
    return samples[0][:n].astype(float)


def test_sagemaker_ping_is_200_with_empty_body(live: ServerProcess) -> None:
    reply = live.client.get("/ping")
    assert reply.status_code == 200
    assert reply.content == b""


def test_sagemaker_invocations_json_predicts_the_right_classes(live: ServerProcess, samples) -> None:
    x, y, _ = samples
    reply = live.client.post("/invocations", json={"instances": x[:200].tolist()})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-model-version"] == "7"
    predictions = reply.json()["predictions"]
    assert len(predictions) == 200
    labels = np.array([p["label"] for p in predictions])
    assert (labels == y[:200]).mean() > 0.95
    probabilities = np.array([p["probabilities"] for p in predictions])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (np.argmax(probabilities, axis=1) == labels).all()


def test_sagemaker_invocations_csv_in_and_out(live: ServerProcess, samples) -> None:
    x = rows(samples, 3)
    body = "\n".join(",".join(str(float(v)) for v in row) for row in x)
    as_json = live.client.post("/invocations", content=body, headers={"content-type": "text/csv"})
    as_csv = live.client.post("/invocations", content=body, headers={"content-type": "text/csv", "accept": "text/csv"})
    assert as_json.status_code == as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv"
    lines = [line.split(",") for line in as_csv.text.splitlines()]
    predictions = as_json.json()["predictions"]
    assert [line[0] for line in lines] == [str(p["label"]) for p in predictions]
    # the probabilities come too (issue 10): one column per class, in class_labels order
    np.testing.assert_allclose(
        [[float(v) for v in line[1:]] for line in lines], [p["probabilities"] for p in predictions]
    )


def test_csv_header_row_is_skipped(live: ServerProcess, samples) -> None:
    x, _, names = samples
    body = ",".join(names) + "\n" + ",".join(repr(float(v)) for v in x[0])
    reply = live.client.post("/invocations", content=body, headers={"content-type": "text/csv"})
    assert reply.status_code == 200
    assert len(reply.json()["predictions"]) == 1


def test_instances_may_be_objects_keyed_by_feature_name(live: ServerProcess, samples) -> None:
    x, _, names = samples
    by_position = live.client.post("/invocations", json={"instances": x[:2].tolist()}).json()
    by_name = live.client.post(
        "/invocations", json={"instances": [dict(zip(names, row.tolist(), strict=True)) for row in x[:2]]}
    ).json()
    assert by_name == by_position


def test_vertex_routes_from_aip_environment(live: ServerProcess, samples) -> None:
    assert live.client.get(VERTEX_HEALTH).status_code == 200
    reply = live.client.post(VERTEX_PREDICT, json={"instances": rows(samples, 2).tolist(), "parameters": {}})
    assert reply.status_code == 200
    assert set(reply.json()) == {"predictions"}
    assert len(reply.json()["predictions"]) == 2


def test_azure_routes_are_the_ones_the_deployment_declares(live: ServerProcess, samples) -> None:
    assert live.client.get(AZURE_LIVE).status_code == 200
    assert live.client.get(AZURE_READY).json()["ready"] is True
    reply = live.client.post(AZURE_SCORE, json={"data": rows(samples, 2).tolist()})
    assert reply.status_code == 200
    assert len(reply.json()["predictions"]) == 2
    assert live.client.get("/live").status_code == 404  # defaults are replaced, not added


def test_every_contract_returns_the_same_predictions(live: ServerProcess, samples) -> None:
    x = rows(samples, 5)
    sagemaker = live.client.post("/invocations", json={"instances": x.tolist()}).json()["predictions"]
    vertex = live.client.post(VERTEX_PREDICT, json={"instances": x.tolist()}).json()["predictions"]
    v2 = live.client.post(
        "/v2/models/breast-cancer/infer",
        json={"inputs": [{"name": "features", "shape": [5, 30], "datatype": "FP64", "data": x.ravel().tolist()}]},
    ).json()
    assert sagemaker == vertex
    outputs = {o["name"]: o for o in v2["outputs"]}
    assert outputs["label"]["data"] == [p["label"] for p in sagemaker]
    np.testing.assert_allclose(
        np.reshape(outputs["probabilities"]["data"], outputs["probabilities"]["shape"]),
        [p["probabilities"] for p in sagemaker],
        rtol=1e-6,
    )


def test_v2_health_and_metadata(live: ServerProcess) -> None:
    assert live.client.get("/v2/health/live").json() == {"live": True}
    assert live.client.get("/v2/health/ready").status_code == 200
    assert live.client.get("/v2").json()["name"] == "mlops-model-server"
    assert live.client.get("/v2/models").json()["models"][0] == {
        "name": "breast-cancer",
        "version": "7",
        "state": "READY",
    }
    meta = live.client.get("/v2/models/breast-cancer").json()
    assert meta["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 30]}]
    assert [o["name"] for o in meta["outputs"]] == ["label", "probabilities"]
    assert live.client.get("/v2/models/breast-cancer/versions/7/ready").json() == {
        "name": "breast-cancer",
        "ready": True,
    }
    missing = live.client.get("/v2/models/other")
    assert missing.status_code == 404
    assert "breast-cancer" in missing.json()["error"]
    assert live.client.get("/v2/models/breast-cancer/versions/8").status_code == 404


def test_v2_infer_echoes_id_and_honours_requested_outputs(live: ServerProcess, samples) -> None:
    x = rows(samples, 2)
    reply = live.client.post(
        "/v2/models/breast-cancer/versions/7/infer",
        json={
            "id": "req-42",
            "inputs": [{"name": "features", "shape": [2, 30], "datatype": "FP32", "data": x.tolist()}],
            "outputs": [{"name": "probabilities"}],
        },
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["id"] == "req-42"
    assert body["model_name"] == "breast-cancer"
    assert body["model_version"] == "7"
    assert [o["name"] for o in body["outputs"]] == ["probabilities"]
    assert body["outputs"][0]["shape"] == [2, 2]
    assert body["outputs"][0]["datatype"] == "FP32"
    assert len(body["outputs"][0]["data"]) == 4


def test_request_id_is_honoured_and_echoed(live: ServerProcess, samples) -> None:
    body = {"instances": rows(samples, 1).tolist()}
    ours = live.client.post("/invocations", json=body, headers={"X-Request-Id": "abc-123"})
    sagemaker = live.client.post("/invocations", json=body, headers={"X-Amzn-SageMaker-Inference-Id": "sm-inference-9"})
    generated = live.client.post("/invocations", json=body)
    assert ours.headers["x-request-id"] == "abc-123"
    assert sagemaker.headers["x-request-id"] == "sm-inference-9"
    assert len(generated.headers["x-request-id"]) == 36


def test_one_json_log_line_per_request(live: ServerProcess, samples) -> None:
    live.client.post("/invocations", json={"instances": rows(samples, 3).tolist()}, headers={"X-Request-Id": "log-me"})
    live.client.post(
        "/invocations", content=b"{", headers={"X-Request-Id": "log-bad", "content-type": "application/json"}
    )
    time.sleep(0.2)
    lines = {line.get("request_id"): line for line in live.log_lines() if line["event"] == "request"}
    good, bad = lines["log-me"], lines["log-bad"]
    assert good["route"] == "/invocations" and good["status"] == 200 and good["rows"] == 3
    assert good["model_version"] == "7" and good["latency_ms"] > 0 and good["ts"].endswith("Z")
    assert bad["status"] == 400 and bad["level"] == "warning" and "malformed JSON" in bad["error"]


def test_metrics_expose_traffic_latency_predictions_and_feature_summaries(live: ServerProcess, samples) -> None:
    x = rows(samples, 4)
    live.client.post("/invocations", json={"instances": x.tolist()})
    text = live.client.get("/metrics").text
    assert 'model_server_requests_total{method="POST",model_version="7",route="/invocations",status="200"}' in text
    assert 'model_server_request_duration_seconds_bucket{le="0.005",route="/invocations"}' in text
    assert "model_server_inference_duration_seconds_count" in text
    assert 'model_predictions_total{label="0",model_version="7"}' in text
    assert 'model_prediction_probability_bucket{class_label="1",le="+Inf",model_version="7"}' in text
    assert 'model_input_feature_count{feature="mean radius",model_version="7"}' in text
    assert 'model_server_model_info{execution_provider="CPUExecutionProvider",model_name="breast-cancer"' in text
    # the summaries are real statistics: the mean radius mean matches the inputs seen so far
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("model_input_feature_") and 'feature="mean radius"' in line
    }
    count = values['model_input_feature_count{feature="mean radius",model_version="7"}']
    assert count >= 4
    assert values['model_input_feature_max{feature="mean radius",model_version="7"}'] >= x[:, 0].max()


def test_prediction_capture_is_sagemaker_data_capture_format(live: ServerProcess, samples) -> None:
    body = {"instances": rows(samples, 2).tolist()}
    live.client.post(
        "/invocations", json=body, headers={"X-Request-Id": "captured-1", "X-Amzn-SageMaker-Inference-Id": "inf-1"}
    )
    live.client.post("/invocations", content="1,2", headers={"content-type": "text/csv"})  # 400: not captured
    capture_file = live.log_path.parent / "capture" / "data.jsonl"
    deadline = time.monotonic() + 10
    record = None
    while record is None and time.monotonic() < deadline:
        if capture_file.exists():
            records = [json.loads(line) for line in capture_file.read_text().splitlines()]
            record = next((r for r in records if r["eventMetadata"]["eventId"] == "captured-1"), None)
        time.sleep(0.1)
    assert record is not None, "sampled request never reached the capture file"
    assert record["eventVersion"] == "0"
    assert record["eventMetadata"]["inferenceId"] == "inf-1"
    assert record["eventMetadata"]["inferenceTime"].endswith("Z")
    sent, answered = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
    assert sent["mode"] == "INPUT" and sent["encoding"] == "JSON"
    assert sent["observedContentType"] == "application/json"
    assert json.loads(sent["data"]) == body
    assert answered["mode"] == "OUTPUT" and len(json.loads(answered["data"])["predictions"]) == 2
    records = [json.loads(line) for line in capture_file.read_text().splitlines()]
    assert {r["captureData"]["endpointInput"]["encoding"] for r in records} <= {"JSON", "CSV"}
    assert all(r["captureData"]["endpointInput"]["data"] != "1,2" for r in records), "a 400 was captured"
    captured = next(
        line
        for line in live.client.get("/metrics").text.splitlines()
        if line.startswith("model_server_captured_records_total")
    )
    assert float(captured.rsplit(" ", 1)[1]) >= 1


def test_oversized_body_is_413_even_over_the_wire(live: ServerProcess) -> None:
    huge = b"[" + b"1.0," * (2 * 1024 * 1024) + b"1.0]"  # ~8 MB > 6 MiB default
    reply = live.client.post("/invocations", content=huge, headers={"content-type": "application/json"})
    assert reply.status_code == 413
    assert "limit" in reply.json()["error"]
    assert live.client.get("/ping").status_code == 200
