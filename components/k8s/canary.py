"""Metric-gated canaries by Flagger (pinned Helm release): the controller moves traffic, checks, rolls back.

When a stack's `rollout.strategy` is `canary` or `linear`, a Kubernetes-served service runs in controller
mode. The platform declares one Deployment `<service>` running the live slot (its image and model version),
its HPA, and a Flagger `Canary` on it; Flagger creates `<service>-primary`, the Services and the HTTPRoute.
When the live slot changes (a new image tag or model version, or `live` flipped to the other slot), Flagger
starts the new version as the canary, moves traffic along `components.serving.traffic_steps` one step per
`rollout.waitSeconds`, checks the model server's error rate and p99 latency against the shared thresholds
(`components.monitoring.AlertThresholds`) at each step, and promotes it, or rolls back to the primary after
`max_failed_checks` failed checks. In this mode Flagger's HTTPRoute owns the weights; the stack file's
weights must put everything on the live slot (config rejects anything else).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components import alert_rules
from components.k8s import charts
from components.k8s.charts import release
from components.monitoring import AlertThresholds

ERROR_RATE = "error-rate"
LATENCY_P99 = "latency-p99"
SERVING_DOMAIN = "serving.mlops.internal"
"""Under a controller the route matches by host: `<service>.serving.mlops.internal` (Flagger's HTTPRoute
cannot rewrite a path prefix)."""


@dataclass(frozen=True)
class CanaryAnalysis:
    """How Flagger moves and checks traffic for one service."""

    steps: Sequence[int]
    """Percent on the new version after each step (`traffic_steps`); the last, 100, is the promotion."""
    interval_seconds: int
    """Bake time of each step (`rollout.waitSeconds`, at least 60)."""
    thresholds: AlertThresholds
    prometheus_url: str
    max_failed_checks: int = 2
    """Failed metric checks before Flagger rolls back."""
    progress_deadline_seconds: int = 1800
    """A canary pod waits for a GPU node (autoscaler, boot, image pull) before it counts as stuck."""


CANARY_PODS = 'namespace="{{ namespace }}",pod=~"{{ target }}-[a-z0-9]+-[a-z0-9]+"'
"""The canary's pods belong to the Deployment `<service>` (`<service>-<template hash>-<suffix>`); the primary's
are `<service>-primary-<hash>-<suffix>` and do not match (PromQL regexes are anchored). Flagger fills in
`{{ namespace }}`, `{{ target }}` and `{{ interval }}`."""


def _zero_when_idle(query: str) -> str:
    """The query's value, or 0 when it has none (no series) or is NaN (0/0: pods that served nothing).

    Flagger counts "no values found" as a failed check and rolls back after `threshold` of them
    (pkg/controller/scheduler_metrics.go): an idle service would never get a new version through. Like the
    SageMaker guardrail alarms (missing data is not breaching), no traffic is no evidence against the canary.
    """
    return f"(({query}) >= 0) or on() vector(0)"


def metric_templates(namespace: str, prometheus_url: str) -> list[dict[str, Any]]:
    """Error rate (percent of prediction requests with 5XX) and p99 latency (ms) of the canary's pods."""
    predictions = f'{CANARY_PODS},route!~"{alert_rules.NOT_PREDICTIONS}"'
    window = "[{{ interval }}]"
    # A healthy canary has no 5XX series at all (a labelled counter exists once observed): 0 errors, not none.
    errors = f'sum(rate({alert_rules.REQUESTS}{{{predictions},status=~"5.."}}{window})) or on() vector(0)'
    queries = {
        ERROR_RATE: _zero_when_idle(f"100 * ({errors}) / sum(rate({alert_rules.REQUESTS}{{{predictions}}}{window}))"),
        LATENCY_P99: _zero_when_idle(f"1000 * histogram_quantile(0.99, sum by (le) "
                                     f"(rate({alert_rules.DURATION_BUCKETS}{{{predictions}}}{window})))"),
    }
    return [{"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate",
             "metadata": {"name": name, "namespace": namespace},
             "spec": {"provider": {"type": "prometheus", "address": prometheus_url}, "query": query}}
            for name, query in queries.items()]


def canary(service: str, namespace: str, port: int, analysis: CanaryAnalysis, gateway: tuple[str, str],
           labels: dict[str, str]) -> dict[str, Any]:
    """The Flagger Canary of the service's Deployment and HPA (both named `service`)."""
    interval = f"{max(analysis.interval_seconds, 60)}s"

    def check(name: str, limit: float) -> dict[str, Any]:
        return {"name": name, "templateRef": {"name": name, "namespace": namespace},
                "thresholdRange": {"max": limit}, "interval": interval}

    return {
        "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "metadata": {"name": service, "namespace": namespace, "labels": labels},
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service},
            "autoscalerRef": {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "name": service},
            "progressDeadlineSeconds": analysis.progress_deadline_seconds,
            "service": {"port": 80, "targetPort": port, "hosts": [f"{service}.{SERVING_DOMAIN}"],
                        "gatewayRefs": [{"name": gateway[1], "namespace": gateway[0]}]},
            "analysis": {
                "interval": interval, "threshold": analysis.max_failed_checks,
                "stepWeights": [step for step in analysis.steps if step < 100],
                "metrics": [check(ERROR_RATE, analysis.thresholds.error_rate_percent),
                            check(LATENCY_P99, analysis.thresholds.p99_latency_ms)],
            },
        },
    }


def flagger_values(prometheus_url: str) -> dict[str, Any]:
    return {"meshProvider": "gatewayapi:v1", "metricsServer": prometheus_url, "prometheus": {"install": False}}


class CanaryController(pulumi.ComponentResource):
    """Flagger, watching Canaries in every namespace, routing through the Gateway API."""

    release: pulumi.Resource

    def __init__(self, name: str, prometheus_url: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:k8s:CanaryController", name, None, opts)
        self.release = release(f"{name}-flagger", charts.FLAGGER, flagger_values(prometheus_url),
                               pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
