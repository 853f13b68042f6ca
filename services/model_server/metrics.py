"""Prometheus metrics: traffic, latency, what the model predicts and what it is fed.

Everything on the serving path is a plain Python or numpy update, exposed by custom collectors at
scrape time: per request, a dict increment and a bisect into latency buckets (no prometheus_client
child lookup or lock); per micro-batch, one list append. Batches are folded into per-feature input
summaries, the prediction-probability histogram, label counts and the inference-latency and
batch-size histograms in one vectorised pass every ``FOLD_BATCHES`` batches or at scrape, so
watching 30 features costs a few array operations per hundred batches. Scrape ``GET /metrics``.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from services.model_server.artifact import ModelMetadata
from services.model_server.model import Predictions

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
PROBABILITY_BUCKETS = np.round(np.linspace(0.1, 1.0, 10), 2)
FOLD_BATCHES = 256


def histogram_buckets(bounds: tuple[float, ...] | np.ndarray, counts: list[int] | np.ndarray) -> list[tuple[str, int]]:
    """Cumulative ``(le, count)`` pairs from per-bucket counts (the last count is the +Inf overflow)."""
    cumulative = np.cumsum(np.asarray(counts, dtype=np.int64)).tolist()
    return [(floatToGoString(b), c) for b, c in zip(bounds, cumulative, strict=False)] + [("+Inf", cumulative[-1])]


class RequestStats(Collector):
    """Requests by route, method and status, and request latency by route."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._counts: dict[tuple[str, str, int], int] = {}
        self._latency: dict[str, list[float]] = {}  # per route: bucket counts..., +Inf count, sum

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        buckets = self._latency.get(route)
        if buckets is None:
            buckets = self._latency[route] = [0] * (len(LATENCY_BUCKETS) + 1) + [0.0]
        buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        buckets[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "model_server_requests",
            "HTTP and gRPC requests by route, method, status and model version.",
            labels=["route", "method", "status", "model_version"],
        )
        for (route, method, status), count in sorted(self._counts.items()):
            requests.add_metric([route, method, str(status), self.version], count)
        latency = HistogramMetricFamily(
            "model_server_request_duration_seconds",
            "Time from request start to response sent, by route.",
            labels=["route"],
        )
        for route, buckets in sorted(self._latency.items()):
            latency.add_metric([route], histogram_buckets(LATENCY_BUCKETS, buckets[:-1]), sum_value=buckets[-1])
        yield from (requests, latency)


class ModelStatsCollector(Collector):
    """Per-batch model statistics, folded lazily: inputs, probabilities, labels, batch sizes, ORT time."""

    def __init__(self, metadata: ModelMetadata) -> None:
        self._metadata = metadata
        self._lock = threading.Lock()
        self._pending: list[tuple[np.ndarray, np.ndarray, float]] = []
        n_features, n_classes = len(metadata.feature_names), len(metadata.class_labels)
        self._rows = 0
        self._sum = np.zeros(n_features)
        self._sum_squares = np.zeros(n_features)
        self._min = np.full(n_features, np.inf)
        self._max = np.full(n_features, -np.inf)
        self._bucket_counts = np.zeros((n_classes, len(PROBABILITY_BUCKETS) + 1), dtype=np.int64)
        self._probability_sum = np.zeros(n_classes)
        self._label_counts = np.zeros(n_classes, dtype=np.int64)
        self._batch_counts = np.zeros(len(BATCH_BUCKETS) + 1, dtype=np.int64)
        self._inference_counts = np.zeros(len(LATENCY_BUCKETS) + 1, dtype=np.int64)
        self._inference_sum = 0.0

    def observe(self, rows: np.ndarray, predictions: Predictions, seconds: float = 0.0) -> None:
        """Queue one batch (its inputs, probabilities and ONNX Runtime time); folded later."""
        with self._lock:
            self._pending.append((rows, predictions.probabilities, seconds))
            if len(self._pending) < FOLD_BATCHES:
                return
            pending, self._pending = self._pending, []
            self._fold(pending)

    def _fold(self, pending: list[tuple[np.ndarray, np.ndarray, float]]) -> None:
        """Fold queued batches into the running statistics (caller holds the lock)."""
        if not pending:
            return
        rows = np.concatenate([p[0] for p in pending]).astype(np.float64, copy=False)
        probabilities = np.concatenate([p[1] for p in pending]).astype(np.float64, copy=False)
        sizes = np.fromiter((p[0].shape[0] for p in pending), dtype=np.int64, count=len(pending))
        seconds = np.fromiter((p[2] for p in pending), dtype=np.float64, count=len(pending))
        n_classes = probabilities.shape[1]
        self._rows += rows.shape[0]
        self._sum += rows.sum(axis=0)
        self._sum_squares += np.square(rows).sum(axis=0)
        np.minimum(self._min, rows.min(axis=0), out=self._min)
        np.maximum(self._max, rows.max(axis=0), out=self._max)
        # per-bucket counts: a probability p lands in the first bucket whose bound is >= p
        slots = np.searchsorted(PROBABILITY_BUCKETS, probabilities, side="left")
        for c in range(n_classes):
            self._bucket_counts[c] += np.bincount(slots[:, c], minlength=len(PROBABILITY_BUCKETS) + 1)
        self._probability_sum += probabilities.sum(axis=0)
        self._label_counts += np.bincount(np.argmax(probabilities, axis=1), minlength=n_classes)
        self._batch_counts += np.bincount(
            np.searchsorted(BATCH_BUCKETS, sizes, side="left"), minlength=len(BATCH_BUCKETS) + 1
        )
        self._inference_counts += np.bincount(
            np.searchsorted(LATENCY_BUCKETS, seconds, side="left"), minlength=len(LATENCY_BUCKETS) + 1
        )
        self._inference_sum += float(seconds.sum())

    def collect(self) -> Iterator[Metric]:
        meta = self._metadata
        version = meta.version
        with self._lock:
            pending, self._pending = self._pending, []
            self._fold(pending)
            rows = self._rows
            sums, squares = self._sum.copy(), self._sum_squares.copy()
            minimum, maximum = self._min.copy(), self._max.copy()
            buckets, probability_sum = self._bucket_counts.copy(), self._probability_sum.copy()
            labels, batches = self._label_counts.copy(), self._batch_counts.copy()
            inference, inference_sum = self._inference_counts.copy(), self._inference_sum
        predictions = CounterMetricFamily(
            "model_predictions", "Predicted labels, per row.", labels=["model_version", "label"]
        )
        for c, label in enumerate(meta.class_labels):
            predictions.add_metric([version, str(label)], int(labels[c]))
        inference_seconds = HistogramMetricFamily(
            "model_server_inference_duration_seconds", "ONNX Runtime time per micro-batch.", labels=["model_version"]
        )
        inference_seconds.add_metric([version], histogram_buckets(LATENCY_BUCKETS, inference), sum_value=inference_sum)
        batch_rows = HistogramMetricFamily(
            "model_server_batch_rows", "Rows per micro-batch sent to ONNX Runtime.", labels=["model_version"]
        )
        batch_rows.add_metric([version], histogram_buckets(BATCH_BUCKETS, batches), sum_value=float(rows))
        yield from (predictions, inference_seconds, batch_rows)
        summary = SummaryMetricFamily(
            "model_input_feature",
            "Input feature values seen by the model (count and sum per feature).",
            labels=["model_version", "feature"],
        )
        sum_squares = GaugeMetricFamily(
            "model_input_feature_sum_of_squares",
            "Sum of squared input values per feature (for variance).",
            labels=["model_version", "feature"],
        )
        low = GaugeMetricFamily(
            "model_input_feature_min", "Smallest value seen per feature.", labels=["model_version", "feature"]
        )
        high = GaugeMetricFamily(
            "model_input_feature_max", "Largest value seen per feature.", labels=["model_version", "feature"]
        )
        for i, feature in enumerate(meta.feature_names):
            summary.add_metric([version, feature], count_value=rows, sum_value=float(sums[i]))
            sum_squares.add_metric([version, feature], float(squares[i]))
            if rows:
                low.add_metric([version, feature], float(minimum[i]))
                high.add_metric([version, feature], float(maximum[i]))
        histogram = HistogramMetricFamily(
            "model_prediction_probability",
            "Predicted probability of each class, per row.",
            labels=["model_version", "class_label"],
        )
        for c, label in enumerate(meta.class_labels):
            # bounds 0.1 .. 0.9, then +Inf (probabilities never exceed the last bound, 1.0)
            per_bucket = [*buckets[c][:-2].tolist(), int(buckets[c][-2:].sum())]
            bounds = histogram_buckets(PROBABILITY_BUCKETS[:-1], per_bucket)
            histogram.add_metric([version, str(label)], bounds, sum_value=float(probability_sum[c]))
        yield from (summary, sum_squares, low, high, histogram)


class ServerMetrics:
    """All metrics of one server instance, in their own registry (no global state)."""

    def __init__(self, metadata: ModelMetadata, provider: str) -> None:
        self.registry = CollectorRegistry()
        self.version = metadata.version
        self.captured = Counter(
            "model_server_captured_records",
            "Requests written to the data-capture sink.",
            registry=self.registry,
        )
        self.capture_dropped = Counter(
            "model_server_capture_dropped_records",
            "Sampled requests dropped because the capture queue was full.",
            registry=self.registry,
        )
        self.capture_failed = Counter(
            "model_server_capture_failed_records",
            "Sampled requests lost because the capture sink refused the write (no credentials, no permission, "
            "object exists, store down).",
            registry=self.registry,
        )
        info = Gauge(
            "model_server_model_info",
            "The loaded model (value is always 1).",
            ["model_name", "model_version", "execution_provider"],
            registry=self.registry,
        )
        info.labels(metadata.name, metadata.version, provider).set(1)
        self.requests = RequestStats(metadata.version)
        self.registry.register(self.requests)
        self.stats = ModelStatsCollector(metadata)
        self.registry.register(self.stats)
        self.observe_request = self.requests.observe
        """Record one finished request: ``(route, method, status, seconds)``."""

    def observe_batch(self, rows: np.ndarray, predictions: Predictions, seconds: float) -> None:
        """Record one ONNX Runtime call: its latency, size, inputs and predictions."""
        self.stats.observe(rows, predictions, seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of everything above."""
        return generate_latest(self.registry)
