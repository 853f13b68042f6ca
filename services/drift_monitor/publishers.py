"""Publish a drift report as metrics, behind one small interface.

CloudWatch (``CloudWatchPublisher``), namespace ``MLOps/DriftMonitor`` by default, with the
caller's dimensions (e.g. ``Endpoint=fraud-prod``) on every datum:

=======================  =========================  ======================================
metric                   extra dimensions           value
=======================  =========================  ======================================
``DriftDetected``        none                       1 if any feature drifted, else 0
``DriftedFeatureCount``  none                       number of drifted features
``FeatureDrifted``       ``Feature=<name>``         1 or 0
``FeaturePSI``           ``Feature=<name>``         population stability index
``FeatureKSStatistic``   ``Feature=<name>``         KS distance
``FeatureKSPValue``      ``Feature=<name>``         adjusted KS p-value
=======================  =========================  ======================================

Prometheus Pushgateway (``PushgatewayPublisher``): the same values as gauges
``mlops_drift_detected``, ``mlops_drift_drifted_features`` and
``mlops_drift_feature_{drifted,psi,ks_statistic,ks_pvalue}{feature="<name>"}``, pushed (HTTP PUT,
replacing the group) under ``job`` (default ``drift_monitor``) and the caller's grouping key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from services.drift_monitor.detector import DriftReport

DEFAULT_NAMESPACE = "MLOps/DriftMonitor"
DEFAULT_JOB = "drift_monitor"
CLOUDWATCH_BATCH = 20  # the long-standing per-call limit; newer accounts allow more, none fewer


class MetricsPublisher(Protocol):
    """Anything that can publish a drift report somewhere."""

    def publish(self, report: DriftReport) -> None:
        """Send the report's metrics; raise on failure."""
        ...


def _values(report: DriftReport) -> Iterator[tuple[str, str | None, float]]:
    """``(metric, feature or None, value)`` for every number published."""
    yield "DriftDetected", None, float(report.drift_detected)
    yield "DriftedFeatureCount", None, float(len(report.drifted_features))
    for feature in report.features:
        yield "FeatureDrifted", feature.name, float(feature.drifted)
        yield "FeaturePSI", feature.name, feature.psi
        yield "FeatureKSStatistic", feature.name, feature.ks_statistic
        yield "FeatureKSPValue", feature.name, feature.ks_pvalue_adjusted


class CloudWatchPublisher:
    """Publish to CloudWatch with ``put_metric_data`` (batched)."""

    def __init__(
        self,
        namespace: str = DEFAULT_NAMESPACE,
        dimensions: Mapping[str, str] | None = None,
        client: Any | None = None,
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("cloudwatch")
        self.namespace = namespace
        self.dimensions = dict(dimensions or {})
        self.client = client

    def metric_data(self, report: DriftReport) -> list[dict[str, Any]]:
        """The ``MetricData`` entries for ``report``."""
        base = [{"Name": key, "Value": value} for key, value in sorted(self.dimensions.items())]
        data = []
        for metric, feature, value in _values(report):
            dimensions = base if feature is None else [*base, {"Name": "Feature", "Value": feature}]
            unit = "Count" if metric in {"DriftDetected", "DriftedFeatureCount", "FeatureDrifted"} else "None"
            data.append({"MetricName": metric, "Dimensions": dimensions, "Value": value, "Unit": unit})
        return data

    def publish(self, report: DriftReport) -> None:
        """Send all metrics, ``CLOUDWATCH_BATCH`` per call."""
        data = self.metric_data(report)
        for start in range(0, len(data), CLOUDWATCH_BATCH):
            self.client.put_metric_data(Namespace=self.namespace, MetricData=data[start : start + CLOUDWATCH_BATCH])


_GAUGES: dict[str, tuple[str, str]] = {
    "DriftDetected": ("mlops_drift_detected", "1 if any feature drifted in the last run"),
    "DriftedFeatureCount": ("mlops_drift_drifted_features", "Number of drifted features in the last run"),
    "FeatureDrifted": ("mlops_drift_feature_drifted", "1 if the feature drifted in the last run"),
    "FeaturePSI": ("mlops_drift_feature_psi", "Population stability index of the feature"),
    "FeatureKSStatistic": ("mlops_drift_feature_ks_statistic", "Two-sample Kolmogorov-Smirnov distance"),
    "FeatureKSPValue": ("mlops_drift_feature_ks_pvalue", "KS p-value adjusted across features"),
}


class PushgatewayPublisher:
    """Push gauges to a Prometheus Pushgateway with ``prometheus_client.push_to_gateway``."""

    def __init__(
        self,
        gateway: str,
        job: str = DEFAULT_JOB,
        grouping_key: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.gateway = gateway
        self.job = job
        self.grouping_key = dict(grouping_key or {})
        self.timeout = timeout

    def registry(self, report: DriftReport) -> Any:
        """A fresh registry holding the report's gauges."""
        from prometheus_client import CollectorRegistry, Gauge

        registry = CollectorRegistry()
        gauges = {}
        for key, (name, doc) in _GAUGES.items():
            labels = ["feature"] if key.startswith("Feature") else []
            gauges[key] = Gauge(name, doc, labels, registry=registry)
        for metric, feature, value in _values(report):
            gauge = gauges[metric]
            (gauge if feature is None else gauge.labels(feature=feature)).set(value)
        return registry

    def publish(self, report: DriftReport) -> None:
        """PUT the gauges to the gateway (replacing this job/grouping key's previous values)."""
        from prometheus_client import push_to_gateway

        push_to_gateway(
            self.gateway,
            job=self.job,
            registry=self.registry(report),
            grouping_key=self.grouping_key,
            timeout=self.timeout,
        )
