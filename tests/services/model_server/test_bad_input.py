"""Bad input never hurts the server: every malformed request gets a 4xx JSON error that says why."""

from __future__ import annotations

import gzip
import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services.model_server.conftest import VERTEX_PREDICT
from tests.services.model_server.harness import InProcessServer

ROW = [1.0] * 30
JSON_HEADERS = {"content-type": "application/json"}


def v2(data, shape=(1, 30), datatype="FP32", name="features"):
    return json.dumps({"inputs": [{"name": name, "shape": list(shape), "datatype": datatype, "data": data}]})


def v2_with(**extra) -> bytes:
    return json.dumps({**json.loads(v2(ROW)), **extra}).encode()


def binary_header(datatype="FP32", size=120, data=False, outputs=None) -> bytes:
    tensor = {"name": "features", "shape": [1, 30], "datatype": datatype, "parameters": {"binary_data_size": size}}
    if data:
        tensor["data"] = ROW
    document = {"inputs": [tensor], "parameters": {"binary_data_output": True}}
    if outputs is not None:
        document["outputs"] = outputs
    return json.dumps(document).encode()


def binary(raw: bytes = struct.pack("<30f", *ROW), **header) -> bytes:
    """A binary tensor extension body: JSON header then the raw little-endian tensor."""
    return binary_header(**header) + raw


BINARY_HEADER = binary_header()
BINARY = binary()

CASES = [
    # (path, body, headers, status, words the error must contain)
    ("/invocations", b"{not json", JSON_HEADERS, 400, "malformed JSON"),
    ("/invocations", b"", JSON_HEADERS, 400, "empty request body"),
    ("/invocations", b'{"instances": []}', JSON_HEADERS, 400, "empty batch"),
    ("/invocations", b'{"rows": [[1]]}', JSON_HEADERS, 400, "'instances'"),
    ("/invocations", json.dumps({"instances": [[1.0] * 29]}).encode(), JSON_HEADERS, 400, "needs 30 features"),
    ("/invocations", json.dumps({"instances": ROW}).encode(), JSON_HEADERS, 400, "flat list"),
    ("/invocations", json.dumps({"instances": [ROW, ROW[:3]]}).encode(), JSON_HEADERS, 400, "ragged"),
    ("/invocations", json.dumps({"instances": [["a"] * 30]}).encode(), JSON_HEADERS, 400, "must be a number"),
    ("/invocations", json.dumps({"instances": [[True, *ROW[1:]]]}).encode(), JSON_HEADERS, 400, "boolean"),
    ("/invocations", json.dumps({"instances": [[None, *ROW[1:]]]}).encode(), JSON_HEADERS, 400, "None"),
    ("/invocations", b'{"instances": [[NaN' + b", 1.0" * 29 + b"]]}", JSON_HEADERS, 400, "malformed JSON"),
    ("/invocations", json.dumps({"instances": [[1e39, *ROW[1:]]]}).encode(), JSON_HEADERS, 400, "mean radius"),
    ("/invocations", json.dumps({"instances": [{"mean radius": 1.0}]}).encode(), JSON_HEADERS, 400, "missing features"),
    ("/invocations", ("nan" + ",1" * 29).encode(), {"content-type": "text/csv"}, 400, "not a finite"),
    ("/invocations", ("inf" + ",1" * 29).encode(), {"content-type": "text/csv"}, 400, "not a finite"),
    ("/invocations", b"1,2,3", {"content-type": "text/csv"}, 400, "expected 30 values"),
    ("/invocations", ("x" + ",1" * 29).encode(), {"content-type": "text/csv"}, 400, "could not convert"),
    ("/invocations", b"\xff\xfe", {"content-type": "text/csv"}, 400, "UTF-8"),
    ("/invocations", b"\n\n", {"content-type": "text/csv"}, 400, "empty CSV"),
    ("/invocations", b"<xml/>", {"content-type": "application/xml"}, 415, "unsupported Content-Type"),
    ("/invocations", json.dumps({"instances": [ROW]}).encode(), {"accept": "image/png"}, 406, "cannot produce"),
    (VERTEX_PREDICT, b"1,2", {"content-type": "text/csv"}, 415, "application/json"),
    ("/v2/models/breast-cancer/infer", v2(ROW, datatype="BYTES").encode(), {}, 400, "not numeric"),
    ("/v2/models/breast-cancer/infer", v2(ROW, datatype="FP99").encode(), {}, 400, "datatype"),
    ("/v2/models/breast-cancer/infer", v2(ROW, shape=(2, 30)).encode(), {}, 400, "elements"),
    ("/v2/models/breast-cancer/infer", v2(ROW, shape=(30,)).encode(), {}, 400, "shape must be"),
    ("/v2/models/breast-cancer/infer", v2([], shape=(0, 30)).encode(), {}, 400, "empty batch"),
    ("/v2/models/breast-cancer/infer", v2(ROW, name="x").encode(), {}, 400, "unknown input"),
    ("/v2/models/breast-cancer/infer", v2([True] * 30).encode(), {}, 400, "only numbers"),
    ("/v2/models/breast-cancer/infer", b'{"inputs": []}', {}, 400, "non-empty list"),
    ("/v2/models/breast-cancer/infer", b"[]", {}, 400, "JSON object"),
    (
        "/v2/models/breast-cancer/infer",
        json.dumps({"inputs": json.loads(v2(ROW))["inputs"], "outputs": [{"name": "nope"}]}).encode(),
        {},
        400,
        "unknown requested outputs",
    ),
    (
        "/v2/models/breast-cancer/infer",
        v2(ROW).encode(),
        {"content-type": "application/octet-stream"},
        400,
        "without an Inference-Header-Content-Length",
    ),
    ("/v2/models/breast-cancer/infer", v2(ROW).encode(), {"content-type": "image/png"}, 415, "binary tensor"),
    *[
        ("/v2/models/breast-cancer/infer", body, {"inference-header-content-length": length}, 400, words)
        for body, length, words in [
            (BINARY, "abc", "positive integer"),
            (BINARY, "0", "positive integer"),
            (BINARY, "-5", "positive integer"),
            (BINARY, str(len(BINARY) + 1), "has only"),
            (BINARY, str(len(BINARY_HEADER) - 1), "malformed JSON"),
            (BINARY[:-4], str(len(BINARY_HEADER)), "binary_data_size is 120 but 116 bytes"),
            (BINARY + b"\0" * 4, str(len(BINARY_HEADER)), "binary_data_size is 120 but 124 bytes"),
            (v2(ROW).encode() + b"\0" * 8, str(len(v2(ROW))), "no input declares"),
            (binary(size="120"), str(len(BINARY_HEADER) + 2), "must be a byte count"),
            (binary(size=116, raw=b"\0" * 116), str(len(BINARY_HEADER)), "needs 120"),
            (binary(datatype="FP64"), str(len(BINARY_HEADER)), "needs 240"),
            (binary(data=True), str(len(binary_header(data=True))), "both 'data'"),
            (binary(raw=struct.pack("<30f", *([float("nan")] * 30))), str(len(BINARY_HEADER)), "not a finite"),
            (binary(outputs=[{"name": "label", "parameters": {"classification": 2}}]), "0", "positive integer"),
        ]
    ],
    ("/v2/models/breast-cancer/infer", BINARY, {}, 400, "malformed JSON"),
    ("/v2/models/breast-cancer/infer", binary_header().rstrip(), {}, 400, "no Inference-Header-Content-Length"),
    (
        "/v2/models/breast-cancer/infer",
        v2_with(outputs=[{"name": "label", "parameters": {"classification": 2}}]),
        {},
        400,
        "classification extension",
    ),
    (
        "/v2/models/breast-cancer/infer",
        v2_with(outputs=[{"name": "label", "parameters": {"binary_data": "yes"}}]),
        {},
        400,
        "must be true or false",
    ),
    ("/v2/models/breast-cancer/infer", v2_with(parameters=[1]), {}, 400, "must be a JSON object"),
    ("/invocations", b"{}", {"content-encoding": "br"}, 415, "Content-Encoding"),
    ("/invocations", b"not gzip", {"content-encoding": "gzip"}, 400, "not valid gzip"),
    ("/invocations", gzip.compress(b"{}")[:-6], {"content-encoding": "gzip"}, 400, "truncated"),
    ("/invocations", gzip.compress(b" " * 70_000), {"content-encoding": "gzip"}, 413, "decompressed"),
    ("/v2/models/nope/infer", v2(ROW).encode(), {}, 404, "not found"),
    ("/nowhere", b"{}", JSON_HEADERS, 404, "no route"),
]


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "words"), CASES, ids=[f"{c[0]}-{c[3]}-{c[4]}" for c in CASES]
)
def test_bad_request_gets_a_4xx_json_error_naming_the_problem(
    app: InProcessServer, path, body, headers, status, words
) -> None:
    reply = app.request("POST", path, body, headers)
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert words in reply.json()["error"]


def test_wrong_method_is_405_with_allow_header(app: InProcessServer) -> None:
    reply = app.request("GET", "/invocations")
    assert reply.status == 405
    assert reply.headers["allow"] == "POST"
    assert "POST" in reply.json()["error"]


def test_body_over_the_limit_is_413_whether_declared_or_streamed(app: InProcessServer) -> None:
    body = b"1" * (64 * 1024 + 1)  # the fixture's MAX_REQUEST_BYTES is 64 KiB
    declared = app.request("POST", "/invocations", body, JSON_HEADERS)
    streamed = app.request("POST", "/invocations", body, {**JSON_HEADERS, "content-length": "10"})
    assert declared.status == streamed.status == 413
    assert "65536-byte limit" in declared.json()["error"]


def test_errors_are_logged_with_their_reason(app: InProcessServer) -> None:
    app.request("POST", "/invocations", b"[[1,2]]", {**JSON_HEADERS, "x-request-id": "bad-shape"})
    line = next(r for r in app.log_lines() if r.get("request_id") == "bad-shape")
    assert line["status"] == 400 and line["level"] == "warning" and "30 features" in line["error"]


# ---- property-based: arbitrary bodies and JSON documents never cause a 5xx ----------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=40,
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(), st.none(), st.text(max_size=4)
)
instances = st.lists(st.lists(numbers, min_size=0, max_size=32), max_size=5)
routes = st.sampled_from(["/invocations", VERTEX_PREDICT, "/score", "/v2/models/breast-cancer/infer"])
content_types = st.sampled_from(
    [
        "application/json",
        "text/csv",
        "",
        "application/x-npy",
        "text/csv; charset=utf-8",
        "application/json; charset=latin-1",
    ]
)


def bodies() -> st.SearchStrategy[bytes]:
    tensor = st.fixed_dictionaries(
        {
            "name": st.sampled_from(["features", "x"]),
            "shape": st.lists(st.integers(min_value=-2, max_value=40), max_size=3),
            "datatype": st.sampled_from(["FP32", "FP64", "INT64", "BYTES", "BOOL", "??"]),
            "data": st.one_of(st.lists(numbers, max_size=64), instances),
        }
    )
    return st.one_of(
        st.binary(max_size=512),
        json_values.map(lambda v: json.dumps(v).encode()),
        instances.map(lambda rows: json.dumps({"instances": rows}, allow_nan=True).encode()),
        st.lists(tensor, max_size=2).map(lambda t: json.dumps({"inputs": t}, allow_nan=True).encode()),
        instances.map(lambda rows: "\n".join(",".join(map(str, r)) for r in rows).encode()),
    )


def assert_handled(status: int, content_type: str, body: bytes) -> None:
    assert status < 500, body
    assert content_type == "application/json"
    if status >= 400:
        assert json.loads(body)["error"]
    else:
        assert json.loads(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=routes, content_type=content_types, body=bodies())
def test_no_input_makes_the_app_fail(app: InProcessServer, route: str, content_type: str, body: bytes) -> None:
    headers = {"content-type": content_type} if content_type else {}
    reply = app.request("POST", route, body, headers)
    assert_handled(reply.status, reply.headers["content-type"], reply.body)
