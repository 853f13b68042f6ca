"""SparkNetwork against a fake `azure-ai-ml` client: the workspace's managed network is provisioned for serverless
Spark (the drift monitors), converges after a half-way failure, and shows up as drift when not Spark-ready.

Evidence: Azure ML docs, "Managed virtual network isolation" - the managed network is created lazily and must be
provisioned with `--include-spark` before serverless Spark jobs run (`workspaces.begin_provision_network`)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from components.azure.network_provisioning import SparkNetworkProvider
from tests.components.azure.support import one

PROPS = {"subscriptionId": "s", "resourceGroupName": "rg", "workspaceName": "ws", "status": None, "sparkReady": None}


class FakeWorkspaces:
    def __init__(self, fail_polls: int = 0, live_spark_ready: bool = True):
        self.calls: list[tuple[str, bool]] = []
        self.fail_polls = fail_polls
        self.live_spark_ready = live_spark_ready

    def begin_provision_network(self, *, workspace_name: str, include_spark: bool = False):
        self.calls.append((workspace_name, include_spark))
        failing = self.fail_polls > 0
        self.fail_polls -= 1

        def result():
            if failing:
                raise TimeoutError("poller gave up after Azure accepted the request")
            return SimpleNamespace(status="Active", spark_ready=include_spark)
        return SimpleNamespace(result=result)

    def get(self, name: str):
        status = SimpleNamespace(status="Active", spark_ready=self.live_spark_ready)
        return SimpleNamespace(name=name, managed_network=SimpleNamespace(status=status))


def _provider(workspaces: FakeWorkspaces) -> SparkNetworkProvider:
    return SparkNetworkProvider(lambda sub, rg, ws: SimpleNamespace(workspaces=workspaces))


def test_create_provisions_the_managed_network_with_spark():
    workspaces = FakeWorkspaces()
    created = _provider(workspaces).create(dict(PROPS))
    assert workspaces.calls == [("ws", True)]
    assert created.outs["sparkReady"] is True and created.id == "ws/managed-network"


def test_a_half_way_failure_converges_on_the_next_up():
    workspaces = FakeWorkspaces(fail_polls=1)
    provider = _provider(workspaces)
    with pytest.raises(TimeoutError):
        provider.create(dict(PROPS))
    assert provider.create(dict(PROPS)).outs["sparkReady"] is True
    assert workspaces.calls == [("ws", True), ("ws", True)]


def test_a_ready_network_costs_nothing_and_another_workspace_is_replaced():
    provider = _provider(FakeWorkspaces())
    ready = {**PROPS, "status": "Active", "sparkReady": True}
    assert not provider.diff("id", ready, dict(PROPS)).changes
    assert provider.diff("id", ready, {**PROPS, "workspaceName": "other"}).replaces == ["workspaceName"]


def test_refresh_shows_a_network_that_is_not_spark_ready_and_the_next_up_provisions_it():
    workspaces = FakeWorkspaces(live_spark_ready=False)
    provider = _provider(workspaces)
    read = provider.read("ws/managed-network", {**PROPS, "sparkReady": True})
    assert read.outs["sparkReady"] is False
    assert provider.diff("ws/managed-network", read.outs, dict(PROPS)).changes
    assert provider.update("ws/managed-network", read.outs, dict(PROPS)).outs["sparkReady"] is True


def test_delete_leaves_the_network_to_its_workspace():
    workspaces = FakeWorkspaces()
    _provider(workspaces).delete("ws/managed-network", dict(PROPS))
    assert workspaces.calls == []


def test_both_stacks_provision_the_network_for_the_drift_monitors(stack_plan):
    for stack in ("azure-dev", "azure-prod"):
        plan = stack_plan(stack)
        network = one(plan, "azureml:SparkNetwork")
        workspace = one(plan, ":machinelearningservices:Workspace")
        assert workspace["urn"] in network["dependencies"]
