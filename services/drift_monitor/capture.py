"""Feature rows from data-capture records (JSON lines), whatever serving contract the request used.

One record per line, SageMaker's data-capture format, written by SageMaker endpoints and by the
platform's model server on every target::

    {"captureData": {"endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                                       "data": "{\\"instances\\": [[1.0, 2.0]]}", "encoding": "JSON"},
                     "endpointOutput": {...}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-12-07T09:00:00.000Z"}, "eventVersion": "0"}

``encoding`` is ``JSON``, ``CSV`` or ``BASE64`` (then ``observedContentType`` says whether the decoded
bytes are CSV or JSON). ``data`` is the request body as sent, in any contract the server answers:

- SageMaker ``/invocations``: ``{"instances": rows}``, ``{"inputs": rows}`` or a bare list (one flat
  list is one row); ``text/csv`` rows with or without the header row;
- Vertex AI predict: ``{"instances": rows, "parameters": ...}``;
- Azure ML scoring: ``{"data": rows}``;
- Open Inference Protocol V2: ``{"inputs": [{"name", "shape": [n, features], "datatype", "data"}]}``
  (the model server captures binary-extension requests as this JSON body).

A row is a list of values in the baseline's column order or an object keyed by feature name. Only
the endpoint *input* is read: drift is measured on features. A record that cannot be read is
skipped and reported with its reason, so one bad request never hides a day of traffic; the CLI
fails only when the skipped share exceeds ``max_unreadable_percent``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ROW_KEYS = ("instances", "data", "inputs")


class UnreadableRecord(ValueError):
    """One capture record the monitor cannot turn into feature rows (the message says why)."""


EXAMPLES = 5
"""Skipped records kept as examples (the count covers them all)."""
SAMPLE_SEED = 0
"""Seed of the row sample: the same capture gives the same report."""


@dataclass
class CaptureRows:
    """What a set of capture files held: feature rows, and the records that could not be read.

    At most ``max_rows`` rows are kept, a uniform sample of every row seen (reservoir sampling,
    seeded), so a busy endpoint's day of capture fits in memory and the tests stay fast.
    """

    max_rows: int | None = None
    rows: list[list[float]] = field(default_factory=list)
    rows_seen: int = 0
    records: int = 0
    unreadable: int = 0
    """Records skipped because they could not be read."""
    examples: list[tuple[str, str]] = field(default_factory=list)
    """``(where, reason)`` of the first ``EXAMPLES`` skipped records, ``where`` being ``<source>: line N``."""
    outside_window: int = 0
    """Records older than the ``since`` cut-off (not counted in ``records``)."""

    _random: random.Random = field(default_factory=lambda: random.Random(SAMPLE_SEED), repr=False)

    def add(self, rows: list[list[float]]) -> None:
        """Keep ``rows`` (or a uniform sample of everything seen once ``max_rows`` is reached)."""
        for row in rows:
            self.rows_seen += 1
            if self.max_rows is None or len(self.rows) < self.max_rows:
                self.rows.append(row)
                continue
            slot = self._random.randrange(self.rows_seen)
            if slot < self.max_rows:
                self.rows[slot] = row

    @property
    def unreadable_percent(self) -> float:
        """Share of records skipped, in percent (0 when there were none)."""
        return 100.0 * self.unreadable / self.records if self.records else 0.0


def _number(value: Any, column: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UnreadableRecord(f"column {column!r}: {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise UnreadableRecord(f"column {column!r}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise UnreadableRecord(f"column {column!r}: {value!r} is not finite")
    return number


def _row(instance: Any, names: Sequence[str]) -> list[float]:
    if isinstance(instance, dict):
        missing = [name for name in names if name not in instance]
        if missing:
            raise UnreadableRecord(f"instance lacks feature(s) {missing[:5]}")
        instance = [instance[name] for name in names]
    if not isinstance(instance, list):
        raise UnreadableRecord(f"an instance must be a list or an object, got {type(instance).__name__}")
    if len(instance) != len(names):
        raise UnreadableRecord(f"an instance has {len(instance)} values but the baseline has {len(names)} columns")
    return [_number(value, name) for value, name in zip(instance, names, strict=True)]


def _flatten(data: Any) -> list[Any]:
    flat: list[Any] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(item)
    return flat


def _v2_rows(tensors: list[Any], names: Sequence[str]) -> list[list[Any]]:
    """Rows of the V2 input tensor shaped ``[rows, features]`` (row-major data, flat or nested)."""
    width = len(names)
    for tensor in tensors:
        shape = tensor.get("shape")
        if isinstance(shape, list) and len(shape) == 2 and shape[1] == width and isinstance(shape[0], int):
            flat = _flatten(tensor.get("data"))
            if len(flat) != shape[0] * width:
                raise UnreadableRecord(f"V2 tensor {tensor.get('name')!r}: {len(flat)} values for shape {shape}")
            return [flat[i : i + width] for i in range(0, len(flat), width)]
    shapes = [t.get("shape") for t in tensors]
    raise UnreadableRecord(f"no V2 input tensor of shape [rows, {width}] (shapes {shapes})")


def json_rows(payload: Any, names: Sequence[str]) -> list[list[Any]]:
    """Raw rows of a JSON request body in any of the contracts listed in the module docstring."""
    if isinstance(payload, dict):
        key = next((k for k in ROW_KEYS if k in payload), None)
        if key is None:
            raise UnreadableRecord(f"JSON body has none of {list(ROW_KEYS)} (keys {sorted(payload)[:5]})")
        payload = payload[key]
        tensors = key == "inputs" and isinstance(payload, list) and bool(payload)
        if tensors and all(isinstance(t, dict) and "shape" in t and "data" in t for t in payload):
            return _v2_rows(payload, names)
    if not isinstance(payload, list) or not payload:
        raise UnreadableRecord(f"expected a non-empty list of instances, got {type(payload).__name__}")
    if not isinstance(payload[0], list | dict):
        return [payload]  # a single instance sent as a flat list
    return payload


def csv_rows(text: str, names: Sequence[str]) -> list[list[Any]]:
    """Raw rows of a ``text/csv`` body; a row equal to the feature names (the header) is skipped."""
    header = [name.strip() for name in names]
    return [
        [cell.strip() for cell in row]
        for row in csv.reader(io.StringIO(text))
        if row and [cell.strip() for cell in row] != header
    ]


def _decode(endpoint_input: dict[str, Any]) -> tuple[str, str]:
    """Return ``("json"|"csv", text)`` for one captured request."""
    data = endpoint_input.get("data")
    encoding = str(endpoint_input.get("encoding", "")).upper()
    content_type = str(endpoint_input.get("observedContentType", "")).lower()
    if not isinstance(data, str):
        raise UnreadableRecord("captureData.endpointInput.data must be a string")
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise UnreadableRecord(f"BASE64 data does not decode to UTF-8 text ({exc})") from None
        encoding = "CSV" if "csv" in content_type else "JSON"
    if encoding not in {"JSON", "CSV"}:
        raise UnreadableRecord(f"unsupported encoding {encoding or '(missing)'!r}; expected JSON, CSV or BASE64")
    return encoding.lower(), data


def parse_time(text: Any) -> datetime | None:
    """``eventMetadata.inferenceTime`` as an aware datetime, or None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def record_rows(line: str, names: Sequence[str], since: datetime | None = None) -> list[list[float]] | None:
    """Feature rows of one capture line; None when it is older than ``since``. Raises UnreadableRecord."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UnreadableRecord(f"not valid JSON ({exc.msg})") from None
    capture = record.get("captureData") if isinstance(record, dict) else None
    endpoint_input = capture.get("endpointInput") if isinstance(capture, dict) else None
    if not isinstance(endpoint_input, dict):
        raise UnreadableRecord("no captureData.endpointInput (not a data-capture record)")
    if since is not None:
        when = parse_time((record.get("eventMetadata") or {}).get("inferenceTime"))
        if when is not None and when < since:
            return None
    kind, data = _decode(endpoint_input)
    if kind == "csv":
        raw = csv_rows(data, names)
    else:
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as exc:
            raise UnreadableRecord(f"endpointInput.data is not valid JSON ({exc.msg})") from None
        raw = json_rows(payload, names)
    if not raw:
        raise UnreadableRecord("the request carried no rows")
    return [_row(instance, names) for instance in raw]


def read_capture(
    sources: Iterable[tuple[str, str]],
    names: Sequence[str],
    since: datetime | None = None,
    location: str = "",
    max_rows: int | None = None,
) -> CaptureRows:
    """Read ``(source name, text)`` capture files; skip (and record) what cannot be read.

    A skipped record's ``where`` names its source relative to ``location`` and its line; with
    ``max_rows``, a seeded uniform sample of that many rows is kept.
    """
    result = CaptureRows(max_rows=max_rows)
    for source, text in sources:
        relative = source[len(location) :].lstrip("/") if location and source.startswith(location) else source
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows = record_rows(line, names, since)
            except UnreadableRecord as exc:
                result.records += 1
                result.unreadable += 1
                if len(result.examples) < EXAMPLES:
                    result.examples.append((f"{relative}: line {line_no}" if relative else f"line {line_no}", str(exc)))
                continue
            if rows is None:
                result.outside_window += 1
                continue
            result.records += 1
            result.add(rows)
    return result
