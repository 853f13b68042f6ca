"""The bare app the model server is measured against: Starlette + ONNX Runtime and nothing else.

It answers the same ``POST /invocations`` body (``{"instances": rows}``) with the same response shape
(``{"predictions": [{"label", "probabilities"}]}``) from the same ``model.onnx``, with orjson for
parsing and writing, one ONNX Runtime call per request, no validation, metrics, logs or capture.
Benchmark only (``benchmarks/serve.py``); not part of the platform. Run with
``BARE_MODEL_DIR=<artifact> .venv/bin/python -m uvicorn benchmarks.bare_server:app --no-access-log``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_directory = Path(os.environ["BARE_MODEL_DIR"])
_metadata = json.loads((_directory / "metadata.json").read_text())
_options = ort.SessionOptions()
_options.intra_op_num_threads = 1  # the model server's default (ORT_INTRA_OP_THREADS=1)
_options.inter_op_num_threads = 1
_session = ort.InferenceSession(
    str(_directory / "model.onnx"), sess_options=_options, providers=["CPUExecutionProvider"]
)
_input = _session.get_inputs()[0].name
_outputs = [o.name for o in _session.get_outputs()]  # label tensor, probability tensor (zipmap off)


async def invocations(request: Request) -> Response:
    rows = np.asarray(orjson.loads(await request.body())["instances"], dtype=np.float32)
    labels, probabilities = _session.run(_outputs, {_input: rows})
    body = {
        "predictions": [
            {"label": int(label), "probabilities": p} for label, p in zip(labels, probabilities, strict=True)
        ]
    }
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


async def ping(request: Request) -> Response:
    return Response(b"", media_type="text/plain")


app = Starlette(routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)])
