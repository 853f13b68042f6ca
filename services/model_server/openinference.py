"""KServe's Open Inference Protocol (V2) over HTTP: JSON tensors and the binary tensor data extension.

Request: ``{"id"?, "parameters"?, "inputs": [{"name", "shape", "datatype", "data"}], "outputs"?:
[{"name", "parameters"?}]}`` with ``data`` row-major (flat or nested). With the binary tensor data
extension (what ``tritonclient`` sends by default) the body is that JSON header followed by raw
little-endian tensor bytes: the ``Inference-Header-Content-Length`` request header gives the JSON
header's length and each binary input carries ``parameters.binary_data_size`` instead of ``data``.
Outputs come back binary when the request asks (``parameters.binary_data_output`` or an output's
``parameters.binary_data``), with the same header on the response. Errors are ``{"error": "..."}``
with a 4xx status, as the protocol asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from services.model_server import tensors
from services.model_server.errors import bad_request
from services.model_server.model import OnnxModel, Predictions
from services.model_server.payloads import parse_json

HEADER_LENGTH = "inference-header-content-length"
BINARY_CONTENT_TYPE = "application/octet-stream"
# what GET /v2 advertises (Triton's extension names)
EXTENSIONS = ("binary_tensor_data",)
# kept for callers that list the protocol's datatypes
NUMERIC_DATATYPES = tensors.NUMERIC_DATATYPES
ALL_DATATYPES = tensors.ALL_DATATYPES


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


@dataclass(frozen=True)
class InferRequest:
    """A validated inference request: the rows to predict and how to answer."""

    rows: np.ndarray
    request_id: str | None
    outputs: list[tuple[str, bool]]
    """Requested outputs in order, each with whether it is sent as raw binary data."""
    datatype: str
    """The input tensor's datatype as sent (kept for the JSON form handed to capture)."""
    binary_input: bool = False


def _header_split(body: bytes, header_length: str | None) -> tuple[bytes, memoryview | None]:
    """Split a binary-extension body into its JSON header and the raw tensor bytes after it."""
    if header_length is None:
        return body, None
    value = header_length.strip()
    if not value.isdigit() or int(value) == 0:
        raise bad_request(
            f"Inference-Header-Content-Length must be the JSON header's length in bytes (a positive integer), "
            f"got {header_length!r}"
        )
    length = int(value)
    if length > len(body):
        raise bad_request(
            f"Inference-Header-Content-Length is {length} but the request body has only {len(body)} bytes"
        )
    return body[:length], memoryview(body)[length:]


def _parameters(holder: dict[str, Any], where: str) -> dict[str, Any]:
    parameters = holder.get("parameters", {})
    if not isinstance(parameters, dict):
        raise bad_request(f"{where} 'parameters' must be a JSON object")
    return parameters


def _flag(parameters: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = parameters.get(key, default)
    if not isinstance(value, bool):
        raise bad_request(f"{where} parameter {key!r} must be true or false, got {value!r}")
    return value


def parse_request(body: bytes, model: OnnxModel, header_length: str | None = None) -> InferRequest:
    """Validate an inference request (JSON, or JSON header + raw bytes when ``header_length`` is set)."""
    meta = model.metadata
    header, raw = _header_split(body, header_length)
    document = parse_json(header)
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
    datatype = tensor.get("datatype")
    shape = tensors.check_input(tensor.get("name"), datatype, tensor.get("shape"), meta.input_name, model.n_features)
    size = _parameters(tensor, "input").get("binary_data_size")
    if size is None:
        if raw is not None and len(raw):
            raise bad_request(
                f"the body has {len(raw)} bytes after the JSON header but no input declares parameters.binary_data_size"
            )
        rows = tensors.rows_from_data(tensor.get("data"), datatype, shape, meta.feature_names)
    else:
        if raw is None:
            raise bad_request(
                "input declares parameters.binary_data_size but the request has no "
                "Inference-Header-Content-Length header saying where the JSON header ends"
            )
        if "data" in tensor:
            raise bad_request("input has both 'data' and parameters.binary_data_size; send one of them")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise bad_request(f"input parameters.binary_data_size must be a byte count, got {size!r}")
        if size != len(raw):
            raise bad_request(
                f"input binary_data_size is {size} but {len(raw)} bytes follow the JSON header "
                f"(shape {shape} of {datatype} needs {tensors.byte_size(datatype, shape)})"
            )
        rows = tensors.rows_from_raw(raw, datatype, shape, meta.feature_names)
    binary_default = _flag(_parameters(document, "request"), "binary_data_output", "request", False)
    outputs = _requested_outputs(document.get("outputs"), model, binary_default)
    return InferRequest(rows, request_id, outputs, datatype, binary_input=size is not None)


def _requested_outputs(outputs: Any, model: OnnxModel, binary_default: bool) -> list[tuple[str, bool]]:
    known = [model.label_output, model.probability_output]
    if outputs is None:
        return [(name, binary_default) for name in known]
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise bad_request("'outputs' must be a list of objects with a 'name'")
    unknown = [o["name"] for o in outputs if o["name"] not in known]
    if unknown:
        raise bad_request(f"unknown requested outputs {unknown}; this model produces {known}")
    requested = []
    for output in outputs:
        where = f"output {output['name']!r}"
        parameters = _parameters(output, where)
        if parameters.get("classification"):
            raise bad_request(f"{where}: the classification extension is not supported; request the tensor itself")
        requested.append((output["name"], _flag(parameters, "binary_data", where, binary_default)))
    return requested


def output_values(model: OnnxModel, predictions: Predictions, name: str) -> tuple[str, list[int], Any]:
    """``(datatype, shape, values)`` of one output tensor for these predictions."""
    if name == model.label_output:
        return label_datatype(model), [len(predictions)], predictions.labels
    return "FP32", list(predictions.probabilities.shape), predictions.probabilities


def response(model: OnnxModel, predictions: Predictions, request: InferRequest) -> tuple[bytes, int | None]:
    """``$inference_response`` bytes and, when any output is binary, the JSON header's length."""
    document: dict[str, Any] = {"model_name": model.metadata.name, "model_version": model.metadata.version}
    if request.request_id is not None:
        document["id"] = request.request_id
    outputs, blobs = [], []
    for name, binary in request.outputs:
        datatype, shape, values = output_values(model, predictions, name)
        tensor: dict[str, Any] = {"name": name, "datatype": datatype, "shape": shape}
        if binary:
            blob = tensors.raw_bytes(values, datatype)
            tensor["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            tensor["data"] = values.ravel() if isinstance(values, np.ndarray) else values
        outputs.append(tensor)
    document["outputs"] = outputs
    header = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
    if not blobs:
        return header, None
    return b"".join([header, *blobs]), len(header)


def request_as_json(request: InferRequest, model: OnnxModel) -> bytes:
    """The request as a plain JSON V2 body (decoded tensors): what capture records for binary requests."""
    document: dict[str, Any] = {}
    if request.request_id is not None:
        document["id"] = request.request_id
    document["inputs"] = [
        {
            "name": model.metadata.input_name,
            "shape": list(request.rows.shape),
            "datatype": request.datatype,
            "data": request.rows.ravel(),
        }
    ]
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)


def response_as_json(model: OnnxModel, predictions: Predictions, request: InferRequest) -> bytes:
    """The response with every requested output as JSON ``data`` (for capture)."""
    plain = InferRequest(request.rows, request.request_id, [(n, False) for n, _ in request.outputs], request.datatype)
    return response(model, predictions, plain)[0]
