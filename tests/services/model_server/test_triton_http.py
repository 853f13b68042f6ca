"""Open Inference Protocol v2 as real clients speak it: ``tritonclient.http`` against the running server.

tritonclient's defaults use the binary tensor data extension (a JSON header, then raw little-endian
tensors; ``Inference-Header-Content-Length`` says where the header ends, and ``binary_data_output``
asks for raw outputs). Before this server understood it, such a request got 400 "malformed JSON"
(issue 11). KServe documents the extension in its V2 REST protocol page and Triton in
``docs/protocol/extension_binary_data.md``; both servers accept it, so clients default to it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as triton_http
from tritonclient.utils import InferenceServerException

from tests.services.model_server.harness import InProcessServer, ServerProcess

pytestmark = pytest.mark.slow
MODEL = "breast-cancer"


@pytest.fixture(scope="module")
def live(artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("triton-http")
    server = ServerProcess(
        {
            "MODEL_URI": str(artifact_dir),
            "CAPTURE_DESTINATION": str(workdir / "capture.jsonl"),
            "CAPTURE_SAMPLE_PERCENT": "100",
        },
        workdir / "server.log",
    ).wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(live: ServerProcess) -> Iterator[triton_http.InferenceServerClient]:
    client = triton_http.InferenceServerClient(url=f"127.0.0.1:{live.port}")
    yield client
    client.close()


def reference(live: ServerProcess, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities from the SageMaker JSON contract, to compare the V2 answers with."""
    predictions = live.client.post("/invocations", json={"instances": x.tolist()}).json()["predictions"]
    return np.array([p["label"] for p in predictions]), np.array([p["probabilities"] for p in predictions])


def features(x: np.ndarray, binary: bool) -> triton_http.InferInput:
    tensor = triton_http.InferInput("features", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=binary)
    return tensor


def test_tritonclient_defaults_binary_in_and_out(live, client, samples) -> None:
    x = samples[0][:16]
    result = client.infer(MODEL, [features(x, binary=True)], request_id="bin-1")
    labels, probabilities = reference(live, x)
    response = result.get_response()
    assert response["id"] == "bin-1" and response["model_version"] == "7"
    assert all("binary_data_size" in o["parameters"] and "data" not in o for o in response["outputs"])
    np.testing.assert_array_equal(result.as_numpy("label"), labels)
    np.testing.assert_allclose(result.as_numpy("probabilities"), probabilities, rtol=1e-6)
    assert result.as_numpy("probabilities").dtype == np.float32 and result.as_numpy("probabilities").shape == (16, 2)


def test_tritonclient_json_mode(live, client, samples) -> None:
    x = samples[0][16:24]
    outputs = [triton_http.InferRequestedOutput(n, binary_data=False) for n in ("label", "probabilities")]
    result = client.infer(MODEL, [features(x, binary=False)], outputs=outputs)
    labels, probabilities = reference(live, x)
    assert all("data" in o for o in result.get_response()["outputs"])
    np.testing.assert_array_equal(result.as_numpy("label"), labels)
    np.testing.assert_allclose(result.as_numpy("probabilities"), probabilities, rtol=1e-6)


def test_binary_input_with_one_json_output_and_fp64(live, client, samples) -> None:
    x = samples[0][:4].astype(np.float64)
    tensor = triton_http.InferInput("features", list(x.shape), "FP64")
    tensor.set_data_from_numpy(x)
    result = client.infer(MODEL, [tensor], outputs=[triton_http.InferRequestedOutput("label", binary_data=False)])
    assert [o["name"] for o in result.get_response()["outputs"]] == ["label"]
    np.testing.assert_array_equal(result.as_numpy("label"), reference(live, x)[0])


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_compressed_requests_as_tritonclient_sends_them(live, client, samples, algorithm) -> None:
    x = samples[0][:6]
    result = client.infer(MODEL, [features(x, binary=True)], request_compression_algorithm=algorithm)
    np.testing.assert_array_equal(result.as_numpy("label"), reference(live, x)[0])


def test_health_and_metadata_through_tritonclient(client) -> None:
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(MODEL)
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    metadata = client.get_model_metadata(MODEL)
    assert metadata["inputs"][0]["name"] == "features" and metadata["inputs"][0]["shape"] == [-1, 30]


def test_bad_binary_request_is_a_clear_4xx_for_the_client(client, samples) -> None:
    x = samples[0][:2]
    tensor = features(x, binary=True)
    tensor._parameters["binary_data_size"] = 200  # lie about the raw size (240 bytes follow)
    with pytest.raises(InferenceServerException, match="binary_data_size is 200 but 240 bytes"):
        client.infer(MODEL, [tensor])
    with pytest.raises(InferenceServerException, match="not found"):
        client.infer("no-such-model", [features(x, binary=True)])


def test_binary_request_is_captured_as_a_json_v2_body(live, client, samples) -> None:
    """Capture of a binary request holds the decoded tensors as JSON, so the drift monitor can read it."""
    x = samples[0][:3]
    client.infer(MODEL, [features(x, binary=True)], headers={"X-Request-Id": "bin-capture"})
    capture_file = live.log_path.parent / "capture.jsonl"
    deadline, record = time.monotonic() + 10, None
    while record is None and time.monotonic() < deadline:
        lines = capture_file.read_text().splitlines() if capture_file.exists() else []
        record = next((r for r in map(json.loads, lines) if r["eventMetadata"]["eventId"] == "bin-capture"), None)
        time.sleep(0.05)
    assert record is not None, "the sampled binary request never reached the capture file"
    sent, answered = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
    assert sent["encoding"] == answered["encoding"] == "JSON"
    tensor = json.loads(sent["data"])["inputs"][0]
    assert tensor["name"] == "features" and tensor["shape"] == [3, 30]
    np.testing.assert_allclose(np.array(tensor["data"]).reshape(3, 30), x, rtol=1e-6)
    outputs = {o["name"]: o for o in json.loads(answered["data"])["outputs"]}
    assert len(outputs["label"]["data"]) == 3 and len(outputs["probabilities"]["data"]) == 6


def test_string_labels_come_back_as_binary_bytes_tensors(string_label_artifact_dir, samples) -> None:
    """BYTES outputs in raw form are 4-byte little-endian lengths + UTF-8; tritonclient decodes them."""
    server = InProcessServer({"MODEL_URI": str(string_label_artifact_dir)})
    try:
        x = samples[0][:5]
        body, json_size = triton_http.InferenceServerClient.generate_request_body([features(x, binary=True)])
        reply = server.request(
            "POST", f"/v2/models/{MODEL}/infer", body, {"inference-header-content-length": str(json_size)}
        )
        assert reply.status == 200, reply.body
        assert reply.headers["content-type"] == "application/octet-stream"
        result = triton_http.InferenceServerClient.parse_response_body(
            reply.body, header_length=int(reply.headers["inference-header-content-length"])
        )
        labels = [v.decode() for v in result.as_numpy(result.get_response()["outputs"][0]["name"])]
        assert set(labels) <= {"malignant", "benign"} and len(labels) == 5
    finally:
        server.close()
