"""EndpointTraffic's provider against a fake workspace built from the real azure-ai-ml entities and errors.

The fake keeps what Azure ML keeps (endpoints, their deployments and provisioning states, the split) and
enforces the rule that made the resource necessary: traffic may only name existing deployments
(Azure/azureml-examples#3311), and a deployment with traffic cannot be deleted.
"""

from __future__ import annotations

import pytest
from azure.ai.ml.entities import ManagedOnlineEndpoint
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from components.azure.endpoint_traffic import (
    EndpointTrafficArgs,
    TrafficError,
    TrafficProvider,
    split_problems,
)

IDS = {"subscriptionId": "sub", "resourceGroupName": "rg", "workspaceName": "mlw", "endpointName": "fraud"}


class Deployment:
    def __init__(self, name: str, state: str = "Succeeded"):
        self.name, self.provisioning_state = name, state


class Poller:
    def __init__(self, fn):
        self._fn = fn

    def result(self):
        return self._fn()


class Workspace:
    """The part of an Azure ML workspace the provider touches, with the service's rules."""

    def __init__(self, deployments=("blue", "green"), traffic=None):
        self.endpoints = {"fraud": ManagedOnlineEndpoint(name="fraud", traffic=dict(traffic or {}))}
        self.deployments = {"fraud": {d: Deployment(d) for d in deployments}}
        self.puts: list[dict] = []
        self.fail_after_put: Exception | None = None
        self.fail_before_put: Exception | None = None
        self.online_endpoints = self.online_deployments = self

    # online_endpoints
    def get(self, name):
        if name not in self.endpoints:
            raise ResourceNotFoundError(f"endpoint {name} not found")
        live = self.endpoints[name]
        return ManagedOnlineEndpoint(name=name, traffic=dict(live.traffic), mirror_traffic=dict(live.mirror_traffic))

    def begin_create_or_update(self, endpoint):
        if self.fail_before_put:
            error, self.fail_before_put = self.fail_before_put, None
            raise error
        for name, weight in {**endpoint.traffic, **endpoint.mirror_traffic}.items():
            if weight and name not in self.deployments[endpoint.name]:
                raise HttpResponseError(f"Deployment {name} not found (traffic may only name existing deployments)")
        self.endpoints[endpoint.name] = ManagedOnlineEndpoint(
            name=endpoint.name, traffic=dict(endpoint.traffic), mirror_traffic=dict(endpoint.mirror_traffic))
        self.puts.append(dict(endpoint.traffic))
        failure, self.fail_after_put = self.fail_after_put, None

        def result():
            if failure:
                raise failure
            return self.get(endpoint.name)
        return Poller(result)

    # online_deployments
    def list(self, endpoint_name):
        return list(self.deployments[endpoint_name].values())

    def delete_deployment(self, name):
        if self.endpoints["fraud"].traffic.get(name):
            raise HttpResponseError(f"Deployment {name} has traffic and cannot be deleted")
        del self.deployments["fraud"][name]


def provider(ws: Workspace) -> TrafficProvider:
    return TrafficProvider(lambda sub, rg, name: ws)


def props(traffic, mirror=None, revision="r1"):
    return {**IDS, "traffic": traffic, "mirrorTraffic": mirror or {}, "endpointRevision": revision}


def test_create_sets_the_split_after_the_deployments_exist():
    ws = Workspace()
    result = provider(ws).create(props({"blue": 90, "green": 10}))
    assert ws.endpoints["fraud"].traffic == {"blue": 90, "green": 10}
    assert result.outs["traffic"] == {"blue": 90, "green": 10} and result.id == "mlw/fraud/traffic"


def test_traffic_to_a_deployment_that_does_not_exist_is_refused_before_any_put():
    """Azure/azureml-examples#3311: the endpoint's traffic may only name existing deployments."""
    ws = Workspace(deployments=("blue",))
    with pytest.raises(TrafficError, match=r"green that do not exist \(existing: blue\).*#3311"):
        provider(ws).create(props({"blue": 90, "green": 10}))
    assert ws.puts == []


def test_traffic_to_a_failed_deployment_is_refused_and_the_live_split_kept():
    ws = Workspace(traffic={"blue": 100})
    ws.deployments["fraud"]["green"].provisioning_state = "Failed"
    with pytest.raises(TrafficError, match=r"green failed to provision; traffic stays \{'blue': 100\}"):
        provider(ws).update("id", props({"blue": 100}), props({"blue": 50, "green": 50}))
    assert ws.endpoints["fraud"].traffic == {"blue": 100}


def test_a_failure_after_the_put_converges_on_the_next_up():
    """The poller fails after the service accepted the PUT: Pulumi keeps the old state, diffs, retries."""
    ws = Workspace(traffic={"blue": 100})
    p, old, new = provider(ws), props({"blue": 100}), props({"blue": 90, "green": 10})
    ws.fail_after_put = HttpResponseError("operation timed out")
    with pytest.raises(HttpResponseError):
        p.update("id", old, new)
    assert p.diff("id", old, new).changes  # the engine kept `old`, so the next run updates again
    assert p.update("id", old, new).outs["traffic"] == {"blue": 90, "green": 10}
    assert ws.puts == [{"blue": 90, "green": 10}] * 2


def test_a_failure_before_the_put_leaves_the_live_split_and_a_rerun_applies_it():
    ws = Workspace(traffic={"blue": 100})
    p = provider(ws)
    ws.fail_before_put = HttpResponseError("throttled")
    with pytest.raises(HttpResponseError):
        p.create(props({"blue": 10, "green": 90}))
    assert ws.endpoints["fraud"].traffic == {"blue": 100}
    assert p.create(props({"blue": 10, "green": 90})).outs["traffic"] == {"blue": 10, "green": 90}


def test_delete_clears_the_split_so_the_deployments_can_be_deleted():
    """A deployment with traffic cannot be deleted; Pulumi deletes this resource before the deployments."""
    ws = Workspace(traffic={"blue": 90, "green": 10})
    with pytest.raises(HttpResponseError, match="has traffic"):
        ws.delete_deployment("green")
    provider(ws).delete("id", props({"blue": 90, "green": 10}))
    ws.delete_deployment("green")
    ws.delete_deployment("blue")
    assert ws.endpoints["fraud"].traffic == {}


def test_delete_of_a_gone_endpoint_is_a_no_op():
    ws = Workspace()
    del ws.endpoints["fraud"]
    provider(ws).delete("id", props({"blue": 100}))
    assert ws.puts == []


def test_read_reports_the_live_split_so_refresh_shows_drift():
    ws = Workspace(traffic={"blue": 50, "green": 50})
    assert provider(ws).read("id", props({"blue": 90, "green": 10})).outs["traffic"] == {"blue": 50, "green": 50}
    del ws.endpoints["fraud"]
    assert provider(ws).read("id", props({"blue": 100})).id == ""


def test_moving_weight_away_from_a_slot_then_deleting_it_works_in_pulumis_order():
    """Update (green 0, dropped from the map) runs before the green deployment's delete."""
    ws = Workspace(traffic={"blue": 90, "green": 10})
    provider(ws).update("id", props({"blue": 90, "green": 10}), props({"blue": 100}))
    ws.delete_deployment("green")
    assert ws.endpoints["fraud"].traffic == {"blue": 100}


def test_mirror_traffic_is_applied_with_the_split():
    ws = Workspace(traffic={"blue": 100})
    out = provider(ws).update("id", props({"blue": 100}), props({"blue": 100}, {"green": 10})).outs
    assert out["mirrorTraffic"] == {"green": 10} and ws.endpoints["fraud"].mirror_traffic == {"green": 10}


def test_diff_updates_on_split_or_endpoint_revision_and_replaces_on_another_endpoint():
    p = provider(Workspace())
    assert not p.diff("id", props({"blue": 100, "green": 0}), props({"blue": 100})).changes
    assert p.diff("id", props({"blue": 100}), props({"blue": 90, "green": 10})).changes
    assert p.diff("id", props({"blue": 100}), props({"blue": 100}, revision="r2")).changes
    moved = p.diff("id", props({"blue": 100}), {**props({"blue": 100}), "endpointName": "fraud2"})
    assert moved.replaces == ["endpointName"] and moved.delete_before_replace is False


@pytest.mark.parametrize(("traffic", "mirror", "problem"), [
    ({"blue": 90, "green": 20}, {}, "must sum to 100, got 110"),
    ({"blue": 100}, {"green": 60}, "at most 50"),
    ({"blue": 90, "green": 10}, {"green": 5}, "green cannot take live and mirrored traffic"),
])
def test_splits_azure_would_refuse_fail_at_plan_time(traffic, mirror, problem):
    assert any(problem in p for p in split_problems(traffic, mirror))
    with pytest.raises(ValueError, match=problem):
        EndpointTrafficArgs("s", "rg", "mlw", "fraud", traffic, mirror, "r")
    assert provider(Workspace()).check({}, props(traffic, mirror)).failures
