"""Monitoring (Azure): an action group, metric alerts per endpoint and deployment, drift monitors, a workbook.

Metric alerts (Azure ML online endpoint metrics, namespace Microsoft.MachineLearningServices/workspaces/
onlineEndpoints[/deployments]): per endpoint p99 request latency per deployment; per deployment CPU, GPU (GPU
instance types only) and memory utilization and a capacity alert when fewer instances run than the slot asks for.
Failed requests are a rate, `AlertThresholds.error_rate_percent` of a deployment's requests: a metric alert cannot
divide two metrics, so a log alert computes it from the endpoint's traffic log (request_alerts.py).
Each service's live deployment gets an Azure ML model monitor (model_monitor.py) that emails the same people.
The workbook is rendered from data by `workbook_document`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.model_monitor import drift_schedule_properties
from components.azure.naming import AzureNames
from components.azure.request_alerts import failed_request_rate_alert, traffic_logs
from components.azure.roles import Scope
from components.monitoring import AlertThresholds, DriftSpec

mon = azure.monitor
ENDPOINT_TYPE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
DEPLOYMENT_TYPE = f"{ENDPOINT_TYPE}/deployments"
UTILIZATION_PERCENT = 85
ENDPOINT_METRICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "RequestLatency_P99": (("Average",), ("deployment",)),
    "RequestsPerMinute": (("Average",), ("deployment", "statusCode", "statusCodeClass", "modelStatusCode")),
}
"""Endpoint metrics the alerts and the workbook read: REST name -> (aggregations Azure accepts, dimensions), from
"Supported metrics for Microsoft.MachineLearningServices/workspaces/onlineEndpoints". The request latency
percentiles are already aggregated per minute and accept `Average` only: a metric alert asking another
time aggregation is refused at creation
("Time aggregation must be one of [...]", Azure/azure-monitor-baseline-alerts#194)."""
DEPLOYMENT_METRICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "CpuUtilizationPercentage": (("Minimum", "Maximum", "Average"), ("instanceId",)),
    "CpuMemoryUtilizationPercentage": (("Minimum", "Maximum", "Average"), ("instanceId",)),
    "GpuUtilizationPercentage": (("Minimum", "Maximum", "Average"), ("instanceId",)),
    "DeploymentCapacity": (("Minimum", "Maximum", "Average"), ("instanceId", "State")),
}
"""Deployment metrics the alerts read, by their REST names ("Supported metrics for Microsoft.MachineLearningServices/
workspaces/onlineEndpoints/deployments"): Azure refuses a metric alert on a name the namespace does not have.
`DeploymentCapacity` has the dimensions instanceId and State only, so the capacity alert uses none."""


@dataclass(frozen=True)
class MonitoredDeployment:
    slot: str
    deployment_id: pulumi.Input[str]
    instance_count: int
    gpu: bool


@dataclass(frozen=True)
class MonitoredEndpoint:
    service: str
    endpoint_id: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    deployments: Sequence[MonitoredDeployment]
    live: str
    drift: DriftSpec
    production_data: pulumi.Input[str]
    """The live deployment's collected model inputs (a data asset URI)."""
    reference_data: pulumi.Input[str]
    """The live model's training features (`baseline.csv`)."""
    identity_id: pulumi.Input[str]
    """Identity the drift job runs as: a user-assigned identity attached to the workspace
    (MlWorkspace.monitor_identity_id), never the endpoint's."""


@dataclass(frozen=True)
class MonitoringArgs:
    names: AzureNames
    """The stack's physical names."""
    scope: Scope
    """Subscription, tenant, resource group and location."""
    workspace_name: pulumi.Input[str]
    """Azure ML workspace of the drift monitors."""
    log_analytics_id: pulumi.Input[str]
    """Log Analytics workspace receiving the endpoints' traffic logs (the failed-request rate alert reads it)."""
    endpoints: Sequence[MonitoredEndpoint]
    """What to watch."""
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    """p99 latency and error rate (percent of a deployment's requests)."""
    alert_emails: Sequence[str] = ()
    """Recipients of every alert."""
    webhook_url: pulumi.Input[str] | None = None
    """HTTPS endpoint of an on-call integration posted every alert; pass a secret Output (it carries a key)."""
    model_monitor: bool = True
    """Create the drift monitors (needs listed drift features)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""


def workbook_document(services: Sequence[str]) -> str:
    """Azure Monitor workbook JSON: per service, latency and requests of the endpoint, utilization per deployment."""
    items: list[dict] = [{"type": 1, "name": "title", "content": {"json": "## Model endpoints"}}]
    for service in services:
        for title, namespace, metrics in (
                ("latency and requests", ENDPOINT_TYPE, ("RequestLatency_P99", "RequestsPerMinute")),
                ("utilization", DEPLOYMENT_TYPE, ("CpuUtilizationPercentage", "GpuUtilizationPercentage",
                                                  "CpuMemoryUtilizationPercentage", "DeploymentCapacity"))):
            items.append({"type": 10, "name": f"{service}-{title.split()[0]}", "content": {
                "chartType": 2, "title": f"{service}: {title}", "resourceType": namespace.lower(),
                "metricScope": 0, "resourceParameter": f"{service}", "timeContext": {"durationMs": 86400000},
                "metrics": [{"namespace": namespace.lower(), "metric": f"{namespace.lower()}--{m}",
                             "aggregation": 4} for m in metrics]}})
    return json.dumps({"version": "Notebook/1.0", "items": items, "isLocked": False}, sort_keys=True)


class Monitoring(pulumi.ComponentResource):
    """Action group, alerts, drift monitors, workbook."""

    action_group_id: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:Monitoring", name, None, opts)
        s, tags, child = args.scope, dict(args.tags), pulumi.ResourceOptions(parent=self)
        group = mon.ActionGroup(
            f"{name}-action-group", action_group_name=args.names.name("oncall"),
            resource_group_name=s.resource_group_name,
            location="Global", group_short_name=args.names.namer.environment[:6] + "-ml", enabled=True, tags=tags,
            email_receivers=[mon.MicrosoftCommonEmailReceiverArgs(name=f"email-{i}", email_address=email,
                                                                  use_common_alert_schema=True)
                             for i, email in enumerate(args.alert_emails)],
            webhook_receivers=[mon.WebhookReceiverArgs(name="oncall-webhook", use_common_alert_schema=True,
                                                       service_uri=pulumi.Output.secret(args.webhook_url))]
            if args.webhook_url is not None else None, opts=child)
        self._group_id = group.id
        for ep in args.endpoints:
            self._endpoint_alerts(name, args, ep)
            if args.model_monitor and ep.drift.features:
                live = next(d for d in ep.deployments if d.slot == ep.live)
                azure.machinelearningservices.Schedule(
                    f"{name}-{ep.service}-drift", name=args.names.drift_schedule(ep.service),
                    workspace_name=args.workspace_name, resource_group_name=s.resource_group_name,
                    properties=drift_schedule_properties(
                        drift=ep.drift, deployment_id=live.deployment_id, production_data=ep.production_data,
                        reference_data=ep.reference_data, identity_id=ep.identity_id,
                        emails=list(args.alert_emails)), opts=child)
        workbook = azure.applicationinsights.Workbook(
            f"{name}-workbook", resource_name_=str(uuid.uuid5(uuid.NAMESPACE_URL, args.names.name("workbook"))),
            resource_group_name=s.resource_group_name, location=s.location, kind="shared", category="workbook",
            display_name=f"{args.names.name('serving')}", source_id="Azure Monitor",
            serialized_data=workbook_document([ep.service for ep in args.endpoints]), tags=tags, opts=child)
        self.action_group_id = group.id
        self.dashboard_url = pulumi.Output.concat("https://portal.azure.com/#@", s.tenant_id, "/resource", workbook.id,
                                                  "/workbook")
        self.register_outputs({"action_group_id": group.id, "dashboard_url": self.dashboard_url})

    def _alert(self, name: str, args: MonitoringArgs, scope_id: pulumi.Input[str], target_type: str,
               description: str, criteria: list[mon.MetricCriteriaArgs], severity: int) -> None:
        mon.MetricAlert(
            name, rule_name=name, resource_group_name=args.scope.resource_group_name, location="global",
            description=description, severity=severity, enabled=True, scopes=[scope_id],
            target_resource_type=target_type, target_resource_region=args.scope.location,
            evaluation_frequency="PT1M", window_size="PT5M", auto_mitigate=True, tags=dict(args.tags),
            criteria=mon.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", all_of=criteria),
            actions=[mon.MetricAlertActionArgs(action_group_id=self._group_id)],
            opts=pulumi.ResourceOptions(parent=self))

    def _endpoint_alerts(self, name: str, args: MonitoringArgs, ep: MonitoredEndpoint) -> None:
        def criterion(metric: str, operator: str, threshold: float, aggregation: str = "Average",
                      dimensions: list[mon.MetricDimensionArgs] | None = None) -> mon.MetricCriteriaArgs:
            return mon.MetricCriteriaArgs(criterion_type="StaticThresholdCriterion", name=metric, metric_name=metric,
                                          operator=operator, threshold=threshold, time_aggregation=aggregation,
                                          dimensions=dimensions)
        prefix = f"{name}-{ep.service}"
        slots = [d.slot for d in ep.deployments]
        self._alert(f"{prefix}-p99-latency", args, ep.endpoint_id, ENDPOINT_TYPE,
                    f"{ep.service}: p99 request latency above {args.thresholds.p99_latency_ms:g} ms",
                    [criterion("RequestLatency_P99", "GreaterThan", args.thresholds.p99_latency_ms, "Average",
                               [mon.MetricDimensionArgs(name="deployment", operator="Include", values=slots)])], 2)
        logs = traffic_logs(f"{prefix}-traffic-logs", endpoint_id=ep.endpoint_id,
                            log_analytics_id=args.log_analytics_id, parent=self)
        failed_request_rate_alert(
            f"{prefix}-failed-requests", service=ep.service, endpoint_name=ep.endpoint_name,
            log_analytics_id=args.log_analytics_id, location=args.scope.location,
            resource_group_name=args.scope.resource_group_name, action_group_id=self._group_id,
            error_rate_percent=args.thresholds.error_rate_percent, tags=dict(args.tags), parent=self,
            depends_on=[logs])
        for d in ep.deployments:
            utilization = [("CpuUtilizationPercentage", "cpu"), ("CpuMemoryUtilizationPercentage", "memory")]
            if d.gpu:
                utilization.append(("GpuUtilizationPercentage", "gpu"))
            for metric, short in utilization:
                self._alert(f"{prefix}-{d.slot}-{short}", args, d.deployment_id, DEPLOYMENT_TYPE,
                            f"{ep.service} {d.slot}: {short} above {UTILIZATION_PERCENT}%",
                            [criterion(metric, "GreaterThan", UTILIZATION_PERCENT)], 3)
            self._alert(f"{prefix}-{d.slot}-capacity", args, d.deployment_id, DEPLOYMENT_TYPE,
                        f"{ep.service} {d.slot}: fewer than {d.instance_count} instances running",
                        [criterion("DeploymentCapacity", "LessThan", d.instance_count, "Minimum")], 2)
