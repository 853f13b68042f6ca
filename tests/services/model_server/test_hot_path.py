"""What the per-request work was traded for stays correct: buffered logs, lazily folded metrics, ids."""

from __future__ import annotations

import io
import json
import re
import uuid

import numpy as np

from services.model_server.access_log import JsonLog, new_request_id, timestamp
from services.model_server.artifact import ModelMetadata
from services.model_server.metrics import FOLD_BATCHES, ServerMetrics
from services.model_server.model import Predictions


class CountingStream(io.BytesIO):
    """A stream that counts writes, like a pipe to the container runtime counts syscalls."""

    writes = 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        return super().write(data)


def request_line(log: JsonLog, i: int) -> None:
    log.request(
        request_id=f"r-{i}",
        method="POST",
        route="/invocations",
        path="/invocations",
        status=200,
        model_version="7",
        latency_ms=0.2,
        rows=1,
    )


def test_request_lines_are_written_together_and_none_are_lost_at_shutdown() -> None:
    stream = CountingStream()
    log = JsonLog(stream)
    log.start()
    for i in range(500):
        request_line(log, i)
    log.event("stopped")
    log.close()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines[:-1]] == [f"r-{i}" for i in range(500)]
    assert lines[-1]["event"] == "stopped"
    assert stream.writes < 50, "one write per request would cost a syscall per request"


def test_lines_before_start_and_after_close_are_written_at_once() -> None:
    stream = io.BytesIO()
    log = JsonLog(stream)
    log.event("model_loaded")
    assert b"model_loaded" in stream.getvalue()
    log.start()
    log.close()
    request_line(log, 1)
    assert b'"r-1"' in stream.getvalue()


def test_generated_request_ids_are_distinct_uuid4s_and_timestamps_are_iso_utc() -> None:
    ids = [new_request_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", timestamp())


def scrape(metrics: ServerMetrics) -> dict[str, float]:
    values = {}
    for line in metrics.render().decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_batches_folded_lazily_add_up_exactly_at_scrape() -> None:
    meta = ModelMetadata(
        name="m",
        version="3",
        feature_names=["a", "b"],
        input_name="x",
        output_names=["p"],
        task="classification",
        class_labels=[0, 1],
    )
    metrics = ServerMetrics(meta, "CPUExecutionProvider")
    rng = np.random.default_rng(0)
    batches = FOLD_BATCHES + 37  # one fold on the way, the rest folded by the scrape
    seen, ones = [], 0
    for _ in range(batches):
        rows = rng.normal(size=(3, 2))
        p1 = rng.uniform(size=3).astype(np.float32)
        probabilities = np.stack([1 - p1, p1], axis=1)
        ones += int((p1 > 0.5).sum())
        seen.append(rows)
        metrics.observe_batch(rows, Predictions(list((p1 > 0.5).astype(int)), probabilities), 0.0007)
        metrics.observe_request("/invocations", "POST", 200, 0.0009)
    everything = np.concatenate(seen)
    values = scrape(metrics)
    assert values['model_input_feature_count{feature="a",model_version="3"}'] == batches * 3
    assert np.isclose(values['model_input_feature_sum{feature="b",model_version="3"}'], everything[:, 1].sum())
    assert values['model_input_feature_max{feature="a",model_version="3"}'] == everything[:, 0].max()
    assert values['model_predictions_total{label="1",model_version="3"}'] == ones
    assert values['model_server_batch_rows_bucket{le="4.0",model_version="3"}'] == batches
    assert values['model_server_batch_rows_bucket{le="2.0",model_version="3"}'] == 0
    assert values['model_server_inference_duration_seconds_bucket{le="0.001",model_version="3"}'] == batches
    assert values['model_server_inference_duration_seconds_bucket{le="0.0005",model_version="3"}'] == 0
    assert values['model_prediction_probability_bucket{class_label="1",le="+Inf",model_version="3"}'] == batches * 3
    key = 'model_server_requests_total{method="POST",model_version="3",route="/invocations",status="200"}'
    assert values[key] == batches
    assert values['model_server_request_duration_seconds_bucket{le="0.001",route="/invocations"}'] == batches
    assert values['model_server_request_duration_seconds_bucket{le="0.0005",route="/invocations"}'] == 0
