"""Bad input stays cheap: 1,000 fuzzed requests against the running server, every contract.

Each malformed request (bad JSON, wrong shape or type, oversized, unknown model, bad binary header
lengths and sizes, bad compression) must get a 4xx with a JSON ``error`` that says something, be
counted in ``model_server_requests_total`` under its status, and never produce a 5xx or stop the
server. Valid requests that the strategies happen to produce must get a 200.
"""

from __future__ import annotations

import gzip
import json
import struct
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.services.model_server.conftest import VERTEX_PREDICT
from tests.services.model_server.harness import ServerProcess

pytestmark = pytest.mark.slow
LIMIT = 16 * 1024
ROUTES = [
    "/invocations",
    "/score",
    VERTEX_PREDICT,
    "/v2/models/breast-cancer/infer",
    "/v2/models/breast-cancer/versions/7/infer",
    "/v2/models/breast-cancer/versions/8/infer",
    "/v2/models/unknown-model/infer",
]


@pytest.fixture(scope="module")
def live(artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("fuzz")
    env = {"MODEL_URI": str(artifact_dir), "AIP_PREDICT_ROUTE": VERTEX_PREDICT, "MAX_REQUEST_BYTES": str(LIMIT)}
    server = ServerProcess(env, workdir / "server.log").wait_ready()
    yield server
    server.stop()


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.floats(min_value=-50, max_value=500),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
rows = st.lists(st.lists(numbers, min_size=28, max_size=31), min_size=0, max_size=4)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30,
)
datatypes = st.sampled_from(["FP32", "FP64", "FP16", "INT64", "UINT8", "BYTES", "BOOL", "BF16", "fp32", ""])
shapes = st.lists(st.integers(min_value=-1, max_value=40), max_size=3) | st.just([1, 30])


@st.composite
def binary_requests(draw) -> tuple[bytes, dict[str, str]]:
    """Binary tensor extension bodies with honest or lying header lengths and binary_data_size."""
    datatype, shape = draw(datatypes), draw(shapes)
    raw = draw(st.binary(max_size=300) | st.just(struct.pack("<30f", *([1.0] * 30))))
    size = draw(st.sampled_from([len(raw), len(raw) + 4, max(len(raw) - 4, 0), 120, -1, "120", None]))
    tensor = {"name": draw(st.sampled_from(["features", "x"])), "shape": shape, "datatype": datatype}
    if size is not None:
        tensor["parameters"] = {"binary_data_size": size}
    document = {"inputs": [tensor], "parameters": {"binary_data_output": draw(st.booleans() | st.just("yes"))}}
    header = json.dumps(document).encode()
    length = draw(
        st.sampled_from([str(len(header)), str(len(header) + 1), str(len(header) - 3), "0", "-2", "x", "1e3"])
    )
    content_type = draw(st.sampled_from(["application/octet-stream", "", "application/json"]))
    headers = {"inference-header-content-length": length}
    if content_type:
        headers["content-type"] = content_type
    return header + raw, headers


@st.composite
def requests(draw) -> tuple[str, bytes, dict[str, str]]:
    route = draw(st.sampled_from(ROUTES))
    kind = draw(st.sampled_from(["bytes", "json", "instances", "data", "v2", "binary", "csv", "oversized", "gzip"]))
    headers = {"content-type": "application/json"}
    if kind == "bytes":
        body = draw(st.binary(max_size=400))
        headers = {"content-type": draw(st.sampled_from(["application/json", "text/csv", "image/png", ""]))}
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind in ("instances", "data"):
        body = json.dumps({kind: draw(rows)}, allow_nan=True).encode()
    elif kind == "v2":
        tensor = {"name": "features", "shape": draw(shapes), "datatype": draw(datatypes), "data": draw(rows)}
        body = json.dumps({"inputs": [tensor]}, allow_nan=True).encode()
    elif kind == "binary":
        body, headers = draw(binary_requests())
    elif kind == "csv":
        body = "\n".join(",".join(map(str, r)) for r in draw(rows)).encode()
        headers = {"content-type": "text/csv"}
    elif kind == "oversized":
        body = b"[" + b"1.0," * (LIMIT // 4 + draw(st.integers(1, 100))) + b"1.0]"
    else:
        body = gzip.compress(json.dumps(draw(json_values)).encode())
        body = draw(st.sampled_from([body, body[:-5], b"\x1f\x8b" + body[2:20]]))
        headers["content-encoding"] = draw(st.sampled_from(["gzip", "deflate", "br"]))
    return route, body, headers


def test_a_thousand_fuzzed_requests_get_clear_4xx_are_counted_and_never_a_5xx(live: ServerProcess) -> None:
    observed: Counter[int] = Counter()

    @settings(max_examples=1000, deadline=None, database=None)
    @given(request=requests())
    def send(request) -> None:
        route, body, headers = request
        reply = live.client.post(route, content=body, headers=headers)
        observed[reply.status_code] += 1
        assert reply.status_code < 500, reply.content
        if reply.status_code >= 400:
            assert reply.headers["content-type"] == "application/json"
            message = reply.json()["error"]
            assert isinstance(message, str) and len(message) > 10, message
        else:
            assert reply.status_code == 200

    send()
    counted: Counter[int] = Counter()
    for line in live.client.get("/metrics").text.splitlines():
        if line.startswith("model_server_requests_total{") and 'method="POST"' in line:
            status = int(line.split('status="', 1)[1].split('"', 1)[0])
            counted[status] += int(float(line.rsplit(" ", 1)[1]))
    assert sum(observed.values()) == 1000
    assert counted == observed, "every request is counted under the status it got"
    assert len([s for s in observed if 400 <= s < 500]) >= 4, f"the fuzzing should reach several 4xx: {observed}"
    assert live.process.poll() is None
