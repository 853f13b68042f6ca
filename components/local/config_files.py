"""Every configuration file the local platform renders, from one call: what the components upload and the tests check.

One pure function of the stack's topology, alert thresholds and drift specs, so the plan shows each file's content
and a change to weights or thresholds is a reviewable diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from components.alert_rules import ServiceAlerts, render_rules, to_yaml
from components.local import grafana_conf
from components.local.nginx_conf import RouterOptions, render_nginx_conf
from components.local.prometheus_conf import PrometheusOptions, alertmanager_config, prometheus_config
from components.local.topology import Topology
from components.monitoring import AlertThresholds


@dataclass(frozen=True)
class ConfigFiles:
    """File contents, by what reads them."""

    nginx: str
    prometheus: str
    rules: str
    alertmanager: str
    grafana_datasources: str
    grafana_dashboards: str
    dashboard: str


def render_config_files(topology: Topology, services: Sequence[ServiceAlerts], thresholds: AlertThresholds,
                        alert_emails: tuple[str, ...] = (), smtp_smarthost: str | None = None,
                        router: RouterOptions | None = None,
                        prometheus: PrometheusOptions | None = None) -> ConfigFiles:
    return ConfigFiles(
        nginx=render_nginx_conf(topology, router or RouterOptions()),
        prometheus=to_yaml(prometheus_config(topology, prometheus or PrometheusOptions())),
        rules=render_rules(services, thresholds),
        alertmanager=to_yaml(alertmanager_config(alert_emails, smtp_smarthost)),
        grafana_datasources=to_yaml(grafana_conf.datasources()),
        grafana_dashboards=to_yaml(grafana_conf.dashboard_providers()),
        dashboard=grafana_conf.to_json(grafana_conf.dashboard(
            {s.name: s.drift.threshold_psi for s in services}, thresholds)),
    )
