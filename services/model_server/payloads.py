"""Request bodies in, response bodies out, for the instance-style contracts.

SageMaker ``/invocations``, Vertex AI predict and Azure ML scoring all carry rows of features:
JSON (``{"instances": [...]}``, Azure's ``{"data": [...]}`` or a bare list; each row a list of
numbers in ``feature_names`` order or an object keyed by feature name) or ``text/csv`` (one row per
line, optional header). Everything is validated here: a bad body becomes a ``RequestError`` that
names the row and feature at fault, never an exception deeper in the server.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import orjson

from services.model_server.errors import RequestError, bad_request
from services.model_server.model import Predictions

JSON = "application/json"
CSV = "text/csv"
JSON_TYPES = frozenset({JSON, "application/jsonlines", "text/json"})
ROW_KEYS = ("instances", "data")
FLOAT32_MAX = float(np.finfo(np.float32).max)
_NUMBERS = frozenset({float, int})


def media_type(header: str | None) -> str:
    """The bare media type of a Content-Type/Accept value: ``"text/csv; charset=utf-8"`` -> ``"text/csv"``."""
    if not header:
        return ""
    return header.split(";", 1)[0].strip().lower()


# Content-Encoding -> zlib window bits (gzip header, zlib header as HTTP's "deflate" means)
CONTENT_ENCODINGS = {"gzip": 31, "x-gzip": 31, "deflate": 15}


def decode_body(body: bytes, content_encoding: str, limit: int) -> bytes:
    """Undo a request's ``Content-Encoding`` (gzip/deflate, as tritonclient can send), capped at ``limit``."""
    encoding = content_encoding.strip().lower()
    if encoding in {"", "identity"}:
        return body
    if encoding not in CONTENT_ENCODINGS:
        raise RequestError(415, f"unsupported Content-Encoding {encoding!r}; send gzip, deflate or identity")
    inflater = zlib.decompressobj(CONTENT_ENCODINGS[encoding])
    try:
        decoded = inflater.decompress(body, limit)
    except zlib.error as exc:
        raise bad_request(f"body is not valid {encoding} data: {exc}") from None
    if inflater.unconsumed_tail:
        raise RequestError(413, f"decompressed request body exceeds the {limit}-byte limit")
    if not inflater.eof:
        raise bad_request(f"{encoding} body is truncated")
    return decoded


def parse_json(body: bytes) -> Any:
    """Parse a JSON body (strict: no NaN/Infinity literals), or raise 400 saying where it broke."""
    if not body.strip():
        raise bad_request("empty request body; expected JSON")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"malformed JSON: {exc}") from None


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _instance_rows(instances: list[Any], feature_names: Sequence[str]) -> list[Any]:
    """Turn objects keyed by feature name into positional rows; lists pass through unchanged."""
    if not instances or not isinstance(instances[0], dict):
        return instances
    names = set(feature_names)
    rows = []
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise bad_request(f"instance {index}: expected an object like instance 0, got {type(instance).__name__}")
        missing = [n for n in feature_names if n not in instance]
        unknown = sorted(k for k in instance if k not in names)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing features {missing[:5]}{' ...' if len(missing) > 5 else ''}")
            if unknown:
                parts.append(f"unknown features {unknown[:5]}{' ...' if len(unknown) > 5 else ''}")
            raise bad_request(f"instance {index}: " + "; ".join(parts))
        rows.append([instance[n] for n in feature_names])
    return rows


def rows_from_values(values: Any, feature_names: Sequence[str], what: str = "instances") -> np.ndarray:
    """Validate a nested list of numbers as a ``(rows, features)`` float64 array of finite values."""
    n_features = len(feature_names)
    if not isinstance(values, list):
        raise bad_request(f"{what}: expected a list of rows, got {type(values).__name__}")
    if not values:
        raise bad_request(f"{what}: empty batch; send at least one row of {n_features} features")
    values = _instance_rows(values, feature_names)
    # Fast path for the usual body, rows of JSON floats: one pass over the values checks types and
    # range (JSON has no NaN/Infinity, orjson refuses them), then numpy builds the array.
    if all(type(row) is list and len(row) == n_features for row in values):
        flat = list(chain.from_iterable(values))
        if set(map(type, flat)) <= _NUMBERS and min(flat) >= -FLOAT32_MAX and max(flat) <= FLOAT32_MAX:
            return np.array(values, dtype=np.float64)
    try:
        array = np.array(values)
    except (ValueError, TypeError, OverflowError):
        raise bad_request(
            f"{what}: rows must all be lists of {n_features} numbers (ragged or mixed rows found)"
        ) from None
    if array.ndim == 1 and array.dtype.kind in "iuf":
        raise bad_request(
            f"{what}: got a flat list of {array.shape[0]} numbers; send a list of rows, e.g. [[{n_features} numbers]]"
        )
    if array.ndim != 2:
        raise bad_request(f"{what}: expected rows of {n_features} numbers, got an array of shape {list(array.shape)}")
    if array.dtype.kind not in "iuf":
        bad = [v for row in values for v in row if isinstance(v, bool) or not isinstance(v, (int, float))][:1]
        found = _describe(bad[0]) if bad else "an integer beyond 64 bits"
        raise bad_request(f"{what}: every feature value must be a number; found {found}")
    if array.shape[1] != n_features:
        raise bad_request(f"{what}: each row needs {n_features} features, got {array.shape[1]}")
    if bool in set(map(type, chain.from_iterable(values))):  # numpy reads true/false as 1/0 silently
        raise bad_request(f"{what}: every feature value must be a number; found a boolean")
    return check_finite(array.astype(np.float64, copy=False), feature_names, what)


def check_finite(array: np.ndarray, feature_names: Sequence[str], what: str) -> np.ndarray:
    """Reject NaN/inf and values beyond float32 range (the model's input type), naming the first one."""
    if np.abs(array).max() <= FLOAT32_MAX:  # one reduction; NaN compares False, so it falls through
        return array
    finite = np.isfinite(array) & (np.abs(array) <= FLOAT32_MAX)
    if not finite.all():
        row, col = (int(i) for i in np.argwhere(~finite)[0])
        raise bad_request(
            f"{what}: row {row}, feature {feature_names[col]!r}: {array[row, col]!r} is not a finite float32 number"
        )
    return array


def rows_from_json(body: bytes, feature_names: Sequence[str]) -> np.ndarray:
    """Rows from a JSON scoring body: ``{"instances": rows}``, ``{"data": rows}`` or a bare list of rows."""
    document = parse_json(body)
    if isinstance(document, list):
        return rows_from_values(document, feature_names)
    if isinstance(document, dict):
        key = next((k for k in ROW_KEYS if k in document), None)
        if key is None:
            raise bad_request(f"JSON object needs an 'instances' list (or 'data'); got keys {sorted(document)[:5]}")
        return rows_from_values(document[key], feature_names, key)
    raise bad_request(f"expected a JSON object with 'instances', got {type(document).__name__}")


def rows_from_csv(body: bytes, feature_names: Sequence[str]) -> np.ndarray:
    """Rows from ``text/csv``: one row per line, no quoting; header row skipped."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("CSV body is not valid UTF-8") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and [c.strip() for c in lines[0].split(",")] == list(feature_names):
        lines = lines[1:]
    if not lines:
        raise bad_request(f"empty CSV body; send at least one line of {len(feature_names)} comma-separated numbers")
    cells = [line.split(",") for line in lines]
    for index, row in enumerate(cells):
        if len(row) != len(feature_names):
            raise bad_request(f"CSV line {index + 1}: expected {len(feature_names)} values, got {len(row)}")
    try:
        array = np.array(cells, dtype=np.float64)
    except ValueError as exc:
        raise bad_request(f"CSV: {exc}") from None
    return check_finite(array, feature_names, "CSV")


def rows_from_body(body: bytes, content_type: str | None, feature_names: Sequence[str]) -> np.ndarray:
    """Dispatch on Content-Type; a missing one is read as JSON, anything else unknown is 415."""
    kind = media_type(content_type)
    if kind == CSV:
        return rows_from_csv(body, feature_names)
    if kind in JSON_TYPES or kind == "":
        return rows_from_json(body, feature_names)
    raise RequestError(415, f"unsupported Content-Type {kind!r}; send {JSON} or {CSV}")


def response_type(accept: str | None) -> str:
    """Pick JSON or CSV from an Accept header (first acceptable entry wins), or raise 406."""
    if not accept:
        return JSON
    for entry in accept.split(","):
        kind = media_type(entry)
        if kind in {JSON, "*/*", "application/*", ""}:
            return JSON
        if kind in {CSV, "text/*"}:
            return CSV
    raise RequestError(406, f"cannot produce {accept!r}; this endpoint answers {JSON} or {CSV}")


def predictions_json(predictions: Predictions) -> bytes:
    """``{"predictions": [{"label": ..., "probabilities": [...]}, ...]}`` (columns as class_labels)."""
    return orjson.dumps(
        {
            "predictions": [
                {"label": label, "probabilities": row}
                for label, row in zip(predictions.labels, predictions.probabilities, strict=True)
            ]
        },
        option=orjson.OPT_SERIALIZE_NUMPY,
    )


def predictions_csv(predictions: Predictions) -> bytes:
    """One line per row: the predicted label, then each class probability in ``class_labels`` order."""
    lines = [
        f"{label}," + ",".join(f"{p:.9g}" for p in row)
        for label, row in zip(predictions.labels, predictions.probabilities.tolist(), strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()
