"""Prometheus' scrape configuration and Alertmanager's routing for the local platform, rendered from the topology.

The alert rules themselves are the platform's (`components/alert_rules.py`, the same rules Kubernetes loads); this
module keeps their label contract: every model server target carries `service` and `slot` (plus `model_version`),
and the Pushgateway job keeps the drift monitor's `service` grouping key (`honor_labels: true`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.local.topology import Topology

MODEL_SERVER_JOB = "model-server"
PUSHGATEWAY_JOB = "pushgateway"
RECEIVER = "platform"


@dataclass(frozen=True)
class PrometheusOptions:
    """Where Prometheus finds its peers and rules (container paths and names by default)."""

    rules_file: str = "/etc/prometheus/rules/mlops-platform.yml"
    alertmanager: str = "alertmanager:9093"
    pushgateway: str = "pushgateway:9091"
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"


def prometheus_config(topology: Topology, options: PrometheusOptions = PrometheusOptions()) -> dict[str, Any]:
    """prometheus.yml as data: every deployed slot scraped with its `service` / `slot` labels."""
    slot_targets = [{"targets": [slot.address],
                     "labels": {"service": slot.service, "slot": slot.slot, "model_version": slot.model_version}}
                    for slot in topology.slots]
    return {
        "global": {"scrape_interval": options.scrape_interval, "evaluation_interval": options.evaluation_interval,
                   "external_labels": {"platform": topology.prefix}},
        "rule_files": [options.rules_file],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [options.alertmanager]}]}]},
        "scrape_configs": [
            {"job_name": MODEL_SERVER_JOB, "metrics_path": "/metrics", "static_configs": slot_targets},
            {"job_name": PUSHGATEWAY_JOB, "honor_labels": True,
             "static_configs": [{"targets": [options.pushgateway]}]},
            {"job_name": "prometheus", "static_configs": [{"targets": ["localhost:9090"]}]},
        ],
    }


def alertmanager_config(alert_emails: tuple[str, ...] = (), smarthost: str | None = None) -> dict[str, Any]:
    """alertmanager.yml as data: alerts grouped per service and slot; a server that is down silences its own
    error-rate and latency alerts (one page, not three).

    Alerts always show in Alertmanager's UI; they are also mailed to `alert_emails` when an SMTP `smarthost`
    (`host:port`) is given (a laptop usually has none).
    """
    receiver: dict[str, Any] = {"name": RECEIVER}
    config: dict[str, Any] = {}
    if alert_emails and smarthost:
        config["global"] = {"smtp_smarthost": smarthost, "smtp_from": "alertmanager@mlops-platform.local",
                            "smtp_require_tls": False}
        receiver["email_configs"] = [{"to": email, "send_resolved": True} for email in alert_emails]
    config.update({
        "route": {"receiver": RECEIVER, "group_by": ["alertname", "service", "slot"], "group_wait": "30s",
                  "group_interval": "5m", "repeat_interval": "4h"},
        "inhibit_rules": [{"source_matchers": ['alertname="ModelServerDown"'],
                           "target_matchers": ['alertname=~"ModelServerHighErrorRate|ModelServerHighLatencyP99"'],
                           "equal": ["service", "slot"]}],
        "receivers": [receiver],
    })
    return config
