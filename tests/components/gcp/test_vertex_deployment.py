"""VertexDeployment's provider against a fake Vertex AI region (tests/components/gcp/vertex_fake.py).

The fake enforces Vertex's ordering rules (a split names only deployed models; a model with traffic cannot be
undeployed; an endpoint with deployed models cannot be deleted), so each test shows the provider calling the
API in an order the service accepts, from empty, from an earlier state, and after a failure half-way.
"""

from __future__ import annotations

import pytest
from google.api_core.exceptions import DeadlineExceeded, FailedPrecondition, ServiceUnavailable

from components.gcp.vertex_deployment import (
    DEPLOY_TIMEOUT_S,
    DeploymentError,
    DeploymentProvider,
    VertexDeploymentArgs,
    slot_revision,
    split_problems,
)
from tests.components.gcp.vertex_fake import ENDPOINT, FakeVertex


def slot(tag: str = "1.4.0", version: str = "7", **extra) -> dict:
    return {"image": f"europe-west4-docker.pkg.dev/p/images/fraud:{tag}",
            "artifactUri": f"gs://b/models/fraud/{version}", "modelUri": f"gs://b/models/fraud/{version}/model.tar.gz",
            "modelVersion": version, "machineType": "n1-standard-4", "acceleratorType": "", "acceleratorCount": 0,
            "minReplicas": 1, "maxReplicas": 4, "serviceAccount": "serving@p.iam.gserviceaccount.com",
            "predictRoute": "/predict", "healthRoute": "/health", "port": 8080, **extra}


def props(slots: dict, traffic: dict) -> dict:
    return {"service": "fraud", "project": "p", "region": "europe-west4", "endpoint": ENDPOINT, "slots": slots,
            "traffic": traffic, "encryptionKey": "projects/p/locations/europe-west4/keyRings/k/cryptoKeys/vertex",
            "labels": {"environment": "dev"}}


@pytest.fixture
def vertex() -> FakeVertex:
    return FakeVertex()


@pytest.fixture
def provider(vertex) -> DeploymentProvider:
    return DeploymentProvider(vertex.clients)


def test_create_uploads_deploys_then_splits(vertex, provider):
    """magic-modules#12110: the split can only be set once the models are deployed."""
    out = provider.create(props({"blue": slot()}, {"blue": 100})).outs
    assert vertex.live() == {"blue": 100} and out["traffic"] == {"blue": 100}
    assert vertex.calls.index("deploy_model") < vertex.calls.index("update_endpoint")
    model = next(iter(vertex.models.values()))
    spec = model.container_spec
    assert (spec.predict_route, spec.health_route, [p.container_port for p in spec.ports]) == ("/predict", "/health",
                                                                                                [8080])
    assert {e.name: e.value for e in spec.env}["MODEL_URI"] == "gs://b/models/fraud/7/model.tar.gz"
    assert model.encryption_spec.kms_key_name.endswith("/cryptoKeys/vertex")
    assert model.labels["mlops-spec"] == out["revisions"]["blue"]
    assert DEPLOY_TIMEOUT_S in vertex.waits  # long-running operations are waited for with a timeout


def test_deploys_with_the_slots_machine_accelerator_and_replicas(vertex, provider):
    gpu = slot(machineType="n1-standard-8", acceleratorType="NVIDIA_TESLA_T4", acceleratorCount=1, minReplicas=2,
               maxReplicas=8)
    provider.create(props({"blue": gpu}, {"blue": 100}))
    deployed = vertex.endpoints[ENDPOINT].deployed_models[0]
    resources = deployed.dedicated_resources
    assert (resources.machine_spec.machine_type, resources.machine_spec.accelerator_type.name,
            resources.machine_spec.accelerator_count) == ("n1-standard-8", "NVIDIA_TESLA_T4", 1)
    assert (resources.min_replica_count, resources.max_replica_count) == (2, 8)
    assert deployed.service_account == "serving@p.iam.gserviceaccount.com"


def test_canary_deploys_the_new_slot_before_moving_traffic_to_it(vertex, provider):
    old = props({"blue": slot()}, {"blue": 100})
    state = provider.create(old).outs
    new = props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 90, "green": 10})
    assert provider.diff("id", state, new).changes
    provider.update("id", state, new)
    assert vertex.live() == {"blue": 90, "green": 10}
    assert vertex.calls.count("deploy_model") == 2  # blue's model stays deployed as it was


def test_promotion_moves_traffic_before_undeploying_the_old_slot(vertex, provider):
    """A model with traffic cannot be undeployed: the split moves first, then the old model goes."""
    state = provider.create(props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 90, "green": 10})).outs
    provider.update("id", state, props({"green": slot("1.5.0", "8")}, {"green": 100}))
    assert vertex.live() == {"green": 100}
    assert len(vertex.models) == 1  # blue's uploaded model was deleted with its deployment


def test_a_new_image_on_the_live_slot_is_deployed_beside_the_old_one_then_swapped(vertex, provider):
    state = provider.create(props({"blue": slot("1.4.0")}, {"blue": 100})).outs
    out = provider.update("id", state, props({"blue": slot("1.4.1")}, {"blue": 100})).outs
    ep = vertex.endpoints[ENDPOINT]
    assert [d.display_name for d in ep.deployed_models] == [f"blue-{out['revisions']['blue']}"]
    assert dict(ep.traffic_split) == {ep.deployed_models[0].id: 100}


def test_a_deploy_that_fails_half_way_leaves_traffic_where_it_was_and_the_next_up_converges(vertex, provider):
    state = provider.create(props({"blue": slot()}, {"blue": 100})).outs
    new = props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 90, "green": 10})
    vertex.fail["deploy_model"] = ServiceUnavailable("no capacity for n1-standard-4 in europe-west4-b")
    with pytest.raises(ServiceUnavailable):
        provider.update("id", state, new)
    assert vertex.live() == {"blue": 100}  # green's model is uploaded, not deployed; traffic untouched
    assert provider.diff("id", state, new).changes  # Pulumi kept the old state, so the next up retries
    provider.update("id", state, new)
    assert vertex.live() == {"blue": 90, "green": 10}
    assert vertex.calls.count("upload_model") == 2  # green's model was found by its label, not uploaded twice


def test_a_deploy_whose_wait_times_out_is_found_on_the_next_up_not_deployed_twice(vertex, provider):
    """The operation completed in Vertex after the wait gave up: the rerun finds the deployed model by name."""
    state = provider.create(props({"blue": slot()}, {"blue": 100})).outs
    new = props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 90, "green": 10})
    vertex.lost["deploy_model"] = DeadlineExceeded("deploy did not finish within the timeout")
    with pytest.raises(DeadlineExceeded):
        provider.update("id", state, new)
    assert provider.update("id", state, new).outs["traffic"] == {"blue": 90, "green": 10}
    assert vertex.calls.count("deploy_model") == 2 and vertex.live() == {"blue": 90, "green": 10}


def test_a_failed_split_leaves_both_models_deployed_and_the_rerun_only_splits(vertex, provider):
    state = provider.create(props({"blue": slot()}, {"blue": 100})).outs
    new = props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 50, "green": 50})
    vertex.fail["update_endpoint"] = ServiceUnavailable("try again")
    with pytest.raises(ServiceUnavailable):
        provider.update("id", state, new)
    assert vertex.live() == {"blue": 100, "green": 0}
    deploys = vertex.calls.count("deploy_model")
    provider.update("id", state, new)
    assert vertex.calls.count("deploy_model") == deploys and vertex.live() == {"blue": 50, "green": 50}


def test_delete_empties_the_split_and_undeploys_so_the_endpoint_can_be_deleted(vertex, provider):
    """An endpoint with deployed models cannot be deleted; Pulumi deletes this resource before the endpoint."""
    state = provider.create(props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 90, "green": 10})).outs
    with pytest.raises(FailedPrecondition):
        vertex.delete_endpoint(ENDPOINT)
    provider.delete("id", state)
    vertex.delete_endpoint(ENDPOINT)
    assert vertex.models == {}


def test_delete_of_a_gone_endpoint_is_a_no_op(vertex, provider):
    state = provider.create(props({"blue": slot()}, {"blue": 100})).outs
    provider.delete("id", state)
    vertex.delete_endpoint(ENDPOINT)
    provider.delete("id", state)


def test_a_missing_endpoint_is_an_error_naming_it(vertex, provider):
    del vertex.endpoints[ENDPOINT]
    with pytest.raises(DeploymentError, match="endpoints/1234567890 does not exist"):
        provider.create(props({"blue": slot()}, {"blue": 100}))


def test_read_reports_the_live_split_so_refresh_shows_drift(vertex, provider):
    state = provider.create(props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 90, "green": 10})).outs
    ep = vertex.endpoints[ENDPOINT]
    ep.traffic_split.clear()
    ep.traffic_split.update({ep.deployed_models[0].id: 50, ep.deployed_models[1].id: 50})  # changed in the console
    read = provider.read("id", state).outs
    assert read["traffic"] == {"blue": 50, "green": 50}
    assert provider.diff("id", read, props(state["slots"], {"blue": 90, "green": 10})).changes
    del vertex.endpoints[ENDPOINT]
    assert provider.read("id", state).id == ""


def test_diff_replaces_on_another_endpoint_and_ignores_unchanged_slots(provider):
    p = props({"blue": slot()}, {"blue": 100})
    state = {**p, "revisions": {"blue": slot_revision(slot())}}
    assert not provider.diff("id", state, p).changes
    moved = provider.diff("id", state, {**p, "endpoint": ENDPOINT.replace("1234567890", "1111111111")})
    assert moved.replaces == ["endpoint"] and moved.delete_before_replace is False


@pytest.mark.parametrize(("slots", "traffic", "problem"), [
    ({"blue": 1}, {"blue": 90, "green": 10}, "green that are not deployed"),
    ({"blue": 1, "green": 1}, {"blue": 90, "green": 20}, "must sum to 100"),
])
def test_splits_vertex_would_refuse_fail_at_plan_time(slots, traffic, problem):
    assert any(problem in p for p in split_problems(slots, traffic))
    with pytest.raises(ValueError, match=problem):
        VertexDeploymentArgs("fraud", "p", "europe-west4", ENDPOINT, slots, traffic)


def test_an_upload_whose_wait_times_out_is_found_by_its_label_on_the_next_up(vertex, provider):
    vertex.lost["upload_model"] = DeadlineExceeded("upload did not finish within the timeout")
    with pytest.raises(DeadlineExceeded):
        provider.create(props({"blue": slot()}, {"blue": 100}))
    provider.create(props({"blue": slot()}, {"blue": 100}))
    assert len(vertex.models) == 1 and vertex.live() == {"blue": 100}


def test_an_undeploy_that_fails_after_the_split_moved_is_finished_by_the_next_up(vertex, provider):
    """Traffic already serves the new slot; the old model lingers without traffic until the rerun removes it."""
    state = provider.create(props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 90, "green": 10})).outs
    new = props({"green": slot("1.5.0", "8")}, {"green": 100})
    vertex.fail["undeploy_model"] = ServiceUnavailable("try again")
    with pytest.raises(ServiceUnavailable):
        provider.update("id", state, new)
    assert vertex.live() == {"blue": 0, "green": 100}
    provider.update("id", state, new)
    assert vertex.live() == {"green": 100} and len(vertex.models) == 1


def test_a_model_vertex_will_not_delete_yet_does_not_fail_the_promotion(vertex, provider):
    """googleapis/python-aiplatform#2807: right after an undeploy, deleting the model can be refused."""
    state = provider.create(props({"blue": slot(), "green": slot("1.5.0", "8")}, {"blue": 90, "green": 10})).outs
    vertex.fail["delete_model"] = FailedPrecondition("Model has deployed resources; try again later")
    provider.update("id", state, props({"green": slot("1.5.0", "8")}, {"green": 100}))
    assert vertex.live() == {"green": 100} and len(vertex.models) == 2  # blue's model stays, undeployed


def test_a_replica_change_scales_the_deployed_model_in_place(vertex, provider):
    """Vertex mutates min/max replicas of a deployed model in place (aiplatform_v1 MutateDeployedModelRequest:
    "Only the following fields can be mutated: min_replica_count, max_replica_count ..."). Redeploying instead
    would need the slot's GPUs twice over during the swap (custom model serving GPU quota per region) and would
    change the deployed model id the drift job watches."""
    state = provider.create(props({"blue": slot(minReplicas=2, maxReplicas=8)}, {"blue": 100})).outs
    before = [d.id for d in vertex.endpoints[ENDPOINT].deployed_models]
    new = props({"blue": slot(minReplicas=3, maxReplicas=10)}, {"blue": 100})
    assert provider.diff("id", state, new).changes
    vertex.calls.clear()
    out = provider.update("id", state, new).outs
    (deployed,) = vertex.endpoints[ENDPOINT].deployed_models
    assert [deployed.id] == before and out["deployedModelIds"] == {"blue": before[0]}
    assert (deployed.dedicated_resources.min_replica_count, deployed.dedicated_resources.max_replica_count) == (3, 10)
    assert "mutate_deployed_model" in vertex.calls
    assert not {"upload_model", "deploy_model", "undeploy_model"} & set(vertex.calls)
    assert vertex.live() == {"blue": 100}
