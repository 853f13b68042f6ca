"""The Open Inference Protocol's gRPC service, spoken by ``tritonclient.grpc`` to the running server.

The server shares one model, micro-batcher, metrics registry, log and capture between HTTP and gRPC,
so the tests check both sides of that: predictions equal the HTTP contract's, and the gRPC request
shows up in ``/metrics``, the access log and the capture file. The committed stubs must be what the
pinned grpcio-tools generates from the committed ``.proto``.
"""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as triton_grpc
from tritonclient.utils import InferenceServerException

from tests.services.model_server.harness import REPO_ROOT, ServerProcess
from tests.services.ports import free_port

pytestmark = pytest.mark.slow
MODEL = "breast-cancer"
PROTO = Path("services/model_server/grpc_predict_v2.proto")


@pytest.fixture(scope="module")
def live(artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("grpc")
    server = ServerProcess(
        {
            "MODEL_URI": str(artifact_dir),
            "GRPC_PORT": str(free_port()),
            "CAPTURE_DESTINATION": str(workdir / "capture.jsonl"),
            "CAPTURE_SAMPLE_PERCENT": "100",
        },
        workdir / "server.log",
    ).wait_ready()
    yield server
    assert server.stop() in (0, -15)
    assert server.log_lines()[-1]["event"] == "stopped", "SIGTERM should stop the gRPC server and drain"


@pytest.fixture(scope="module")
def client(live: ServerProcess) -> Iterator[triton_grpc.InferenceServerClient]:
    port = live.process.args and next(line["grpc_port"] for line in live.log_lines() if line["event"] == "listening")
    client = triton_grpc.InferenceServerClient(url=f"127.0.0.1:{port}")
    yield client
    client.close()


def features(x: np.ndarray, datatype: str = "FP32") -> triton_grpc.InferInput:
    tensor = triton_grpc.InferInput("features", list(x.shape), datatype)
    tensor.set_data_from_numpy(x)
    return tensor


def test_tritonclient_grpc_predicts_like_the_http_contract(live, client, samples) -> None:
    x = samples[0][:12]
    result = client.infer(MODEL, [features(x)], request_id="grpc-1")
    expected = live.client.post("/invocations", json={"instances": x.tolist()}).json()["predictions"]
    assert result.get_response().id == "grpc-1" and result.get_response().model_version == "7"
    np.testing.assert_array_equal(result.as_numpy("label"), [p["label"] for p in expected])
    np.testing.assert_allclose(result.as_numpy("probabilities"), [p["probabilities"] for p in expected], rtol=1e-6)


def test_requested_output_and_fp64_input(client, samples) -> None:
    x = samples[0][:3].astype(np.float64)
    outputs = [triton_grpc.InferRequestedOutput("probabilities")]
    result = client.infer(MODEL, [features(x, "FP64")], outputs=outputs)
    assert [o.name for o in result.get_response().outputs] == ["probabilities"]
    assert result.as_numpy("probabilities").shape == (3, 2)


def test_health_and_metadata(client) -> None:
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(MODEL)
    with pytest.raises(InferenceServerException, match="no version '999'"):
        client.is_model_ready(MODEL, model_version="999")
    assert "binary_tensor_data" in client.get_server_metadata().extensions
    metadata = client.get_model_metadata(MODEL)
    assert metadata.inputs[0].name == "features" and list(metadata.inputs[0].shape) == [-1, 30]


def test_bad_tensors_get_invalid_argument_and_unknown_models_not_found(client, samples) -> None:
    x = samples[0][:2]
    with pytest.raises(InferenceServerException, match="input shape must be") as bad:
        client.infer(MODEL, [features(x[:, :29])])
    assert bad.value.status() == "StatusCode.INVALID_ARGUMENT"
    with pytest.raises(InferenceServerException, match="is not a finite float32 number") as nan:
        client.infer(MODEL, [features(np.full((1, 30), np.nan, dtype=np.float32))])
    assert nan.value.status() == "StatusCode.INVALID_ARGUMENT"
    with pytest.raises(InferenceServerException, match="not found") as missing:
        client.infer("nope", [features(x)])
    assert missing.value.status() == "StatusCode.NOT_FOUND"


def test_grpc_shares_metrics_log_and_capture_with_http(live, client, samples) -> None:
    client.infer(MODEL, [features(samples[0][:2])], headers={"x-request-id": "grpc-shared"})
    with pytest.raises(InferenceServerException):
        client.infer(MODEL, [features(samples[0][:2, :5])])
    text = live.client.get("/metrics").text
    route = "/inference.GRPCInferenceService/ModelInfer"
    assert f'model_server_requests_total{{method="GRPC",model_version="7",route="{route}",status="200"}}' in text
    assert f'model_server_requests_total{{method="GRPC",model_version="7",route="{route}",status="400"}}' in text
    deadline, record, line = time.monotonic() + 10, None, None
    capture_file = live.log_path.parent / "capture.jsonl"
    while (record is None or line is None) and time.monotonic() < deadline:
        time.sleep(0.1)
        line = next((r for r in live.log_lines() if r.get("request_id") == "grpc-shared"), None)
        records = map(json.loads, capture_file.read_text().splitlines()) if capture_file.exists() else []
        record = next((r for r in records if r["eventMetadata"]["eventId"] == "grpc-shared"), None)
    assert line is not None and line["method"] == "GRPC" and line["rows"] == 2 and line["status"] == 200
    assert record is not None, "the gRPC request never reached the capture file"
    tensor = json.loads(record["captureData"]["endpointInput"]["data"])["inputs"][0]
    assert record["captureData"]["endpointInput"]["encoding"] == "JSON" and tensor["shape"] == [2, 30]


def test_committed_stubs_are_what_the_pinned_grpcio_tools_generates(tmp_path) -> None:
    (tmp_path / PROTO.parent).mkdir(parents=True)
    (tmp_path / PROTO).write_bytes((REPO_ROOT / PROTO).read_bytes())
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", ".", "--python_out=.", "--grpc_python_out=.", str(PROTO)],
        cwd=tmp_path,
        check=True,
    )
    for name in ("grpc_predict_v2_pb2.py", "grpc_predict_v2_pb2_grpc.py"):
        assert filecmp.cmp(tmp_path / PROTO.parent / name, REPO_ROOT / PROTO.parent / name, shallow=False), (
            f"{PROTO.parent / name} is stale: regenerate it with the command at the top of {PROTO}"
        )
