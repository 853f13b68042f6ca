"""Prometheus metrics: traffic, latency, what the model predicts and what it is fed.

Request counters and latency histograms use prometheus_client directly. Per-feature input summaries
and the prediction-probability histogram are kept as numpy arrays updated once per micro-batch and
exposed by a custom collector, so watching 30 features costs a few vector operations per batch
instead of 30 Python calls per row. Scrape ``GET /metrics``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

from services.model_server.artifact import ModelMetadata
from services.model_server.model import Predictions

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
PROBABILITY_BUCKETS = np.round(np.linspace(0.1, 1.0, 10), 2)


class ModelStatsCollector(Collector):
    """Running per-feature input summaries and per-class probability histograms for one model."""

    def __init__(self, metadata: ModelMetadata) -> None:
        self._metadata = metadata
        self._lock = threading.Lock()
        n_features, n_classes = len(metadata.feature_names), len(metadata.class_labels)
        self._rows = 0
        self._sum = np.zeros(n_features)
        self._sum_squares = np.zeros(n_features)
        self._min = np.full(n_features, np.inf)
        self._max = np.full(n_features, -np.inf)
        self._bucket_counts = np.zeros((n_classes, len(PROBABILITY_BUCKETS)), dtype=np.int64)
        self._probability_sum = np.zeros(n_classes)

    def observe(self, rows: np.ndarray, predictions: Predictions) -> None:
        """Fold one batch of inputs and its predictions into the running statistics."""
        rows = rows.astype(np.float64, copy=False)
        probabilities = predictions.probabilities.astype(np.float64, copy=False)
        # cumulative "le" counts: a probability p falls into every bucket whose bound is >= p
        in_bucket = probabilities[:, :, None] <= PROBABILITY_BUCKETS[None, None, :]
        with self._lock:
            self._rows += rows.shape[0]
            self._sum += rows.sum(axis=0)
            self._sum_squares += np.square(rows).sum(axis=0)
            np.minimum(self._min, rows.min(axis=0), out=self._min)
            np.maximum(self._max, rows.max(axis=0), out=self._max)
            self._bucket_counts += in_bucket.sum(axis=0)
            self._probability_sum += probabilities.sum(axis=0)

    def collect(self) -> Iterator[Metric]:
        meta = self._metadata
        version = meta.version
        with self._lock:
            rows = self._rows
            sums, squares = self._sum.copy(), self._sum_squares.copy()
            minimum, maximum = self._min.copy(), self._max.copy()
            buckets, probability_sum = self._bucket_counts.copy(), self._probability_sum.copy()
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
            bounds = [(f"{b:g}", int(n)) for b, n in zip(PROBABILITY_BUCKETS, buckets[c], strict=True)]
            bounds[-1] = ("+Inf", rows)
            histogram.add_metric([version, str(label)], bounds, sum_value=float(probability_sum[c]))
        yield from (summary, sum_squares, low, high, histogram)


class ServerMetrics:
    """All metrics of one server instance, in their own registry (no global state)."""

    def __init__(self, metadata: ModelMetadata, provider: str) -> None:
        self.registry = CollectorRegistry()
        self.version = metadata.version
        self.requests = Counter(
            "model_server_requests",
            "HTTP requests by route, method, status and model version.",
            ["route", "method", "status", "model_version"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "model_server_request_duration_seconds",
            "Time from request start to response sent, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inference_seconds = Histogram(
            "model_server_inference_duration_seconds",
            "ONNX Runtime time per micro-batch.",
            ["model_version"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "model_server_batch_rows",
            "Rows per micro-batch sent to ONNX Runtime.",
            ["model_version"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "model_predictions",
            "Predicted labels, per row.",
            ["model_version", "label"],
            registry=self.registry,
        )
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
        info = Gauge(
            "model_server_model_info",
            "The loaded model (value is always 1).",
            ["model_name", "model_version", "execution_provider"],
            registry=self.registry,
        )
        info.labels(metadata.name, metadata.version, provider).set(1)
        self.stats = ModelStatsCollector(metadata)
        self.registry.register(self.stats)
        self._inference = self.inference_seconds.labels(self.version)
        self._batch = self.batch_rows.labels(self.version)
        self._label_counters = {
            label: self.predictions.labels(self.version, str(label)) for label in metadata.class_labels
        }

    def observe_batch(self, rows: np.ndarray, predictions: Predictions, seconds: float) -> None:
        """Record one ONNX Runtime call: its latency, size, inputs and predictions."""
        self._inference.observe(seconds)
        self._batch.observe(rows.shape[0])
        self.stats.observe(rows, predictions)
        labels, counts = np.unique(np.asarray(predictions.labels, dtype=object), return_counts=True)
        for label, count in zip(labels.tolist(), counts.tolist(), strict=True):
            self._label_counters[label].inc(count)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one finished HTTP request."""
        self.requests.labels(route, method, str(status), self.version).inc()
        self.request_seconds.labels(route).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of everything above."""
        return generate_latest(self.registry)
