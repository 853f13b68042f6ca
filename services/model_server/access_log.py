"""Structured JSON logging: one line per request, plus lifecycle events.

Every line is a JSON object with ``ts`` (UTC, ISO 8601), ``level`` and ``event``. Request lines
add ``request_id``, ``method``, ``route`` (the route template, not the raw path), ``path``,
``status``, ``model_version``, ``latency_ms`` and, when relevant, ``rows`` and ``error``.
Lines go to a binary stream (stdout by default) where container runtimes collect them. While the
server runs (``start`` .. ``close``) lines are queued and one writer thread writes them together
every ``FLUSH_SECONDS``: one ``write`` per interval instead of a write and flush per request, and a
slow log reader blocks that thread, never the event loop. Before ``start`` and after ``close``
lines are written at once. A killed process (SIGKILL) loses at most the last interval's lines.
"""

from __future__ import annotations

import itertools
import random
import sys
import threading
import time
import uuid
from collections import deque
from typing import Any, BinaryIO

import orjson

# Request-id headers, most specific first: ours, then what SageMaker forwards (InferenceId).
REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-sagemaker-inference-id", "x-amzn-requestid", "x-amzn-trace-id")
MAX_REQUEST_ID_LENGTH = 128
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
FLUSH_SECONDS = 0.05
# Generated request ids need uniqueness, not secrecy: a random UUID4 prefix per process, then a counter.
_ID_PREFIX = str(uuid.uuid4())[:24]
_id_counter = itertools.count(random.SystemRandom().getrandbits(40))


def request_id_from(headers: dict[str, str]) -> str:
    """The caller's request id if it sent a usable one, else a fresh UUID4."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name, "").strip()
        if value and len(value) <= MAX_REQUEST_ID_LENGTH and value.isprintable():
            return value
    return new_request_id()


def new_request_id() -> str:
    """A UUID4-formatted id: a random per-process prefix and a counter (unique, cheap, no syscall)."""
    return f"{_ID_PREFIX}{next(_id_counter):012x}"


class JsonLog:
    """Writes JSON lines at or above ``level`` to ``stream``; buffered by a thread between start and close."""

    def __init__(self, stream: BinaryIO | None = None, level: str = "info") -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer
        self.threshold = LEVELS[level]
        self._queue: deque[bytes] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Queue lines from now on; a daemon thread writes them every ``FLUSH_SECONDS``."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="json-log", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Write what is queued, stop the thread; later lines are written at once."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(5.0)
        self._drain()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self._drain()

    def _drain(self) -> None:
        queue = self._queue
        if not queue:
            return
        lines = []
        while queue:
            lines.append(queue.popleft())
        self.stream.write(b"".join(lines))
        self.stream.flush()

    def _emit(self, line: bytes) -> None:
        self._queue.append(line)
        if self._thread is None:
            self._drain()

    def event(self, event: str, level: str = "info", **fields: Any) -> None:
        """Write one line ``{"ts", "level", "event", **fields}`` if ``level`` passes the threshold."""
        if LEVELS[level] < self.threshold:
            return
        record = {"ts": timestamp(), "level": level, "event": event, **fields}
        self._emit(orjson.dumps(record, default=str) + b"\n")

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
        """The one line written for every HTTP request (built in one dict: this runs per request)."""
        level = "error" if status >= 500 else "warning" if status >= 400 else "info"
        if LEVELS[level] < self.threshold:
            return
        record: dict[str, Any] = {
            "ts": timestamp(),
            "level": level,
            "event": "request",
            "request_id": request_id,
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "model_version": model_version,
            "latency_ms": round(latency_ms, 3),
        }
        if rows is not None:
            record["rows"] = rows
        if error is not None:
            record["error"] = error
        self._emit(orjson.dumps(record) + b"\n")


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def timestamp() -> str:
    """Now in UTC as ISO 8601 with milliseconds and ``Z``; the date part is formatted once a second."""
    now = time.time()
    second = int(now)
    if _second[0] != second:
        _second[0], _second[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second[1]}.{int((now - second) * 1000):03d}Z"
