"""Cluster monitoring as planned: promtool accepts the PrometheusRule, its alerts fire on the series the
PodMonitor relabels, the Prometheus stack picks up the platform's objects and Alertmanager delivers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from components.k8s.observability import dashboard
from tests.components.k8s.manifests import of_kind
from tests.components.test_alert_rules import _notes, _requests
from tests.support.tools import require_tool


@pytest.fixture
def eks_dev(stack_plan):
    return stack_plan("eks-dev")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("promtool"), *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def rules_file(eks_dev, tmp_path: Path) -> Path:
    (rule,) = of_kind(eks_dev, "PrometheusRule")
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rule["spec"], sort_keys=False), encoding="utf-8")
    return path


def test_promtool_accepts_the_planned_rules_with_the_gpu_alert(rules_file):
    result = _promtool("check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout  # 4 for fraud-detector + the DCGM GPU alert


def test_the_error_alert_fires_on_series_labelled_as_the_pod_monitor_labels_them(eks_dev, rules_file, tmp_path):
    (monitor,) = of_kind(eks_dev, "PodMonitor")
    targets = {r["targetLabel"] for r in monitor["spec"]["podMetricsEndpoints"][0]["relabelings"]}
    assert targets == {"service", "slot"}  # the label contract of components/alert_rules.py
    spec = tmp_path / "rules_test.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": _requests("fraud-detector", "green", 900, 100),
        "alert_rule_test": [
            {"eval_time": "15m", "alertname": "ModelServerHighErrorRate",
             "exp_alerts": [{"exp_labels": {"severity": "critical", "service": "fraud-detector", "slot": "green"},
                             "exp_annotations": _notes("fraud-detector/green: 10% of requests fail (5XX)",
                                                       "5XX responses above 1% of requests for 5m.", "rollback")}]},
            {"eval_time": "3m", "alertname": "ModelServerHighErrorRate", "exp_alerts": []}]}]}), encoding="utf-8")
    result = _promtool("test", "rules", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr


def _stack_values(plan):
    return next(r["inputs"]["values"] for r in plan.resources if r["type"] == "kubernetes:helm.sh/v3:Release"
                and r["inputs"]["chart"] == "kube-prometheus-stack")


def test_the_prometheus_stack_selects_objects_not_labelled_with_its_release(eks_dev):
    """By default kube-prometheus-stack only picks ServiceMonitors / rules labelled `release: <name>`
    (prometheus-community/helm-charts, values.yaml `serviceMonitorSelectorNilUsesHelmValues`)."""
    spec = _stack_values(eks_dev)["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["ruleSelectorNilUsesHelmValues"] is False


def test_alerts_go_to_the_stacks_alert_topic_with_alertmanagers_own_role(eks_dev):
    alertmanager = _stack_values(eks_dev)["alertmanager"]
    (receiver,) = [r for r in alertmanager["config"]["receivers"] if r["name"] == "platform"]
    assert receiver["sns_configs"][0]["topic_arn"] == eks_dev.outputs["alertTopicArn"]
    role = alertmanager["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    policy = next(r for r in eks_dev.resources if r["name"] == "alerts-identity-policy")["inputs"]["policy"]
    assert role.endswith("-k8s-alerts") and "sns:Publish" in policy and "s3:" not in policy


def test_the_dashboard_is_data_with_a_panel_per_signal(eks_dev):
    (config_map,) = of_kind(eks_dev, "ConfigMap")
    board = json.loads(config_map["data"]["mlops-serving.json"])
    assert board == dashboard(["fraud-detector"], gpu=True)
    assert [p["title"] for p in board["panels"]] == ["Requests per second", "5XX share of requests", "p99 latency",
                                                     "Drift PSI per feature", "GPU utilization"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_dashboard_panels_query_the_datasource_the_stack_provisions(eks_dev):
    values = _stack_values(eks_dev)
    (config_map,) = of_kind(eks_dev, "ConfigMap")
    board = json.loads(config_map["data"]["mlops-serving.json"])
    assert {p["datasource"]["uid"] for p in board["panels"]} == {values["grafana"]["sidecar"]["datasources"]["uid"]}
