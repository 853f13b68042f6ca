"""Monitoring (Azure) under mocks: the failed-request alert as a rate, latency / utilization / capacity alerts,
the drift monitor on the live deployment, the action group and the workbook."""

from __future__ import annotations

import json
import re

import pytest

from components.azure.monitoring import MonitoredDeployment, MonitoredEndpoint, Monitoring, MonitoringArgs
from components.azure.request_alerts import LOG_CATEGORIES, TRAFFIC_LOG, failed_request_query
from components.monitoring import AlertThresholds, DriftSpec
from infra.plan.engine import plan_program
from tests.components.azure.support import every, names, one, scope

LOGS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/logs"
ENDPOINT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/" \
           "onlineEndpoints/mlops-prod-fraud-abc123"
TRAFFIC_LOG_COLUMNS = {
    "AuthType", "AzureMLWorkspaceId", "AzureMLWorkspaceName", "DeploymentName", "EndpointName", "IdentityData",
    "Location", "Method", "ModelStatusCode", "ModelStatusReason", "OperationName", "Path", "Protocol",
    "RequestDurationMs", "RequestPayloadSize", "RequestThrottlingDelayMs", "ResponseCode", "ResponseCodeReason",
    "ResponseDurationMs", "ResponsePayloadSize", "ResponseThrottlingDelayMs", "TimeGenerated", "TotalDurationMs",
    "UserAgent", "XMSClientRequestId", "XRequestId"}
"""learn.microsoft.com/azure/azure-monitor/reference/tables/amlonlineendpointtrafficlog (columns)."""


def _endpoint(gpu: bool = True) -> MonitoredEndpoint:
    return MonitoredEndpoint(
        service="fraud", endpoint_id=ENDPOINT, endpoint_name="mlops-prod-fraud-abc123",
        deployments=[MonitoredDeployment("blue", f"{ENDPOINT}/deployments/blue", 2, gpu),
                     MonitoredDeployment("green", f"{ENDPOINT}/deployments/green", 3, gpu)],
        live="blue", drift=DriftSpec(features=("mean radius", "worst area"), threshold_psi=0.2, schedule="hourly"),
        production_data="azureml:mlops-prod-fraud-abc123-blue-model_inputs:1",
        reference_data="https://acct.blob.core.windows.net/models/fraud/7/baseline.csv", identity_id="/identity")


def _args(**overrides) -> MonitoringArgs:
    return MonitoringArgs(**{"names": names("prod"), "scope": scope(), "workspace_name": "w", "log_analytics_id": LOGS,
                             "endpoints": [_endpoint()], "alert_emails": ("oncall@example.com",),
                             "thresholds": AlertThresholds(error_rate_percent=0.5, p99_latency_ms=500), **overrides})


@pytest.fixture(scope="module")
def plan():
    return plan_program(lambda: Monitoring("mon", _args()), stack="prod")


def _metric_alerts(plan) -> dict[str, dict]:
    return {a["name"]: a["inputs"] for a in every(plan, ":MetricAlert")}


def test_failed_requests_alert_on_the_shared_error_rate_per_deployment(plan):
    """Metric alerts cannot divide two metrics; the rate comes from the endpoint's traffic log."""
    rule = one(plan, ":ScheduledQueryRule")
    inputs = rule["inputs"]
    (condition,) = inputs["criteria"]["allOf"]
    assert (condition["metricMeasureColumn"], condition["operator"], condition["threshold"]) == (
        "failedPercent", "GreaterThan", 0.5)
    assert condition["dimensions"] == [{"name": "DeploymentName", "operator": "Include", "values": ["*"]}]
    assert condition["query"] == failed_request_query("mlops-prod-fraud-abc123")
    assert inputs["scopes"] == [LOGS] and inputs["kind"] == "LogAlert"
    assert (inputs["evaluationFrequency"], inputs["windowSize"]) == ("PT5M", "PT5M")
    (group,) = inputs["actions"]["actionGroups"]
    assert "/actionGroups/" in group and one(plan, ":ActionGroup")["urn"] in rule["dependencies"]
    assert not any("RequestsPerMinute" in json.dumps(a) for a in _metric_alerts(plan).values())


def test_the_alert_waits_for_the_endpoints_logs_to_reach_log_analytics(plan):
    setting = one(plan, ":DiagnosticSetting")
    assert (setting["inputs"]["resourceUri"], setting["inputs"]["workspaceId"]) == (ENDPOINT, LOGS)
    assert [log["category"] for log in setting["inputs"]["logs"]] == list(LOG_CATEGORIES)
    assert setting["inputs"]["logAnalyticsDestinationType"] == "Dedicated"  # the AmlOnlineEndpoint* tables
    assert setting["urn"] in one(plan, ":ScheduledQueryRule")["dependencies"]


def test_the_query_reads_only_columns_of_the_traffic_log_table():
    """The rule skips Azure's query validation (the table is empty until the first request), so the columns are
    checked here against the table reference instead."""
    query = failed_request_query("ep")
    assert query.splitlines()[0] == TRAFFIC_LOG
    referenced = set(re.findall(r"\b([A-Z][A-Za-z]+)\b", query)) - {TRAFFIC_LOG}
    assert referenced <= TRAFFIC_LOG_COLUMNS, referenced - TRAFFIC_LOG_COLUMNS


def test_the_query_computes_a_percentage_of_a_deployments_requests():
    query = failed_request_query('we"ird')
    assert 'where EndpointName == "we\\"ird"' in query
    assert "countif(toint(ResponseCode) >= 500) by DeploymentName" in query
    assert "failedPercent = 100.0 * failed / requests" in query and "where requests >= 10" in query


def test_p99_latency_is_watched_per_deployment_at_the_shared_threshold(plan):
    (criterion,) = _metric_alerts(plan)["mon-fraud-p99-latency"]["criteria"]["allOf"]
    assert (criterion["metricName"], criterion["threshold"]) == ("RequestLatency_P99", 500)
    assert criterion["dimensions"] == [{"name": "deployment", "operator": "Include", "values": ["blue", "green"]}]


def test_each_deployment_has_utilization_and_capacity_alerts(plan):
    alerts = _metric_alerts(plan)
    for slot, count in (("blue", 2), ("green", 3)):
        for kind in ("cpu", "memory", "gpu"):
            assert f"mon-fraud-{slot}-{kind}" in alerts
        (capacity,) = alerts[f"mon-fraud-{slot}-capacity"]["criteria"]["allOf"]
        assert (capacity["metricName"], capacity["operator"], capacity["threshold"]) == (
            "DeploymentCapacity", "LessThan", count)


def test_cpu_deployments_get_no_gpu_alert(plan_component):
    plan = plan_component(lambda: Monitoring("mon", _args(endpoints=[_endpoint(gpu=False)])))
    assert not any(name.endswith("-gpu") for name in _metric_alerts(plan))


def test_drift_monitor_watches_the_live_deployment_and_emails_on_call(plan):
    definition = one(plan, ":Schedule")["inputs"]["properties"]["action"]["monitorDefinition"]
    assert definition["monitoringTarget"]["deploymentId"] == f"{ENDPOINT}/deployments/blue"
    assert definition["alertNotificationSettings"]["emailNotificationSettings"]["emails"] == ["oncall@example.com"]
    assert one(plan, ":Schedule")["inputs"]["properties"]["trigger"]["frequency"] == "Hour"


def test_no_drift_monitor_when_turned_off(plan_component):
    plan = plan_component(lambda: Monitoring("mon", _args(model_monitor=False)))
    assert not every(plan, ":Schedule")


def test_action_group_emails_every_recipient(plan):
    receivers = one(plan, ":ActionGroup")["inputs"]["emailReceivers"]
    assert [r["emailAddress"] for r in receivers] == ["oncall@example.com"]
    assert len(one(plan, ":ActionGroup")["inputs"]["groupShortName"]) <= 12


def test_workbook_is_rendered_from_the_services(plan):
    document = json.loads(one(plan, ":Workbook")["inputs"]["serializedData"])
    titles = [item["content"].get("title") for item in document["items"][1:]]
    assert titles == ["fraud: latency and requests", "fraud: utilization"]


def test_deployment_alerts_use_the_namespaces_metric_names_and_dimensions(plan):
    """Azure refuses a metric alert whose metric or dimension the namespace lacks; the memory metric is
    CpuMemoryUtilizationPercentage and DeploymentCapacity's dimensions are instanceId and State (Azure Monitor,
    "Supported metrics for Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments")."""
    from components.azure.monitoring import DEPLOYMENT_METRICS

    for name, alert in _metric_alerts(plan).items():
        if alert["targetResourceType"].endswith("/deployments"):
            for criterion in alert["criteria"]["allOf"]:
                assert criterion["metricName"] in DEPLOYMENT_METRICS, name
                assert {d["name"] for d in criterion.get("dimensions") or []} <= {"instanceId", "State"}, name


def test_every_metric_alert_asks_an_aggregation_and_dimensions_the_metric_has(plan):
    """`RequestLatency_P99` of onlineEndpoints accepts the `Average` aggregation only and has the `deployment`
    dimension (Azure Monitor, "Supported metrics for Microsoft.MachineLearningServices/workspaces/onlineEndpoints");
    a metric alert with another time aggregation is refused at creation ("Time aggregation must be one of
    [Average, Maximum]", Azure/azure-monitor-baseline-alerts#194). The latency alert asked `Maximum`."""
    from components.azure.monitoring import DEPLOYMENT_METRICS, ENDPOINT_METRICS

    for name, alert in _metric_alerts(plan).items():
        table = DEPLOYMENT_METRICS if alert["targetResourceType"].endswith("/deployments") else ENDPOINT_METRICS
        for criterion in alert["criteria"]["allOf"]:
            aggregations, dimensions = table[criterion["metricName"]]
            assert criterion["timeAggregation"] in aggregations, name
            assert {d["name"] for d in criterion.get("dimensions") or []} <= set(dimensions), name
