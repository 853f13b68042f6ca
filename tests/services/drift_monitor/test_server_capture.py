"""One capture format: what the real model server captures, in every contract, the monitor reads back.

Each test starts the real server app (in process, capture to a local file at 100 %), sends the
requests a client of that contract sends, and loads the capture file with the drift monitor: the
rows must be exactly the features that were sent. SageMaker's own data-capture records (raw
bodies, BASE64 unless the endpoint lists CSV/JSON content types) are read the same way.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.drift_monitor import load_table
from services.drift_monitor.cli import main
from services.trainer import train
from tests.services.model_server.harness import InProcessServer

VERTEX_PREDICT = "/v1/endpoints/1/deployedModels/2:predict"
Request = tuple[str, bytes, dict[str, str]]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tmp_path_factory.mktemp("capture-artifact"), seed=42, git_sha="unknown")


@pytest.fixture(scope="module")
def names(artifact: Path) -> list[str]:
    return json.loads((artifact / "metadata.json").read_text())["feature_names"]


@pytest.fixture(scope="module")
def rows(artifact: Path) -> np.ndarray:
    return np.loadtxt(artifact / "baseline.csv", delimiter=",", skiprows=1)[:6]


def _json(document: Any) -> tuple[bytes, dict[str, str]]:
    return json.dumps(document).encode(), {"content-type": "application/json"}


def _csv(rows: np.ndarray, header: list[str] | None) -> tuple[bytes, dict[str, str]]:
    lines = ([",".join(header)] if header else []) + [",".join(repr(float(v)) for v in row) for row in rows]
    return "\n".join(lines).encode(), {"content-type": "text/csv"}


def _v2(rows: np.ndarray, nested: bool) -> tuple[bytes, dict[str, str]]:
    data = rows.tolist() if nested else rows.ravel().tolist()
    return _json({"id": "r1", "inputs": [{"name": "input", "shape": list(rows.shape), "datatype": "FP64",
                                          "data": data}]})


CONTRACTS: dict[str, Callable[[np.ndarray, list[str]], list[Request]]] = {
    "sagemaker-json-instances": lambda r, n: [("/invocations", *_json({"instances": r[:3].tolist()})),
                                              ("/invocations", *_json({"instances": r[3:].tolist()}))],
    "sagemaker-json-bare-list": lambda r, n: [("/invocations", *_json(r[:3].tolist())),
                                              ("/invocations", *_json(r[3:].tolist()))],
    "sagemaker-json-objects": lambda r, n: [("/invocations", *_json({"instances": [dict(zip(n, row, strict=True))
                                                                                   for row in r.tolist()]}))],
    "sagemaker-csv": lambda r, n: [("/invocations", *_csv(r[:2], None)), ("/invocations", *_csv(r[2:], None))],
    "sagemaker-csv-with-header": lambda r, n: [("/invocations", *_csv(r[:2], n)), ("/invocations", *_csv(r[2:], n))],
    "vertex": lambda r, n: [(VERTEX_PREDICT, *_json({"instances": r.tolist(), "parameters": {"threshold": 0.5}}))],
    "azure": lambda r, n: [("/score", *_json({"data": r[:4].tolist()})), ("/score", *_json({"data": r[4:].tolist()}))],
    "v2-flat": lambda r, n: [("/v2/models/breast-cancer-classifier/infer", *_v2(r, nested=False))],
    "v2-nested": lambda r, n: [("/v2/models/breast-cancer-classifier/versions/7/infer", *_v2(r[:1], nested=True)),
                               ("/v2/models/breast-cancer-classifier/infer", *_v2(r[1:], nested=True))],
}


def _serve_and_capture(artifact: Path, capture: Path, requests: list[Request]) -> None:
    server = InProcessServer({
        "MODEL_URI": str(artifact), "CAPTURE_DESTINATION": str(capture), "CAPTURE_SAMPLE_PERCENT": "100",
        "AIP_PREDICT_ROUTE": VERTEX_PREDICT, "AIP_HEALTH_ROUTE": "/v1/endpoints/1/deployedModels/2",
    })
    try:
        server.app.capture.start()  # what the ASGI lifespan startup does under uvicorn
        for path, body, headers in requests:
            reply = server.request("POST", path, body, headers)
            assert reply.status == 200, (path, reply.body)
    finally:
        server.close()  # flushes the capture


def _with_version_7(artifact: Path, tmp: Path) -> Path:
    """The artifact with version 7 (the V2 route pins a version)."""
    copy = tmp / "artifact-v7"
    copy.mkdir()
    for file in ("model.onnx", "metadata.json"):
        (copy / file).write_bytes((artifact / file).read_bytes())
    meta = json.loads((copy / "metadata.json").read_text())
    (copy / "metadata.json").write_text(json.dumps({**meta, "version": "7"}))
    return copy


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_the_monitor_reads_exactly_the_rows_the_server_captured(
    contract: str, artifact: Path, names: list[str], rows: np.ndarray, tmp_path: Path
) -> None:
    capture = tmp_path / "capture.jsonl"
    _serve_and_capture(_with_version_7(artifact, tmp_path), capture, CONTRACTS[contract](rows, names))

    table = load_table(capture, expected_names=names)

    assert table.format == "capture" and table.unreadable == 0
    np.testing.assert_array_equal(table.values, rows)


def _sagemaker_record(body: bytes, content_type: str, encoding: str) -> str:
    """A record as SageMaker's own data capture writes it (the `Capture data` page of the SageMaker
    developer guide): the raw request body, BASE64 unless the endpoint's CaptureContentTypeHeader lists
    the content type ("If no headers are specified SageMaker AI will by default base64 encode",
    API_CaptureContentTypeHeader)."""
    data = base64.b64encode(body).decode() if encoding == "BASE64" else body.decode()
    return json.dumps({
        "captureData": {
            "endpointInput": {"observedContentType": content_type, "mode": "INPUT", "data": data, "encoding": encoding},
            "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT", "data": "MQ==",
                               "encoding": "BASE64"},
        },
        "eventMetadata": {"eventId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "inferenceTime": "2026-12-07T08:24:40Z"},
        "eventVersion": "0",
    })


@pytest.mark.parametrize("encoding", ["CSV", "BASE64"])
def test_sagemaker_own_csv_capture_is_read(encoding: str, names: list[str], rows: np.ndarray, tmp_path: Path) -> None:
    lines = [_sagemaker_record(_csv(rows[i : i + 1], None)[0], "text/csv", encoding) for i in range(len(rows))]
    capture = tmp_path / "sagemaker.jsonl"
    capture.write_text("\n".join(lines) + "\n")
    np.testing.assert_array_equal(load_table(capture, expected_names=names).values, rows)


@pytest.mark.parametrize("encoding", ["JSON", "BASE64"])
def test_sagemaker_own_json_capture_is_read(encoding: str, names: list[str], rows: np.ndarray, tmp_path: Path) -> None:
    body = json.dumps({"instances": rows.tolist()}).encode()
    capture = tmp_path / "sagemaker.jsonl"
    capture.write_text(_sagemaker_record(body, "application/json", encoding) + "\n")
    np.testing.assert_array_equal(load_table(capture, expected_names=names).values, rows)


def _mixed_capture(tmp_path: Path, names: list[str], rows: np.ndarray, good: int, bad: int) -> Path:
    record = _sagemaker_record(_csv(rows[:1], None)[0], "text/csv", "CSV")
    broken = _sagemaker_record(b'{"rows": [1, 2]}', "application/json", "JSON")
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([record] * good + [broken] * bad) + "\n")
    return path


def test_one_unreadable_record_is_skipped_and_reported(
    names: list[str], rows: np.ndarray, artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = _mixed_capture(tmp_path, names, rows, good=199, bad=1)
    out = tmp_path / "report.json"
    code = main(["--baseline", str(artifact / "baseline.csv"), "--current", str(capture), "--out", str(out)])
    assert code in (0, 3), capsys.readouterr().err
    current = json.loads(out.read_text())["current"]
    assert (current["records"], current["unreadable_records"], current["rows"]) == (200, 1, 199)
    assert current["unreadable_examples"] == ["line 200: JSON body has none of ['instances', 'data', 'inputs'] "
                                              "(keys ['rows'])"]
    assert "skipped 1 of 200 unreadable capture records" in capsys.readouterr().out


@pytest.mark.parametrize(("bad", "limit", "code"), [(3, None, 2), (3, "5", None), (1, "0", 2)])
def test_more_unreadable_records_than_the_limit_exit_2(
    bad: int, limit: str | None, code: int | None, names: list[str], rows: np.ndarray, artifact: Path,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    capture = _mixed_capture(tmp_path, names, rows, good=100 - bad, bad=bad)
    args = ["--baseline", str(artifact / "baseline.csv"), "--current", str(capture), "--out", str(tmp_path / "r.json")]
    result = main(args + (["--max-unreadable-percent", limit] if limit else []))
    err = capsys.readouterr().err
    if code is None:
        assert result in (0, 3), err
        return
    assert result == 2 and len(err.strip().splitlines()) == 1
    assert f"{bad} of 100 capture records unreadable" in err and "max_unreadable_percent" in err
    assert not (tmp_path / "r.json").exists()


def test_every_skipped_record_is_counted_but_only_the_first_five_are_listed(
    names: list[str], rows: np.ndarray, artifact: Path, tmp_path: Path
) -> None:
    capture = _mixed_capture(tmp_path, names, rows, good=30, bad=20)
    out = tmp_path / "report.json"
    args = ["--baseline", str(artifact / "baseline.csv"), "--current", str(capture), "--out", str(out)]
    assert main([*args, "--max-unreadable-percent", "50"]) in (0, 3)
    current = json.loads(out.read_text())["current"]
    assert current["unreadable_records"] == 20
    assert [example.split(":")[0] for example in current["unreadable_examples"]] == [
        f"line {n}" for n in range(31, 36)]
