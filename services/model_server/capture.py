"""Sampled prediction capture in SageMaker's data-capture JSON Lines format.

Each captured request becomes one line::

    {"captureData": {"endpointInput":  {"observedContentType", "mode": "INPUT",  "data", "encoding"},
                     "endpointOutput": {"observedContentType", "mode": "OUTPUT", "data", "encoding"}},
     "eventMetadata": {"eventId", "inferenceTime", "inferenceId"?},
     "eventVersion": "0"}

so SageMaker Model Monitor and ``services.drift_monitor`` read it unchanged. This is the one capture
format of every contract: ``data`` is the request body as sent (SageMaker JSON or CSV with or
without a header, Vertex ``{"instances"}``, Azure ``{"data"}``, V2 JSON tensors; a V2 binary-extension
or gRPC request is handed over as its JSON V2 body), and the monitor reads each (tests/services/drift_monitor/
test_server_capture.py sends every contract through the server and reads the capture back).
``encoding`` is ``JSON`` or ``CSV`` for those content types (data kept as text) and ``BASE64`` otherwise.
Serving never waits on the sink: sampling is a random draw, records go to a bounded queue that one thread
drains every ``POLL_SECONDS`` (serialisation and writes happen there, never on the event loop).
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from services.model_server.payloads import CSV, JSON_TYPES, media_type

MAX_PENDING = 10_000
POLL_SECONDS = 0.2  # how often the writer thread looks at the queue (a sink may still wait for its batch)


def encode_payload(body: bytes, content_type: str | None, mode: str) -> dict[str, str]:
    """One ``endpointInput``/``endpointOutput`` object for ``body`` as observed on the wire."""
    kind = media_type(content_type)
    encoding = "JSON" if kind in JSON_TYPES else "CSV" if kind == CSV else "BASE64"
    if encoding != "BASE64":
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    if encoding == "BASE64":
        data = base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type or "", "mode": mode, "data": data, "encoding": encoding}


def capture_record(
    input_body: bytes,
    input_type: str | None,
    output_body: bytes,
    output_type: str,
    event_id: str,
    inference_time: datetime,
    inference_id: str | None = None,
) -> dict[str, Any]:
    """A SageMaker data-capture record for one request/response pair."""
    metadata: dict[str, str] = {
        "eventId": event_id,
        "inferenceTime": inference_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }
    if inference_id:
        metadata["inferenceId"] = inference_id
    return {
        "captureData": {
            "endpointInput": encode_payload(input_body, input_type, "INPUT"),
            "endpointOutput": encode_payload(output_body, output_type, "OUTPUT"),
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }


class CaptureSink(Protocol):
    """Where captured lines go (services/model_server/sinks.py). ``write`` receives complete JSON lines (with
    trailing newline) and raises when the destination refuses them; ``due`` is the sink's flush policy."""

    def write(self, lines: list[bytes]) -> None: ...

    def due(self, pending: int, seconds_since_write: float) -> bool: ...


class DataCapture:
    """Samples requests and hands them to a sink from a background thread."""

    def __init__(
        self,
        sink: CaptureSink,
        sample_percent: float,
        on_written: Any = None,
        on_dropped: Any = None,
        seed: int | None = None,
    ) -> None:
        self.sink = sink
        self.sample_fraction = sample_percent / 100.0
        self._random = random.Random(seed)
        self._pending: deque[tuple[Any, ...]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._on_written = on_written
        self._on_dropped = on_dropped
        self._on_failed: Any = None
        self._thread = threading.Thread(target=self._run, name="data-capture", daemon=True)
        self.errors = 0

    def report_to(self, on_written: Any, on_dropped: Any, on_failed: Any = None) -> None:
        """Callbacks for records written and records lost to a failed write (both called with the count), and
        records dropped because the queue was full (no argument)."""
        self._on_written, self._on_dropped, self._on_failed = on_written, on_dropped, on_failed

    def start(self) -> None:
        self._thread.start()

    def sampled(self) -> bool:
        """Draw whether the next request is captured."""
        return self.sample_fraction > 0 and self._random.random() < self.sample_fraction

    def offer(
        self,
        input_body: bytes,
        input_type: str | None,
        output_body: bytes,
        output_type: str,
        event_id: str,
        inference_id: str | None,
    ) -> None:
        """Queue one sampled request (serialised later, off the serving path)."""
        if len(self._pending) >= MAX_PENDING:
            if self._on_dropped:
                self._on_dropped()
            return
        self._pending.append(
            (input_body, input_type, output_body, output_type, event_id, datetime.now(UTC), inference_id)
        )
        # No wake-up per record: waking the writer thread hands it the GIL mid-burst, which cost the
        # serving loop more than everything else capture does. It polls every POLL_SECONDS instead.

    def _drain(self, force: bool, last_write: float) -> float:
        if not self._pending or not (force or self.sink.due(len(self._pending), time.monotonic() - last_write)):
            return last_write
        batch = []
        while self._pending:
            batch.append(self._pending.popleft())
        lines = [orjson.dumps(capture_record(*item)) + b"\n" for item in batch]
        try:
            self.sink.write(lines)
        except Exception:  # a sink outage must not take serving down; count it and keep going
            self.errors += 1
            if self._on_failed:
                self._on_failed(len(lines))
            return time.monotonic()
        if self._on_written:
            self._on_written(len(lines))
        return time.monotonic()

    def _run(self) -> None:
        last_write = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(timeout=POLL_SECONDS)
            self._wake.clear()
            last_write = self._drain(force=False, last_write=last_write)
        self._drain(force=True, last_write=last_write)

    def close(self, timeout: float = 10.0) -> None:
        """Flush what is queued and stop the writer thread."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
