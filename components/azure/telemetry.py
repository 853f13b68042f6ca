"""Telemetry: the Log Analytics workspace and workspace-based Application Insights the ML workspace needs.

Application Insights takes requests and traces of the online deployments (`app_insights_enabled`); local
(instrumentation-key) auth is off, so only Entra identities ingest. AKS and Azure Monitor alerts read the
same Log Analytics workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.naming import AzureNames
from components.azure.roles import Scope


@dataclass(frozen=True)
class TelemetryArgs:
    names: AzureNames
    """The stack's physical names."""
    scope: Scope
    """Subscription, tenant, resource group and location."""
    retention_days: int = 90
    """Days logs and traces are kept (30..730)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""


class Telemetry(pulumi.ComponentResource):
    """Log Analytics + Application Insights."""

    log_analytics_id: pulumi.Output[str]
    app_insights_id: pulumi.Output[str]

    def __init__(self, name: str, args: TelemetryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:Telemetry", name, None, opts)
        s, tags = args.scope, dict(args.tags)
        days = min(max(args.retention_days, 30), 730)
        logs = azure.operationalinsights.Workspace(
            f"{name}-logs", workspace_name=args.names.name("logs"), resource_group_name=s.resource_group_name,
            location=s.location, retention_in_days=days, tags=tags,
            sku=azure.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"), opts=pulumi.ResourceOptions(parent=self))
        insights = azure.applicationinsights.Component(
            f"{name}-insights", resource_name_=args.names.name("appi"), resource_group_name=s.resource_group_name,
            location=s.location, kind="web", application_type="web", workspace_resource_id=logs.id,
            ingestion_mode="LogAnalytics", disable_local_auth=True, retention_in_days=days, tags=tags,
            opts=pulumi.ResourceOptions(parent=self))
        self.log_analytics_id, self.app_insights_id = logs.id, insights.id
        self.register_outputs({"log_analytics_id": logs.id, "app_insights_id": insights.id})
