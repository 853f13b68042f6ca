"""Open Inference Protocol tensors on the wire: datatypes, raw little-endian bytes, validation to rows.

Shared by the REST endpoint (JSON ``data`` or the binary tensor data extension) and the gRPC
service (``contents`` or ``raw_input_contents``), so every transport accepts and refuses the same
tensors with the same messages.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from services.model_server.errors import bad_request
from services.model_server.payloads import check_finite

# Fixed-size datatypes as the protocol lays them out in raw bytes: row-major, little-endian.
WIRE_DTYPES = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
NUMERIC_DATATYPES = frozenset(WIRE_DTYPES) - {"BOOL"}
ALL_DATATYPES = frozenset(WIRE_DTYPES) | {"BYTES", "BF16"}


def check_input(name: Any, datatype: Any, shape: Any, input_name: str, n_features: int) -> list[int]:
    """Validate an input tensor's name, datatype and shape; return the shape ``[rows, n_features]``."""
    if name != input_name:
        raise bad_request(f"unknown input {name!r}; the model input is {input_name!r}")
    if datatype not in ALL_DATATYPES:
        raise bad_request(f"input datatype {datatype!r} is not an Open Inference Protocol datatype")
    if datatype not in NUMERIC_DATATYPES:
        raise bad_request(f"input datatype {datatype} is not numeric; send FP32 (or another numeric type)")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise bad_request("input 'shape' must be a list of non-negative integers")
    if len(shape) != 2 or shape[1] != n_features:
        raise bad_request(f"input shape must be [rows, {n_features}], got {shape}")
    if shape[0] == 0:
        raise bad_request("empty batch: shape has 0 rows")
    return shape


def byte_size(datatype: str, shape: Sequence[int]) -> int:
    """Bytes a fixed-size tensor of ``datatype`` and ``shape`` occupies in raw form."""
    return WIRE_DTYPES[datatype].itemsize * math.prod(shape)


def rows_from_raw(raw: bytes | memoryview, datatype: str, shape: list[int], feature_names: Sequence[str]) -> np.ndarray:
    """Rows from raw little-endian tensor bytes (binary extension or gRPC ``raw_input_contents``)."""
    expected = byte_size(datatype, shape)
    if len(raw) != expected:
        raise bad_request(
            f"input holds {len(raw)} bytes of raw {datatype} data but shape {shape} needs {expected} "
            f"({WIRE_DTYPES[datatype].itemsize} bytes per element)"
        )
    values = np.frombuffer(raw, dtype=WIRE_DTYPES[datatype]).reshape(shape)
    return check_finite(values.astype(np.float64), feature_names, "input data")


def rows_from_data(data: Any, datatype: str, shape: list[int], feature_names: Sequence[str]) -> np.ndarray:
    """Rows from a JSON ``data`` list (flat row-major or nested) or a gRPC typed ``contents`` list."""
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
    return check_finite(values.reshape(shape).astype(np.float64, copy=False), feature_names, "input data")


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


def raw_bytes(values: Any, datatype: str) -> bytes:
    """Raw form of an output tensor: little-endian fixed-size elements, or length-prefixed BYTES."""
    if datatype == "BYTES":
        parts = []
        for value in values:
            encoded = str(value).encode("utf-8")
            parts.append(struct.pack("<I", len(encoded)))
            parts.append(encoded)
        return b"".join(parts)
    return np.ascontiguousarray(values, dtype=WIRE_DTYPES[datatype]).tobytes()
