"""The dashboard body is data: widgets per endpoint and variant, deterministic JSON."""

from __future__ import annotations

import json

from components.aws.dashboard import DashboardEndpoint, console_url, dashboard_body


def widgets(*endpoints: DashboardEndpoint) -> list[dict]:
    return json.loads(dashboard_body("eu-west-1", endpoints))["widgets"]


def titled(title: str, *endpoints: DashboardEndpoint) -> list[dict]:
    return [w for w in widgets(*endpoints) if w["properties"].get("title") == title]


FRAUD = DashboardEndpoint("mlops-prod-fraud", ("blue", "green"))


def test_one_row_of_widgets_per_endpoint():
    rows = widgets(FRAUD, DashboardEndpoint("mlops-prod-churn", ("blue",)))
    assert [w["properties"]["markdown"] for w in rows if w["type"] == "text"] == ["## mlops-prod-fraud",
                                                                                 "## mlops-prod-churn"]
    assert len(rows) == 10


def test_rows_do_not_overlap():
    rows = widgets(FRAUD, DashboardEndpoint("mlops-prod-churn", ("blue",)))
    cells = {(w["x"], w["y"]) for w in rows}
    assert len(cells) == len(rows)


def test_invocations_per_variant():
    metrics = titled("Invocations", FRAUD)[0]["properties"]["metrics"]
    assert [(m[1], m[5]) for m in metrics] == [("Invocations", "blue"), ("Invocations", "green")]


def test_errors_show_4xx_and_5xx():
    names = {m[1] for m in titled("Errors", FRAUD)[0]["properties"]["metrics"]}
    assert names == {"Invocation4XXErrors", "Invocation5XXErrors"}


def test_latency_p50_and_p99_converted_to_ms():
    metrics = titled("Model latency p50 / p99", FRAUD)[0]["properties"]["metrics"]
    raw = [m for m in metrics if len(m) > 1]
    expressions = [m[0]["expression"] for m in metrics if len(m) == 1]
    assert {m[-1]["stat"] for m in raw} == {"p50", "p99"} and all(m[1] == "ModelLatency" for m in raw)
    assert all(e.endswith("/ 1000") for e in expressions) and len(expressions) == len(raw)


def test_gpu_utilization_only_for_gpu_endpoints():
    def names(endpoint: DashboardEndpoint) -> set[str]:
        return {m[1] for m in titled("Utilization", endpoint)[0]["properties"]["metrics"]}
    assert "GPUUtilization" not in names(FRAUD)
    assert "GPUUtilization" in names(DashboardEndpoint("mlops-prod-llm", ("blue",), gpu=True))


def test_utilization_from_endpoint_instance_namespace():
    metrics = titled("Utilization", FRAUD)[0]["properties"]["metrics"]
    assert {m[0] for m in metrics} == {"/aws/sagemaker/Endpoints"}


def test_body_is_deterministic():
    assert dashboard_body("eu-west-1", [FRAUD]) == dashboard_body("eu-west-1", [FRAUD])


def test_empty_stack_gets_a_placeholder():
    assert widgets()[0]["type"] == "text"


def test_console_url():
    assert console_url("eu-west-1", "mlops-prod-serving") == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=mlops-prod-serving")
