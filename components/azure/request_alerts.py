"""The failed-request alert of an Azure ML online endpoint as a rate: 5xx answers as a share of its requests.

Azure ML's endpoint metrics (`RequestsPerMinute` split by `statusCodeClass`) are counts, and a metric alert cannot
divide one metric by another, so the shared `AlertThresholds.error_rate_percent` is evaluated on the endpoint's
traffic log instead:

- a diagnostic setting on the endpoint sends the `AmlOnlineEndpointTrafficLog` category to the stack's Log Analytics
  workspace (Azure Monitor "Supported logs for Microsoft.MachineLearningServices/workspaces/onlineEndpoints");
- a log search alert (`ScheduledQueryRule`, kind LogAlert) runs `failed_request_query` every 5 minutes over the last
  5 minutes: per deployment, `100 * countif(ResponseCode >= 500) / count()` (columns `EndpointName`,
  `DeploymentName`, `ResponseCode` of the AmlOnlineEndpointTrafficLog table reference), and fires when a deployment
  exceeds the threshold, one alert per deployment (the `DeploymentName` dimension) - the same expression as the
  Prometheus rule `ModelServerHighErrorRate` (components/alert_rules.py) for the other targets.

`skipQueryValidation`: Azure validates a rule's query against the workspace when the rule is created and refuses a
table that has no rows yet (criblio/Cribl-Microsoft#56 describes the same validation for analytics rules); the
traffic table only fills after the first scored request, so the rule skips that check and the query's columns are
checked offline against the table reference instead (tests/components/azure/test_monitoring.py).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

mon = azure.monitor
TRAFFIC_LOG = "AmlOnlineEndpointTrafficLog"
LOG_CATEGORIES = (TRAFFIC_LOG, "AmlOnlineEndpointConsoleLog", "AmlOnlineEndpointEventLog")
"""Every log category of an online endpoint: traffic for the alert, console and events for debugging."""
WINDOW = "PT5M"
MIN_REQUESTS = 10
"""A deployment answering fewer requests in a window is not judged (one failed probe-like call is not 100%)."""


def _kql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def failed_request_query(endpoint_name: str, min_requests: int = MIN_REQUESTS) -> str:
    """KQL: per deployment of `endpoint_name`, the percentage of requests answered with a 5xx in the window."""
    return "\n".join([
        TRAFFIC_LOG,
        f"| where EndpointName == {_kql_string(endpoint_name)}",
        "| summarize requests = count(), failed = countif(toint(ResponseCode) >= 500) by DeploymentName",
        f"| where requests >= {min_requests}",
        "| extend failedPercent = 100.0 * failed / requests",
    ])


def traffic_logs(name: str, *, endpoint_id: pulumi.Input[str], log_analytics_id: pulumi.Input[str],
                 parent: pulumi.Resource) -> mon.DiagnosticSetting:
    """Send the endpoint's traffic, console and event logs to Log Analytics (resource-specific tables)."""
    return mon.DiagnosticSetting(
        name, name="to-log-analytics", resource_uri=endpoint_id, workspace_id=log_analytics_id,
        log_analytics_destination_type="Dedicated",
        logs=[mon.DiagnosticsLogSettingsArgs(category=category, enabled=True) for category in LOG_CATEGORIES],
        opts=pulumi.ResourceOptions(parent=parent))


def failed_request_rate_alert(name: str, *, service: str, endpoint_name: pulumi.Input[str],
                              log_analytics_id: pulumi.Input[str], location: str,
                              resource_group_name: pulumi.Input[str], action_group_id: pulumi.Input[str],
                              error_rate_percent: float, tags: dict[str, str], parent: pulumi.Resource,
                              depends_on: list[pulumi.Resource]) -> mon.ScheduledQueryRule:
    """A log alert per endpoint that fires per deployment above `error_rate_percent` 5xx answers."""
    query = pulumi.Output.from_input(endpoint_name).apply(failed_request_query)
    return mon.ScheduledQueryRule(
        name, rule_name=name, resource_group_name=resource_group_name, location=location, kind="LogAlert",
        description=f"{service}: 5xx answers above {error_rate_percent:g}% of a deployment's requests",
        severity=1, enabled=True, scopes=[log_analytics_id], evaluation_frequency=WINDOW, window_size=WINDOW,
        auto_mitigate=True, skip_query_validation=True, tags=tags,
        criteria=mon.ScheduledQueryRuleCriteriaArgs(all_of=[mon.ConditionArgs(
            query=query, time_aggregation="Maximum", metric_measure_column="failedPercent",
            operator="GreaterThan", threshold=error_rate_percent,
            dimensions=[mon.DimensionArgs(name="DeploymentName", operator="Include", values=["*"])],
            failing_periods=mon.ConditionFailingPeriodsArgs(number_of_evaluation_periods=1,
                                                            min_failing_periods_to_alert=1))]),
        actions=mon.ActionsArgs(action_groups=[action_group_id]),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on))
