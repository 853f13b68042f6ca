"""The CloudWatch dashboard body of a stack's model endpoints, built from data (pure, snapshot-testable).

One row per endpoint: a title, then invocations, errors (4XX/5XX), model latency p50/p99 (converted
from CloudWatch's microseconds to milliseconds by metric math) and instance utilization (CPU,
memory, disk and, for GPU variants, GPU), each broken down by variant.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.aws.endpoint_alarms import INSTANCE_NAMESPACE, INVOCATION_NAMESPACE

WIDGET_WIDTH = 6
WIDGET_HEIGHT = 6
TITLE_HEIGHT = 1


@dataclass(frozen=True)
class DashboardEndpoint:
    """What the dashboard shows for one endpoint."""

    endpoint_name: str
    variants: tuple[str, ...]
    gpu: bool = False


def console_url(region: str, dashboard_name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={dashboard_name}"


def _metric(namespace: str, metric: str, endpoint: str, variant: str, **extra: Any) -> list[Any]:
    return [namespace, metric, "EndpointName", endpoint, "VariantName", variant, extra]


def _widget(title: str, metrics: list[Any], region: str, x: int, y: int, *, stat: str = "Sum",
            unit_label: str = "", period: int = 60) -> dict[str, Any]:
    properties: dict[str, Any] = {"title": title, "metrics": metrics, "region": region, "view": "timeSeries",
                                  "stacked": False, "stat": stat, "period": period}
    if unit_label:
        properties["yAxis"] = {"left": {"label": unit_label, "showUnits": False, "min": 0}}
    return {"type": "metric", "x": x, "y": y, "width": WIDGET_WIDTH, "height": WIDGET_HEIGHT,
            "properties": properties}


def _row(endpoint: DashboardEndpoint, region: str, y: int) -> list[dict[str, Any]]:
    name, variants = endpoint.endpoint_name, endpoint.variants
    invocations = [_metric(INVOCATION_NAMESPACE, "Invocations", name, v, label=f"{v}") for v in variants]
    errors = [_metric(INVOCATION_NAMESPACE, f"Invocation{code}Errors", name, v, label=f"{v} {code}")
              for v in variants for code in ("4XX", "5XX")]
    latency: list[Any] = []
    for i, v in enumerate(variants):
        for stat in ("p50", "p99"):
            raw = f"{stat}{i}"
            latency.append(_metric(INVOCATION_NAMESPACE, "ModelLatency", name, v, stat=stat, id=raw, visible=False))
            latency.append([{"expression": f"{raw} / 1000", "label": f"{v} {stat} (ms)", "id": f"ms{stat}{i}"}])
    usage = ["CPUUtilization", "MemoryUtilization", "DiskUtilization", *(["GPUUtilization"] if endpoint.gpu else [])]
    utilization = [_metric(INSTANCE_NAMESPACE, m, name, v, label=f"{v} {m.removesuffix('Utilization')}")
                   for v in variants for m in usage]
    return [
        {"type": "text", "x": 0, "y": y, "width": 4 * WIDGET_WIDTH, "height": TITLE_HEIGHT,
         "properties": {"markdown": f"## {name}"}},
        _widget("Invocations", invocations, region, 0, y + TITLE_HEIGHT, unit_label="requests / min"),
        _widget("Errors", errors, region, WIDGET_WIDTH, y + TITLE_HEIGHT, unit_label="errors / min"),
        _widget("Model latency p50 / p99", latency, region, 2 * WIDGET_WIDTH, y + TITLE_HEIGHT, stat="p99",
                unit_label="ms"),
        _widget("Utilization", utilization, region, 3 * WIDGET_WIDTH, y + TITLE_HEIGHT, stat="Average",
                unit_label="percent (x cores / GPUs)", period=300),
    ]


def dashboard_body(region: str, endpoints: Sequence[DashboardEndpoint]) -> str:
    """The dashboard JSON: one row per endpoint, in the order given (deterministic)."""
    widgets: list[dict[str, Any]] = []
    for index, endpoint in enumerate(endpoints):
        widgets += _row(endpoint, region, index * (TITLE_HEIGHT + WIDGET_HEIGHT))
    if not widgets:
        widgets = [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 2,
                    "properties": {"markdown": "No model endpoints are monitored in this stack yet."}}]
    return json.dumps({"widgets": widgets}, sort_keys=True, separators=(",", ":"))
