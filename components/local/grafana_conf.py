"""Grafana's provisioning (datasource, dashboard provider) and the serving dashboard, built from data.

The dashboard is one row per service with the same four panels (traffic per slot, error rate against the alert
threshold, p99 latency against its threshold, drift PSI against the drift threshold), so a new service appears on
`pulumi up` without anyone editing JSON. Queries use the series and labels of `components/alert_rules.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components.alert_rules import DRIFT_PSI, DURATION_BUCKETS, NOT_PREDICTIONS, REQUESTS
from components.monitoring import AlertThresholds

DATASOURCE_UID = "prometheus"
DASHBOARD_UID = "mlops-serving"
DASHBOARDS_DIR = "/etc/grafana/dashboards"


@dataclass(frozen=True)
class Panel:
    title: str
    expr: str
    unit: str
    legend: str
    threshold: float | None = None


def datasources(prometheus_url: str = "http://prometheus:9090") -> dict[str, Any]:
    return {"apiVersion": 1, "datasources": [{
        "name": "Prometheus", "uid": DATASOURCE_UID, "type": "prometheus", "access": "proxy",
        "url": prometheus_url, "isDefault": True, "editable": False}]}


def dashboard_providers() -> dict[str, Any]:
    return {"apiVersion": 1, "providers": [{
        "name": "mlops-platform", "type": "file", "disableDeletion": True, "allowUiUpdates": False,
        "options": {"path": DASHBOARDS_DIR}}]}


def service_panels(service: str, thresholds: AlertThresholds, drift_psi: float) -> list[Panel]:
    predictions = f'service="{service}",route!~"{NOT_PREDICTIONS}"'
    return [
        Panel("Requests per second by slot", f"sum by (slot) (rate({REQUESTS}{{{predictions}}}[5m]))",
              "reqps", "{{slot}}"),
        Panel("5XX error rate by slot", f'100 * sum by (slot) (rate({REQUESTS}{{{predictions},status=~"5.."}}[5m]))'
              f" / sum by (slot) (rate({REQUESTS}{{{predictions}}}[5m]))", "percent", "{{slot}}",
              thresholds.error_rate_percent),
        Panel("p99 latency by slot", f"1000 * histogram_quantile(0.99, sum by (slot, le) "
              f"(rate({DURATION_BUCKETS}{{{predictions}}}[5m])))", "ms", "{{slot}}", thresholds.p99_latency_ms),
        Panel("Drift (PSI) by feature", f'max by (feature) ({DRIFT_PSI}{{service="{service}"}})', "none",
              "{{feature}}", drift_psi),
    ]


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if panel.threshold is not None:
        steps.append({"color": "red", "value": panel.threshold})
    return {
        "id": panel_id, "type": "timeseries", "title": panel.title,
        "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
        "gridPos": {"h": 8, "w": 6, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit, "thresholds": {"mode": "absolute", "steps": steps},
                                     "custom": {"thresholdsStyle": {"mode": "line" if panel.threshold else "off"}}},
                        "overrides": []},
        "targets": [{"refId": "A", "expr": panel.expr, "legendFormat": panel.legend,
                     "datasource": {"type": "prometheus", "uid": DATASOURCE_UID}}],
    }


def dashboard(services: dict[str, float], thresholds: AlertThresholds) -> dict[str, Any]:
    """The serving dashboard: `services` maps each service to its drift PSI threshold, in display order."""
    panels: list[dict[str, Any]] = []
    next_id = 1
    for row, (service, drift_psi) in enumerate(services.items()):
        y = row * 9
        panels.append({"id": next_id, "type": "row", "title": service, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        next_id += 1
        for column, panel in enumerate(service_panels(service, thresholds, drift_psi)):
            panels.append(_panel(panel, next_id, column * 6, y + 1))
            next_id += 1
    return {"uid": DASHBOARD_UID, "title": "mlops-platform serving", "schemaVersion": 39, "version": 1,
            "editable": False, "time": {"from": "now-1h", "to": "now"}, "refresh": "30s", "tags": ["mlops-platform"],
            "panels": panels}


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
