"""The local platform's rendered configuration, checked by the tools that will load it.

`nginx -t` (Debian's nginx), `promtool check config` / `check rules` (prometheus) and `amtool check-config`
(prometheus-alertmanager) run on the files the components upload. The alert rules themselves are tested in
tests/components/test_alert_rules.py; here only that the local scrape labels meet their label contract.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from components.local import grafana_conf
from components.local.nginx_conf import RouterOptions, render_nginx_conf
from components.local.prometheus_conf import PrometheusOptions, prometheus_config
from components.local.topology import HostPorts, ServiceInput, SlotInput, build_topology
from tests.components.local.fixtures import THRESHOLDS, files, topology
from tests.support.tools import require_tool


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_router_splits_by_slot_weight_and_leaves_weight_zero_slots_out():
    conf = files().nginx
    assert "server mlops-dev-fraud-detector-blue:8080 weight=90 max_fails=1 fail_timeout=10s;" in conf
    assert "server mlops-dev-fraud-detector-green:8080 weight=10 max_fails=1 fail_timeout=10s;" in conf
    # churn's blue is kept warm (deployed, scraped) but takes no traffic
    assert "churn-blue" not in conf and "server mlops-dev-churn-green:8080 weight=100" in conf
    assert [s.host for s in topology().slots if s.service == "churn"] == ["mlops-dev-churn-blue",
                                                                          "mlops-dev-churn-green"]
    assert "proxy_next_upstream_tries 2;" in conf and "location /fraud-detector/ {" in conf


def test_a_changed_weight_is_a_changed_file():
    moved = build_topology("mlops-dev", [ServiceInput("fraud-detector", "blue", False, {
        "blue": SlotInput(50, "7"), "green": SlotInput(50, "8")})])
    assert "weight=50" in render_nginx_conf(moved) and "weight=90" not in render_nginx_conf(moved)


def test_slot_ports_must_not_collide_with_platform_ports():
    import pytest

    with pytest.raises(ValueError, match="overlap platform ports \\[9000\\]"):
        build_topology("p", [ServiceInput("s", "blue", False, {"blue": SlotInput(100, "1")})],
                       HostPorts(first_slot=9000))


def test_nginx_accepts_the_rendered_router_config(tmp_path: Path):
    """`nginx -t` resolves upstream hosts at load time, so the Docker DNS names become loopback ports here;
    every other line is the planned file's."""
    nginx = require_tool("nginx")
    conf = tmp_path / "nginx.conf"
    ports = iter(range(18081, 18099))
    conf.write_text(render_nginx_conf(topology(), RouterOptions(runtime_dir=str(tmp_path), listen_port=18080),
                                      address=lambda slot: f"127.0.0.1:{next(ports)}"))
    result = _run(nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;")
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_promtool_accepts_the_rendered_prometheus_config_and_rules(tmp_path: Path):
    promtool = require_tool("promtool")
    rendered = files()
    rules = tmp_path / "rules.yml"
    rules.write_text(rendered.rules)
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(topology(), PrometheusOptions(rules_file=str(rules)))))
    checked = _run(promtool, "check", "config", str(config))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout  # 4 per service, both services
    # the planned file differs only in where the rules live
    planned = yaml.safe_load(rendered.prometheus)
    assert planned["rule_files"] == [PrometheusOptions().rules_file]


def test_amtool_accepts_the_rendered_alertmanager_config(tmp_path: Path):
    amtool = require_tool("amtool")
    for kwargs in ({}, {"alert_emails": ("oncall@example.com",), "smtp_smarthost": "mail.example.com:25"}):
        config = tmp_path / "alertmanager.yml"
        config.write_text(files(**kwargs).alertmanager)
        checked = _run(amtool, "check-config", str(config))
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_dashboard_queries_are_valid_promql(tmp_path: Path):
    """promtool parses each panel's query as a recording rule: a typo in a dashboard query fails here, not in
    Grafana's UI."""
    promtool = require_tool("promtool")
    board = yaml.safe_load(files().dashboard)
    queries = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    assert len(queries) == 8 and [p["title"] for p in board["panels"] if p["type"] == "row"] == [
        "fraud-detector", "churn"]
    rules = tmp_path / "panels.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": [
        {"record": f"panel:{i}", "expr": q} for i, q in enumerate(queries)]}]}))
    checked = _run(promtool, "check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    thresholds = {p["title"]: p["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"]
                  for p in board["panels"] if p["type"] == "timeseries" and p["gridPos"]["y"] == 1}
    assert thresholds["5XX error rate by slot"] == THRESHOLDS.error_rate_percent
    assert yaml.safe_load(files().grafana_datasources)["datasources"][0]["uid"] == grafana_conf.DATASOURCE_UID


def test_scraped_slots_carry_the_labels_the_alert_rules_group_by(tmp_path: Path):
    """A slot whose scrape fails pages as ModelServerDown with its service and slot, exactly as the local scrape
    config labels it (the shared rules' label contract, components/alert_rules.py); the other slot stays quiet."""
    promtool = require_tool("promtool")
    rendered = files()
    (tmp_path / "rules.yml").write_text(rendered.rules)
    scrape = prometheus_config(topology())["scrape_configs"][0]
    fraud = [group for group in scrape["static_configs"] if group["labels"]["service"] == "fraud-detector"]
    series = []
    for group, values in zip(fraud, ("1x5 0x20", "1x25"), strict=True):
        labels = {"job": scrape["job_name"], "instance": group["targets"][0], **group["labels"]}
        body = ",".join(f'{k}="{v}"' for k, v in labels.items())
        series.append({"series": f"up{{{body}}}", "values": values})
    down = {"job": "model-server", "instance": "mlops-dev-fraud-detector-blue:8080", "service": "fraud-detector",
            "slot": "blue", "model_version": "7", "severity": "critical"}
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": series, "alert_rule_test": [
            {"eval_time": "8m", "alertname": "ModelServerDown", "exp_alerts": []},
            {"eval_time": "15m", "alertname": "ModelServerDown", "exp_alerts": [{
                "exp_labels": down,
                "exp_annotations": {"summary": "fraud-detector/blue: the model server does not answer scrapes",
                                    "description": "A slot's model server has been unreachable for 5m.",
                                    "runbook_url": "docs/runbooks/rollback.md"}}]}]}]}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests))
    result = subprocess.run([promtool, "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
