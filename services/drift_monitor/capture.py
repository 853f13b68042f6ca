"""Rows from SageMaker data-capture files (JSON lines).

One record per line::

    {"captureData": {"endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                                       "data": "{\"instances\": [[1.0, 2.0], [3.0, 4.0]]}",
                                       "encoding": "JSON"},
                     "endpointOutput": {...}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "..."}, "eventVersion": "0"}

``encoding`` is ``JSON``, ``CSV`` or ``BASE64`` (then ``observedContentType`` says whether the
decoded bytes are JSON or CSV). JSON payloads may be ``{"instances": [...]}``, ``{"inputs": [...]}``
or a bare list; each instance is a list of numbers in the baseline's column order or an object
keyed by feature name. Only the endpoint *input* is read: drift is measured on features.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.drift_monitor.errors import InputError


def _instances(payload: Any, where: str, path: Path) -> list[Any]:
    if isinstance(payload, dict):
        for key in ("instances", "inputs"):
            if key in payload:
                payload = payload[key]
                break
        else:
            raise InputError(path, f"{where}: JSON input has no 'instances' list; capture the request body as sent")
    if not isinstance(payload, list):
        raise InputError(path, f"{where}: expected a list of instances, got {type(payload).__name__}")
    if payload and not isinstance(payload[0], list | dict):
        return [payload]  # a single instance sent as a flat list
    return payload


def _row(instance: Any, names: Sequence[str], where: str, path: Path) -> list[Any]:
    if isinstance(instance, dict):
        missing = [name for name in names if name not in instance]
        if missing:
            raise InputError(path, f"{where}: instance lacks feature(s) {missing[:5]}; send every baseline column")
        return [instance[name] for name in names]
    if not isinstance(instance, list):
        raise InputError(path, f"{where}: an instance must be a list or an object, got {type(instance).__name__}")
    return instance


def _decode(endpoint_input: dict[str, Any], where: str, path: Path) -> tuple[str, str]:
    """Return ``("json"|"csv", text)`` for one captured request."""
    data = endpoint_input.get("data")
    encoding = str(endpoint_input.get("encoding", "")).upper()
    content_type = str(endpoint_input.get("observedContentType", "")).lower()
    if not isinstance(data, str):
        raise InputError(path, f"{where}: captureData.endpointInput.data must be a string")
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InputError(path, f"{where}: BASE64 data does not decode to UTF-8 text ({exc})") from None
        encoding = "CSV" if "csv" in content_type else "JSON"
    if encoding not in {"JSON", "CSV"}:
        raise InputError(path, f"{where}: unsupported encoding {encoding or '(missing)'!r}; use JSON, CSV or BASE64")
    return encoding.lower(), data


def read_capture(path: Path, text: str, names: Sequence[str]) -> list[tuple[str, list[Any]]]:
    """Parse a data-capture file into ``(where, raw row)`` pairs (values not yet checked)."""
    rows: list[tuple[str, list[Any]]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {line_no}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"{where}: not valid JSON ({exc.msg}); expect one capture record per line") from None
        endpoint_input = record.get("captureData", {}).get("endpointInput") if isinstance(record, dict) else None
        if not isinstance(endpoint_input, dict):
            raise InputError(path, f"{where}: no captureData.endpointInput; is this a SageMaker data-capture file?")
        kind, data = _decode(endpoint_input, where, path)
        if kind == "csv":
            rows.extend((where, [cell.strip() for cell in row]) for row in csv.reader(io.StringIO(data)) if row)
            continue
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"{where}: endpointInput.data is not valid JSON ({exc.msg})") from None
        rows.extend((where, _row(instance, names, where, path)) for instance in _instances(payload, where, path))
    return rows
