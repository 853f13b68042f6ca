"""The platform's Prometheus alert rules, rendered once from the monitoring spec for every Prometheus target.

Kubernetes serving (a `PrometheusRule`) and the local Docker platform (a rules file) load the same rules,
built here from the shared `AlertThresholds` and each service's `DriftSpec`:

- `ModelServerHighErrorRate`: 5XX responses above `error_rate_percent` of a slot's requests (health and
  metrics routes excluded), for `for_minutes`.
- `ModelServerHighLatencyP99`: p99 request duration above `p99_latency_ms` on a slot's prediction routes.
- `ModelServerDown`: a slot's server is not answering scrapes.
- `ModelDrift`: the drift monitor's PSI of a watched feature above the drift threshold (a PSI, as the
  drift monitor computes it: no conversion is needed on these targets).
- `GpuUtilizationHigh` (only where GPUs are scraped, from NVIDIA's DCGM exporter): a GPU busier than
  `gpu_percent` for `for_minutes`.

Label contract with the scrape configuration (each target's job, checked by its tests): model server
series carry `service` (the service name) and `slot` (`blue` / `green`); the drift monitor pushes its
gauges with the grouping key `service=<name>` (`--grouping-key service=<name>`), which the Pushgateway
scrape keeps (`honor_labels: true`). Every alert carries `service`, `severity` and a runbook link.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from components.monitoring import AlertThresholds, DriftSpec

GROUP = "mlops-platform"
RUNBOOKS = "docs/runbooks"
"""Runbook links are paths in this repository (`runbook_url` annotation)."""
REQUESTS = "model_server_requests_total"
DURATION_BUCKETS = "model_server_request_duration_seconds_bucket"
DRIFT_PSI = "mlops_drift_feature_psi"
DCGM_GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
GRPC_NOT_PREDICTIONS = ("ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata")
"""The Open Inference Protocol v2 gRPC methods that only ask about the server (route
`/inference.GRPCInferenceService/<Method>`, services/model_server/grpc_service.py); `ModelInfer` predicts."""
NOT_PREDICTIONS = ("/ping|/metrics|/live|/ready|/health|/v2/health/.*|/v2/models/\\\\{name\\\\}/ready"
                   "|/execution-parameters"
                   f"|/inference\\\\.GRPCInferenceService/({'|'.join(GRPC_NOT_PREDICTIONS)})")
"""Routes that are not predictions (health, readiness, metrics, gRPC health and metadata calls), excluded from
error rate and latency."""


@dataclass(frozen=True)
class ServiceAlerts:
    """One service whose slots the rules watch."""

    name: str
    """Service name: the `service` label of its series."""
    drift: DriftSpec
    """Which features' drift alerts (all the drift monitor reports when empty), above which PSI."""


@dataclass(frozen=True)
class RuleOptions:
    """How long a condition must hold and what the GPU alert watches."""

    for_minutes: int = 5
    """A condition must hold this long before the alert fires (one bad scrape pages nobody)."""
    rate_window: str = "5m"
    """Window of the rates behind error rate and latency."""
    gpu: bool = False
    """Add the DCGM GPU-utilization alert (clusters with NVIDIA's DCGM exporter)."""
    gpu_percent: float = 90
    """GPU utilization that counts as saturated, percent."""


def _label_regex(values: Sequence[str]) -> str:
    """An exact-match regex of `values` inside a PromQL double-quoted string (backslashes and quotes escaped)."""
    escaped = (re.sub(r"([.+*?()|\[\]{}^$\\])", r"\\\1", v) for v in values)  # RE2 metacharacters only
    return "|".join(v.replace("\\", "\\\\").replace('"', '\\"') for v in escaped)


def service_rules(service: ServiceAlerts, thresholds: AlertThresholds, options: RuleOptions) -> list[dict[str, Any]]:
    """The alert rules of one service."""
    sel = f'service="{service.name}"'
    window, hold = options.rate_window, f"{options.for_minutes}m"
    predictions = f'{sel},route!~"{NOT_PREDICTIONS}"'
    error_rate = (f'100 * sum by (service, slot) (rate({REQUESTS}{{{predictions},status=~"5.."}}[{window}]))'
                  f" / sum by (service, slot) (rate({REQUESTS}{{{predictions}}}[{window}]))"
                  f" > {thresholds.error_rate_percent:g}")
    latency = (f"1000 * histogram_quantile(0.99, sum by (service, slot, le) "
               f"(rate({DURATION_BUCKETS}{{{predictions}}}[{window}]))) > {thresholds.p99_latency_ms:g}")
    features = f',feature=~"{_label_regex(service.drift.features)}"' if service.drift.features else ""
    drift = f"max by (service, feature) ({DRIFT_PSI}{{{sel}{features}}}) > {service.drift.threshold_psi:g}"
    return [
        _alert("ModelServerHighErrorRate", error_rate, hold, "critical", service.name, "rollback",
               "{{ $labels.service }}/{{ $labels.slot }}: {{ $value | humanize }}% of requests fail (5XX)",
               f"5XX responses above {thresholds.error_rate_percent:g}% of requests for {hold}."),
        _alert("ModelServerHighLatencyP99", latency, hold, "warning", service.name, "rollback",
               "{{ $labels.service }}/{{ $labels.slot }}: p99 latency {{ $value | humanize }} ms",
               f"p99 request latency above {thresholds.p99_latency_ms:g} ms for {hold}."),
        _alert("ModelServerDown", f'up{{{sel}}} == 0', hold, "critical", service.name, "rollback",
               "{{ $labels.service }}/{{ $labels.slot }}: the model server does not answer scrapes",
               f"A slot's model server has been unreachable for {hold}."),
        _alert("ModelDrift", drift, "0m", "warning", service.name, "drift",
               "{{ $labels.service }}: feature {{ $labels.feature }} drifted (PSI {{ $value | printf \"%.2f\" }})",
               f"The drift monitor's PSI of a watched feature is above {service.drift.threshold_psi:g}."),
    ]


def alert_rules(services: Sequence[ServiceAlerts], thresholds: AlertThresholds,
                options: RuleOptions = RuleOptions()) -> dict[str, Any]:
    """The rules file (`{"groups": [...]}`): one group for the platform, services in the order given."""
    rules = [rule for service in services for rule in service_rules(service, thresholds, options)]
    if options.gpu:
        hold = f"{options.for_minutes}m"
        rules.append(_alert("GpuUtilizationHigh", f"avg by (Hostname, gpu) ({DCGM_GPU_UTIL}) > {options.gpu_percent:g}",
                            hold, "warning", None, "capacity",
                            "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is {{ $value | humanize }}% busy",
                            f"A GPU has been above {options.gpu_percent:g}% utilization for {hold}; "
                            "raise maxInstances or the node pool's maximum."))
    return {"groups": [{"name": GROUP, "rules": rules}]}


def render_rules(services: Sequence[ServiceAlerts], thresholds: AlertThresholds,
                 options: RuleOptions = RuleOptions()) -> str:
    """`alert_rules` as the YAML Prometheus loads (`rule_files`), deterministic."""
    return to_yaml(alert_rules(services, thresholds, options))


# libyaml's emitter when PyYAML was built with it (the wheels are): the same text, about five times faster.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def to_yaml(document: dict[str, Any]) -> str:
    """Deterministic YAML of a config file the platform renders (keys in the order built, lines never folded)."""
    return yaml.dump(document, Dumper=_DUMPER, sort_keys=False, width=1000)


def _alert(name: str, expr: str, hold: str, severity: str, service: str | None, runbook: str, summary: str,
           description: str) -> dict[str, Any]:
    labels = {"severity": severity, **({"service": service} if service else {})}
    return {"alert": name, "expr": expr, "for": hold, "labels": labels,
            "annotations": {"summary": summary, "description": description,
                            "runbook_url": f"{RUNBOOKS}/{runbook}.md"}}
