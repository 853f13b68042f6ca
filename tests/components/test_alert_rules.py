"""The shared Prometheus alert rules: valid for promtool, and each alert fires when it should and only then.

`promtool check rules` and `promtool test rules` (Debian's `prometheus` package) run on the rendered file;
the unit tests feed synthetic series through the real rule engine.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.alert_rules import RuleOptions, ServiceAlerts, alert_rules, render_rules, to_yaml
from components.monitoring import AlertThresholds, DriftSpec
from tests.support.tools import require_tool

THRESHOLDS = AlertThresholds(error_rate_percent=0.5, p99_latency_ms=500)
FRAUD = ServiceAlerts("fraud", DriftSpec(features=("mean radius", "a.b"), threshold_psi=0.2))
CHURN = ServiceAlerts("churn", DriftSpec(features=(), threshold_psi=0.25))
OPTIONS = RuleOptions(gpu=True, gpu_percent=90)
GRPC = "/inference.GRPCInferenceService/"
"""The model server's gRPC routes (services/model_server/grpc_service.py: ROUTE)."""


def _series(name: str, values: str, **labels: str) -> dict[str, str]:
    body = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{body}}}", "values": values}


def _requests(service: str, slot: str, ok_per_min: int, errors_per_min: int) -> list[dict[str, str]]:
    common = {"service": service, "slot": slot, "route": "/invocations", "method": "POST"}
    return [_series("model_server_requests_total", f"0+{ok_per_min}x30", **common, status="200"),
            _series("model_server_requests_total", f"0+{errors_per_min}x30", **common, status="500"),
            # health checks never count, even when they fail
            _series("model_server_requests_total", "0+600x30", **{**common, "route": "/ping"}, status="503")]


def _latency(service: str, slot: str, seconds_bucket: str, route: str = "/invocations") -> list[dict[str, str]]:
    """600 requests a minute, all slower than the bucket below `seconds_bucket` and within it."""
    out = []
    for le in ("0.1", "0.25", "0.5", "1.0", "+Inf"):
        per_min = 600 if float(le) >= float(seconds_bucket) else 0
        out.append(_series("model_server_request_duration_seconds_bucket", f"0+{per_min}x30", service=service,
                           slot=slot, route=route, le=le))
    return out


def _notes(summary: str, description: str, runbook: str) -> dict[str, str]:
    """The annotations on-call reads, as promtool renders them."""
    return {"summary": summary, "description": description, "runbook_url": f"docs/runbooks/{runbook}.md"}


UNIT_TESTS = [
    {  # 10% errors on blue, 0.2% on green: only blue pages
        "interval": "1m",
        "input_series": _requests("fraud", "blue", 540, 60) + _requests("fraud", "green", 998, 2),
        "alert_rule_test": [{"eval_time": "15m", "alertname": "ModelServerHighErrorRate", "exp_alerts": [
            {"exp_labels": {"severity": "critical", "service": "fraud", "slot": "blue"},
             "exp_annotations": _notes("fraud/blue: 10% of requests fail (5XX)",
                                       "5XX responses above 0.5% of requests for 5m.", "rollback")}]}],
    },
    {  # gRPC health and metadata calls never count: failing ServerReady / ModelReady probes and slow
        # ServerMetadata / ModelMetadata calls beside fast, successful ModelInfer calls page nobody
        "interval": "1m",
        "input_series": [_series("model_server_requests_total", "0+600x30", service="fraud", slot="green",
                                 route=f"{GRPC}ModelInfer", method="GRPC", status="200")]
        + [_series("model_server_requests_total", "0+600x30", service="fraud", slot="green",
                   route=f"{GRPC}{method}", method="GRPC", status="503")
           for method in ("ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata")]
        + [series for route, slowest in (("ModelInfer", "0.1"), ("ServerMetadata", "1.0"), ("ModelMetadata", "1.0"))
           for series in _latency("fraud", "green", slowest, route=f"{GRPC}{route}")],
        "alert_rule_test": [{"eval_time": "15m", "alertname": "ModelServerHighErrorRate", "exp_alerts": []},
                            {"eval_time": "15m", "alertname": "ModelServerHighLatencyP99", "exp_alerts": []}],
    },
    {  # a failing gRPC ModelInfer is a prediction: it pages
        "interval": "1m",
        "input_series": [_series("model_server_requests_total", "0+60x30", service="fraud", slot="green",
                                 route=f"{GRPC}ModelInfer", method="GRPC", status="500"),
                         _series("model_server_requests_total", "0+540x30", service="fraud", slot="green",
                                 route=f"{GRPC}ModelInfer", method="GRPC", status="200")],
        "alert_rule_test": [{"eval_time": "15m", "alertname": "ModelServerHighErrorRate", "exp_alerts": [
            {"exp_labels": {"severity": "critical", "service": "fraud", "slot": "green"},
             "exp_annotations": _notes("fraud/green: 10% of requests fail (5XX)",
                                       "5XX responses above 0.5% of requests for 5m.", "rollback")}]}],
    },
    {  # p99 near 1 s on green, near 0.1 s on blue: only green pages
        "interval": "1m",
        "input_series": _latency("fraud", "green", "1.0") + _latency("fraud", "blue", "0.1"),
        "alert_rule_test": [{"eval_time": "15m", "alertname": "ModelServerHighLatencyP99", "exp_alerts": [
            {"exp_labels": {"severity": "warning", "service": "fraud", "slot": "green"},
             "exp_annotations": _notes("fraud/green: p99 latency 995 ms",
                                       "p99 request latency above 500 ms for 5m.", "rollback")}]}],
    },
    {  # blue stops answering scrapes after 5 minutes; green keeps answering
        "interval": "1m",
        "input_series": [_series("up", "1x5 0x20", service="fraud", slot="blue", job="fraud"),
                         _series("up", "1x25", service="fraud", slot="green", job="fraud")],
        "alert_rule_test": [
            {"eval_time": "8m", "alertname": "ModelServerDown", "exp_alerts": []},
            {"eval_time": "15m", "alertname": "ModelServerDown", "exp_alerts": [
                {"exp_labels": {"severity": "critical", "service": "fraud", "slot": "blue", "job": "fraud"},
                 "exp_annotations": _notes("fraud/blue: the model server does not answer scrapes",
                                           "A slot's model server has been unreachable for 5m.", "rollback")}]}],
    },
    {  # a watched feature over 0.2 fires; an unwatched one at 0.9 and a watched one at 0.1 do not;
        # churn watches every feature at 0.25
        "interval": "1m",
        "input_series": [_series("mlops_drift_feature_psi", "0.35x5", service="fraud", feature="mean radius"),
                         _series("mlops_drift_feature_psi", "0.1x5", service="fraud", feature="a.b"),
                         _series("mlops_drift_feature_psi", "0.9x5", service="fraud", feature="aXb"),
                         _series("mlops_drift_feature_psi", "0.3x5", service="churn", feature="tenure"),
                         _series("mlops_drift_feature_psi", "0.2x5", service="churn", feature="plan")],
        "alert_rule_test": [{"eval_time": "2m", "alertname": "ModelDrift", "exp_alerts": [
            {"exp_labels": {"severity": "warning", "service": "fraud", "feature": "mean radius"},
             "exp_annotations": _notes("fraud: feature mean radius drifted (PSI 0.35)",
                                       "The drift monitor's PSI of a watched feature is above 0.2.", "drift")},
            {"exp_labels": {"severity": "warning", "service": "churn", "feature": "tenure"},
             "exp_annotations": _notes("churn: feature tenure drifted (PSI 0.30)",
                                       "The drift monitor's PSI of a watched feature is above 0.25.", "drift")}]}],
    },
    {  # one GPU saturated for 10 minutes, another at half load
        "interval": "1m",
        "input_series": [_series("DCGM_FI_DEV_GPU_UTIL", "95x20", Hostname="node-a", gpu="0"),
                         _series("DCGM_FI_DEV_GPU_UTIL", "50x20", Hostname="node-a", gpu="1")],
        "alert_rule_test": [
            {"eval_time": "3m", "alertname": "GpuUtilizationHigh", "exp_alerts": []},
            {"eval_time": "10m", "alertname": "GpuUtilizationHigh", "exp_alerts": [
                {"exp_labels": {"severity": "warning", "Hostname": "node-a", "gpu": "0"},
                 "exp_annotations": _notes("GPU 0 on node-a is 95% busy", "A GPU has been above 90% utilization "
                                           "for 5m; raise maxInstances or the node pool's maximum.", "capacity")}]}],
    },
]


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yml"
    path.write_text(render_rules([FRAUD, CHURN], THRESHOLDS, OPTIONS), encoding="utf-8")
    return path


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("promtool"), *args], capture_output=True, text=True, timeout=60)


def test_promtool_accepts_the_rendered_rules(rules_file):
    result = _promtool("check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout


def test_each_alert_fires_on_its_condition_and_stays_quiet_otherwise(rules_file, tmp_path):
    spec = tmp_path / "rules_test.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [rules_file.name], "evaluation_interval": "1m",
                                    "tests": UNIT_TESTS}, sort_keys=False), encoding="utf-8")
    result = _promtool("test", "rules", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr


def test_thresholds_come_from_the_monitoring_spec():
    rules = {r["alert"]: r for r in alert_rules([FRAUD], AlertThresholds(error_rate_percent=2.5, p99_latency_ms=250))
             ["groups"][0]["rules"]}
    assert rules["ModelServerHighErrorRate"]["expr"].endswith("> 2.5")
    assert rules["ModelServerHighLatencyP99"]["expr"].endswith("> 250")
    drift = rules["ModelDrift"]["expr"]
    assert drift.endswith("> 0.2") and 'feature=~"mean radius|a\\\\.b"' in drift
    assert "GpuUtilizationHigh" not in rules


def test_rendering_is_deterministic():
    assert render_rules([FRAUD, CHURN], THRESHOLDS, OPTIONS) == render_rules([FRAUD, CHURN], THRESHOLDS, OPTIONS)


def test_libyaml_writes_the_text_pure_python_pyyaml_writes():
    """`to_yaml` uses libyaml's emitter (five times faster, docs/performance.md); committed plans and running
    Prometheus / Alertmanager configs hold its text, so it must be PyYAML's byte for byte: quoting of strings
    YAML would read as other types, escapes, key order as built, long lines never folded."""
    assert yaml.__with_libyaml__, "no libyaml: this would compare the pure-Python emitter with itself"
    tricky = {"strings": ["yes", "on", "1.0", "0x1F", "", "a: b", "#x", " lead", "trail ", "ünï", "tab\tand\nline",
                          "{{ $labels.service }}", '"quoted"', "'single'", "~", "null"],
              "long": "word " * 400, "nested": {"list": [{"a": 1.5, "b": None, "c": True, "d": 10**20}]}}
    for document in (alert_rules([FRAUD, CHURN], THRESHOLDS, OPTIONS), tricky):
        assert to_yaml(document) == yaml.safe_dump(document, sort_keys=False, width=1000)
