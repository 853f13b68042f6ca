"""KServe's Open Inference Protocol (V2) over HTTP/JSON: tensors in, tensors out.

Request: ``{"id"?, "inputs": [{"name", "shape", "datatype", "data"}], "outputs"?: [{"name"}]}``
with ``data`` row-major (flat or nested). Response: ``{"model_name", "model_version", "id",
"outputs": [{"name", "shape", "datatype", "data"}]}``. Errors are ``{"error": "..."}`` with a 4xx
status, as the protocol asks. Only the JSON tensor encoding is served (no binary extension).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson

from services.model_server.errors import bad_request
from services.model_server.model import OnnxModel, Predictions
from services.model_server.payloads import check_finite, parse_json

NUMERIC_DATATYPES = frozenset(
    {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}
)
ALL_DATATYPES = NUMERIC_DATATYPES | {"BOOL", "BYTES", "BF16"}


def label_datatype(model: OnnxModel) -> str:
    """INT64 for integer class labels, BYTES for string labels."""
    return "INT64" if all(isinstance(c, int) for c in model.metadata.class_labels) else "BYTES"


def output_tensors(model: OnnxModel) -> list[dict[str, Any]]:
    """The two tensors every response can carry: predicted labels and class probabilities."""
    classes = len(model.metadata.class_labels)
    return [
        {"name": model.label_output, "datatype": label_datatype(model), "shape": [-1]},
        {"name": model.probability_output, "datatype": "FP32", "shape": [-1, classes]},
    ]


def model_metadata(model: OnnxModel) -> dict[str, Any]:
    """``$metadata_model_response`` for ``GET /v2/models/{name}``."""
    meta = model.metadata
    return {
        "name": meta.name,
        "versions": [meta.version],
        "platform": "onnxruntime_onnx",
        "inputs": [{"name": meta.input_name, "datatype": "FP32", "shape": [-1, len(meta.feature_names)]}],
        "outputs": output_tensors(model),
        "parameters": {"feature_names": list(meta.feature_names), "class_labels": list(meta.class_labels)},
    }


def _shape(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value):
        raise bad_request("input 'shape' must be a list of non-negative integers")
    return value


def parse_request(body: bytes, model: OnnxModel) -> tuple[np.ndarray, str | None, list[str]]:
    """Validate an inference request; return ``(rows, request id, requested output names)``."""
    meta = model.metadata
    document = parse_json(body)
    if not isinstance(document, dict):
        raise bad_request(f"inference request must be a JSON object, got {type(document).__name__}")
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise bad_request("'id' must be a string")
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise bad_request("'inputs' must be a non-empty list of tensors")
    if len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise bad_request(f"this model takes exactly one input tensor, {meta.input_name!r}")
    tensor = inputs[0]
    name = tensor.get("name")
    if name != meta.input_name:
        raise bad_request(f"unknown input {name!r}; the model input is {meta.input_name!r}")
    datatype = tensor.get("datatype")
    if datatype not in ALL_DATATYPES:
        raise bad_request(f"input datatype {datatype!r} is not an Open Inference Protocol datatype")
    if datatype not in NUMERIC_DATATYPES:
        raise bad_request(f"input datatype {datatype} is not numeric; send FP32 (or another numeric type)")
    shape = _shape(tensor.get("shape"))
    n_features = len(meta.feature_names)
    if len(shape) != 2 or shape[1] != n_features:
        raise bad_request(f"input shape must be [rows, {n_features}], got {shape}")
    if shape[0] == 0:
        raise bad_request("empty batch: shape has 0 rows")
    data = tensor.get("data")
    if not isinstance(data, list):
        raise bad_request("input 'data' must be a list (flat row-major or nested)")
    try:
        values = np.array(data)
    except (ValueError, TypeError, OverflowError):
        raise bad_request("input 'data' is ragged or mixes types") from None
    if values.dtype.kind not in "iuf" or _has_bool(data):
        raise bad_request(f"input 'data' must hold only numbers for datatype {datatype}")
    if values.size != math.prod(shape):
        raise bad_request(f"input 'data' has {values.size} elements but shape {shape} needs {math.prod(shape)}")
    rows = check_finite(values.reshape(shape).astype(np.float64, copy=False), meta.feature_names, "input data")
    requested = _requested_outputs(document.get("outputs"), model)
    return rows, request_id, requested


def _has_bool(data: list[Any]) -> bool:
    """True if any leaf of the nested list is a JSON boolean (numpy would silently read it as 0/1)."""
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if type(item) is bool:
            return True
        if isinstance(item, list):
            stack.extend(item)
    return False


def _requested_outputs(outputs: Any, model: OnnxModel) -> list[str]:
    known = [model.label_output, model.probability_output]
    if outputs is None:
        return known
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise bad_request("'outputs' must be a list of objects with a 'name'")
    names = [o["name"] for o in outputs]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise bad_request(f"unknown requested outputs {unknown}; this model produces {known}")
    return names


def response_body(model: OnnxModel, predictions: Predictions, request_id: str | None, requested: list[str]) -> bytes:
    """``$inference_response`` with the requested output tensors, data flattened row-major."""
    rows = len(predictions)
    tensors = []
    for name in requested:
        if name == model.label_output:
            tensors.append(
                {"name": name, "datatype": label_datatype(model), "shape": [rows], "data": predictions.labels}
            )
        else:
            tensors.append(
                {
                    "name": name,
                    "datatype": "FP32",
                    "shape": list(predictions.probabilities.shape),
                    "data": predictions.probabilities.ravel(),
                }
            )
    document: dict[str, Any] = {"model_name": model.metadata.name, "model_version": model.metadata.version}
    if request_id is not None:
        document["id"] = request_id
    document["outputs"] = tensors
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
