"""Structured JSON logging: one line per request, plus lifecycle events.

Every line is a JSON object with ``ts`` (UTC, ISO 8601), ``level`` and ``event``. Request lines
add ``request_id``, ``method``, ``route`` (the route template, not the raw path), ``path``,
``status``, ``model_version``, ``latency_ms`` and, when relevant, ``rows`` and ``error``.
Lines go straight to a binary stream (stdout by default) where container runtimes collect them.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson

# Request-id headers, most specific first: ours, then what SageMaker forwards (InferenceId).
REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-sagemaker-inference-id", "x-amzn-requestid", "x-amzn-trace-id")
MAX_REQUEST_ID_LENGTH = 128
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def request_id_from(headers: dict[str, str]) -> str:
    """The caller's request id if it sent a usable one, else a fresh UUID4."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name, "").strip()
        if value and len(value) <= MAX_REQUEST_ID_LENGTH and value.isprintable():
            return value
    return str(uuid.uuid4())


class JsonLog:
    """Writes JSON lines at or above ``level`` to ``stream``."""

    def __init__(self, stream: BinaryIO | None = None, level: str = "info") -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer
        self.threshold = LEVELS[level]

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        """Write one line ``{"ts", "level", "event", **fields}`` if ``level`` passes the threshold."""
        if LEVELS[level] < self.threshold:
            return
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "event": event,
            **fields,
        }
        self.stream.write(orjson.dumps(record, default=str) + b"\n")
        self.stream.flush()

    def request(
        self,
        *,
        request_id: str,
        method: str,
        route: str,
        path: str,
        status: int,
        model_version: str,
        latency_ms: float,
        rows: int | None = None,
        error: str | None = None,
    ) -> None:
        """The one line written for every HTTP request."""
        level = "error" if status >= 500 else "warning" if status >= 400 else "info"
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "model_version": model_version,
            "latency_ms": round(latency_ms, 3),
        }
        if rows is not None:
            fields["rows"] = rows
        if error is not None:
            fields["error"] = error
        self.event("request", level, **fields)
