"""A two-service local topology the tests render (fraud 90/10 blue/green, churn all on green with blue kept warm)."""

from __future__ import annotations

from components.alert_rules import ServiceAlerts
from components.local.config_files import ConfigFiles, render_config_files
from components.local.topology import ServiceInput, SlotInput, Topology, build_topology
from components.monitoring import AlertThresholds, DriftSpec

THRESHOLDS = AlertThresholds(error_rate_percent=1, p99_latency_ms=500)
SERVICES = [
    ServiceInput("fraud-detector", "blue", False, {"blue": SlotInput(90, "7"), "green": SlotInput(10, "8")}),
    ServiceInput("churn", "green", True, {"blue": SlotInput(0, "3"), "green": SlotInput(100, "4")}),
]
ALERTS = [ServiceAlerts("fraud-detector", DriftSpec(features=("mean radius",), threshold_psi=0.2)),
          ServiceAlerts("churn", DriftSpec(threshold_psi=0.25))]


def topology() -> Topology:
    return build_topology("mlops-dev", SERVICES)


def files(**kwargs) -> ConfigFiles:
    return render_config_files(topology(), ALERTS, THRESHOLDS, **kwargs)
