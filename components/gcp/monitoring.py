"""Monitoring (GCP): email notification channels, alert policies per Vertex AI endpoint, one dashboard.

Policies per endpoint, on Vertex AI's own metrics (resource `aiplatform.googleapis.com/Endpoint`,
cloud.google.com/monitoring/api/metrics_gcp_a_b#gcp-aiplatform):
- error rate: `prediction/online/error_count` over `prediction/online/prediction_count` above the stack's
  error-rate percent;
- p99 latency: the 99th percentile of `prediction/online/prediction_latencies` (milliseconds) above the
  stack's p99 threshold;
- replica saturation: `prediction/online/replicas` at the deployment's replica ceiling (autoscaling has no
  headroom left).
Drift: a `VertexModelMonitor` per endpoint whose service lists drift features, at the JS-divergence equivalent of
the stack's PSI threshold (components/gcp/model_monitor.py); it alerts the same e-mails and channels.
Every policy and dashboard widget comes from `endpoint_policies` / `dashboard_json`, pure functions of the data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.gcp.model_monitor import VertexModelMonitor, VertexModelMonitorArgs
from components.monitoring import AlertThresholds, DriftSpec

METRIC = "aiplatform.googleapis.com/prediction/online/"
RESOURCE = 'resource.type = "aiplatform.googleapis.com/Endpoint"'
WINDOW = "300s"


@dataclass(frozen=True)
class MonitoredEndpoint:
    service: str
    endpoint_id: str
    """The numeric endpoint id (the metrics' `endpoint_id` resource label)."""
    max_replicas: int
    endpoint_name: pulumi.Input[str] = ""
    """`projects/<p>/locations/<r>/endpoints/<id>` (the drift job watches it)."""
    deployed_model_ids: pulumi.Input[Mapping[str, str]] | None = None
    drift: DriftSpec | None = None
    """Features, PSI threshold and schedule; no job without features."""


@dataclass(frozen=True)
class Policy:
    """One alert policy, as data."""

    role: str
    display_name: str
    filter: str
    threshold: float
    aligner: str
    denominator_filter: str | None = None
    reducer: str = "REDUCE_SUM"


def _filter(metric: str, endpoint_id: str) -> str:
    return f'metric.type = "{METRIC}{metric}" AND {RESOURCE} AND resource.label.endpoint_id = "{endpoint_id}"'


def endpoint_policies(endpoint: MonitoredEndpoint, thresholds: AlertThresholds) -> list[Policy]:
    svc, eid = endpoint.service, endpoint.endpoint_id
    return [
        Policy("errors", f"{svc}: error rate above {thresholds.error_rate_percent}%", _filter("error_count", eid),
               thresholds.error_rate_percent / 100, "ALIGN_DELTA", _filter("prediction_count", eid)),
        Policy("latency", f"{svc}: p99 latency above {thresholds.p99_latency_ms} ms",
               _filter("prediction_latencies", eid), float(thresholds.p99_latency_ms), "ALIGN_PERCENTILE_99",
               reducer="REDUCE_MAX"),
        Policy("saturation", f"{svc}: replicas at the ceiling ({endpoint.max_replicas})", _filter("replicas", eid),
               endpoint.max_replicas - 0.5, "ALIGN_MAX", reducer="REDUCE_MAX"),
    ]


def dashboard_json(title: str, endpoints: Sequence[MonitoredEndpoint]) -> str:
    charts = [("Predictions / s", "prediction_count", "ALIGN_RATE"), ("Errors / s", "error_count", "ALIGN_RATE"),
              ("p99 latency (ms)", "prediction_latencies", "ALIGN_PERCENTILE_99"),
              ("Replicas", "replicas", "ALIGN_MAX")]
    tiles = []
    for row, endpoint in enumerate(endpoints):
        for col, (label, metric, aligner) in enumerate(charts):
            tiles.append({"xPos": col * 12, "yPos": row * 16, "width": 12, "height": 16, "widget": {
                "title": f"{endpoint.service}: {label}",
                "xyChart": {"dataSets": [{"plotType": "LINE", "timeSeriesQuery": {"timeSeriesFilter": {
                    "filter": _filter(metric, endpoint.endpoint_id),
                    "aggregation": {"alignmentPeriod": "60s", "perSeriesAligner": aligner,
                                    "crossSeriesReducer": "REDUCE_SUM" if aligner == "ALIGN_RATE" else "REDUCE_MAX",
                                    "groupByFields": ["metric.label.deployed_model_id"]}}}}]}}})
    return json.dumps({"displayName": title, "mosaicLayout": {"columns": 48, "tiles": tiles}}, sort_keys=True)


@dataclass(frozen=True)
class MonitoringArgs:
    project: str
    title: str
    endpoints: Sequence[MonitoredEndpoint]
    thresholds: AlertThresholds
    alert_emails: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    region: str = ""
    model_monitor: bool = True
    """Run Vertex AI Model Monitoring drift jobs (monitoring.modelMonitor)."""
    drift_sample_rate: float = 1.0
    """Share of logged requests the drift job analyses."""
    kms_key_id: pulumi.Input[str] | None = None


class Monitoring(pulumi.ComponentResource):
    channel_ids: list[pulumi.Output[str]]
    dashboard_url: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        channels = [gcp.monitoring.NotificationChannel(
            f"{name}-email-{i}", project=args.project, type="email", display_name=f"mlops alerts: {email}",
            labels={"email_address": email}, user_labels=dict(args.labels), opts=child)
            for i, email in enumerate(args.alert_emails)]
        self.channel_ids = [c.id for c in channels]
        for endpoint in args.endpoints:
            for policy in endpoint_policies(endpoint, args.thresholds):
                self._policy(f"{name}-{endpoint.service}-{policy.role}", args.project, policy,
                             {**args.labels, "service": endpoint.service}, child)
        for endpoint in args.endpoints:
            if args.model_monitor and endpoint.drift and endpoint.drift.features:
                VertexModelMonitor(f"{name}-{endpoint.service}-drift", VertexModelMonitorArgs(
                    project=args.project, region=args.region, endpoint=endpoint.endpoint_name,
                    display_name=f"{args.title}-{endpoint.service}-drift",
                    deployed_model_ids=endpoint.deployed_model_ids or {}, features=endpoint.drift.features,
                    threshold_psi=endpoint.drift.threshold_psi, schedule=endpoint.drift.schedule or "daily",
                    sample_rate=args.drift_sample_rate, emails=args.alert_emails,
                    notification_channels=self.channel_ids, encryption_key=args.kms_key_id,
                    labels={**args.labels, "service": endpoint.service}), opts=child)
        dashboard = gcp.monitoring.Dashboard(f"{name}-dashboard", project=args.project,
                                             dashboard_json=dashboard_json(args.title, args.endpoints), opts=child)
        self.dashboard_url = dashboard.id.apply(
            lambda i: f"https://console.cloud.google.com/monitoring/dashboards/custom/{i.rsplit('/', 1)[-1]}"
                      f"?project={args.project}")
        self.register_outputs({"dashboard_url": self.dashboard_url, "channel_ids": self.channel_ids})

    def _policy(self, name: str, project: str, policy: Policy, labels: Mapping[str, str],
                opts: pulumi.ResourceOptions) -> None:
        def aggregation(aligner: str) -> gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs:
            return gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                alignment_period=WINDOW, per_series_aligner=aligner, cross_series_reducer=policy.reducer)
        gcp.monitoring.AlertPolicy(
            name, project=project, display_name=policy.display_name, combiner="OR", severity="ERROR",
            notification_channels=self.channel_ids, user_labels=dict(labels),
            conditions=[gcp.monitoring.AlertPolicyConditionArgs(
                display_name=policy.display_name,
                condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                    filter=policy.filter, comparison="COMPARISON_GT", threshold_value=policy.threshold,
                    duration=WINDOW, aggregations=[aggregation(policy.aligner)],
                    denominator_filter=policy.denominator_filter,
                    denominator_aggregations=[aggregation(policy.aligner)] if policy.denominator_filter else None))],
            alert_strategy=gcp.monitoring.AlertPolicyAlertStrategyArgs(auto_close="1800s"), opts=opts)
