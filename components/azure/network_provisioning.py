"""`SparkNetwork`: provision an Azure ML workspace's managed network for serverless Spark.

Why: the drift monitors (model_monitor.py) run on serverless Spark. In a workspace with a managed network,
Azure creates that network lazily (with the first compute) and never prepares it for Spark on its own: "The
creation of the managed virtual network is deferred until a compute resource is created or provisioning is
manually started. If you plan to submit serverless spark jobs, manually start provisioning", then "provision it
and flag it to allow spark jobs" (Azure ML docs, "Managed virtual network isolation", configure for serverless
Spark jobs: `az ml workspace provision-network --include-spark`). No ARM resource property does this; it is the
workspace action `provisionManagedNetwork`, which Microsoft's `azure-ai-ml` SDK calls as
`workspaces.begin_provision_network(include_spark=True)`.

- create / update: provision with Spark and record what the service reports (`status`, `sparkReady`). The
  action is idempotent, so a half-way failure (poller error after Azure accepted it) converges on the next
  `pulumi up`, which provisions again.
- read (`pulumi refresh`): the workspace's managed network status, so a network that is not Spark-ready shows
  as a diff and the next `pulumi up` provisions it.
- diff: provisions again when the workspace is another one (replace) or when the recorded state is not
  Spark-ready; otherwise nothing.
- delete: nothing to undo (the managed network is deleted with its workspace).

The SDK is imported only when a cloud call is made (never while planning).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from components.azure.endpoint_traffic import ml_client

IDENTITY = ("subscriptionId", "resourceGroupName", "workspaceName")
"""Inputs that name the workspace: a change means another workspace (replace)."""


class SparkNetworkProvider(dyn.ResourceProvider):
    """Provision / read one workspace's managed network through `client_factory(sub, rg, ws)`."""

    def __init__(self, client_factory: Callable[[str, str, str], Any] = ml_client):
        super().__init__()
        self._client_factory = client_factory

    def _client(self, props: Mapping[str, Any]) -> Any:
        return self._client_factory(props["subscriptionId"], props["resourceGroupName"], props["workspaceName"])

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        return dyn.CheckResult(news, [dyn.CheckFailure(key, "required") for key in IDENTITY if not news.get(key)])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        replaces = [key for key in IDENTITY if olds.get(key) != news.get(key)]
        stale = not olds.get("sparkReady")
        return dyn.DiffResult(changes=bool(replaces or stale), replaces=replaces, stables=[],
                              delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        return dyn.CreateResult(f"{props['workspaceName']}/managed-network", {**props, **self._provision(props)})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        return dyn.UpdateResult({**news, **self._provision(news)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # the managed network is deleted with its workspace

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            workspace = self._client(props).workspaces.get(props["workspaceName"])
        except ResourceNotFoundError:
            return dyn.ReadResult("", {})  # gone: the next `pulumi up` provisions the new workspace's network
        status = getattr(getattr(workspace, "managed_network", None), "status", None)
        return dyn.ReadResult(id_, {**props, "status": str(getattr(status, "status", "") or ""),
                                    "sparkReady": bool(getattr(status, "spark_ready", False))})

    def _provision(self, props: Mapping[str, Any]) -> dict[str, Any]:
        result = self._client(props).workspaces.begin_provision_network(
            workspace_name=props["workspaceName"], include_spark=True).result()
        return {"status": str(result.status or ""), "sparkReady": bool(result.spark_ready)}


class SparkNetwork(dyn.Resource, module="azureml", name="SparkNetwork"):
    """The Spark-ready managed network of one workspace (type `pulumi-python:dynamic/azureml:SparkNetwork`)."""

    def __init__(self, name: str, *, subscription_id: pulumi.Input[str], resource_group_name: pulumi.Input[str],
                 workspace_name: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None,
                 provider: SparkNetworkProvider | None = None):
        props = {"subscriptionId": subscription_id, "resourceGroupName": resource_group_name,
                 "workspaceName": workspace_name, "status": None, "sparkReady": None}
        super().__init__(provider or SparkNetworkProvider(), name, props, opts)
