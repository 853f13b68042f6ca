"""ModelEndpoint (Azure ML) under mocks: blue/green deployments, the split set after them, identity and grants."""

from __future__ import annotations

import pytest

from components.azure.model_endpoint import ModelEndpoint, ModelEndpointArgs, environment_version
from components.azure.roles import ROLES
from components.serving import SlotSpec
from infra.plan.engine import plan_program
from tests.components.azure.support import every, names, one, role_ids, scope

TRAFFIC = "pulumi-python:dynamic/azureml:EndpointTraffic"
IMAGE = "mlopsacr.azurecr.io/fraud:{}"
BLOB = "https://acct.blob.core.windows.net/models/fraud/{}/model.tar.gz"


def _slot(tag: str, version: str, weight: int, count: int = 1, instance_type: str = "Standard_DS3_v2") -> SlotSpec:
    return SlotSpec(image=IMAGE.format(tag), model_uri=BLOB.format(version), model_version=version,
                    instance_type=instance_type, instance_count=count, weight=weight)


def _args(env: str = "dev", blue: int = 100, green: int = 0, count: int = 1, **overrides) -> ModelEndpointArgs:
    base = {"service": "fraud", "names": names(env), "scope": scope(), "workspace_name": "mlw",
            "workspace_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/"
                            "workspaces/mlw",
            "registry_id": "/acr", "storage_account_id": "/storage", "environment": env,
            "allow_public_access": env != "prod",
            "slots": {"blue": _slot("1.4.0", "7", blue, count), "green": _slot("1.5.0", "8", green, count)}}
    return ModelEndpointArgs(**{**base, **overrides})


def _plan(args: ModelEndpointArgs, stack: str = "dev"):
    return plan_program(lambda: ModelEndpoint("fraud", args), stack=stack)


@pytest.fixture(scope="module")
def canary():
    return _plan(_args("prod", blue=90, green=10, count=2), "prod")


@pytest.fixture(scope="module")
def dev():
    return _plan(_args())


def _deployments(plan) -> dict[str, dict]:
    return {d["inputs"]["deploymentName"]: d for d in every(plan, ":OnlineDeployment")}


def test_each_slot_with_traffic_is_a_deployment_named_after_it(canary):
    deployments = _deployments(canary)
    assert sorted(deployments) == ["blue", "green"]
    assert {name: d["inputs"]["sku"]["capacity"] for name, d in deployments.items()} == {"blue": 2, "green": 2}
    env = {name: d["inputs"]["properties"]["environmentVariables"] for name, d in deployments.items()}
    assert (env["blue"]["MODEL_VERSION"], env["green"]["MODEL_URI"]) == ("7", BLOB.format("8"))


def test_traffic_is_set_after_both_deployments_and_never_by_the_endpoint(canary):
    """Azure/azureml-examples#3311: the endpoint's traffic may only name deployments that exist."""
    traffic = one(canary, TRAFFIC)
    assert {d["urn"] for d in every(canary, ":OnlineDeployment")} <= set(traffic["dependencies"])
    assert one(canary, ":OnlineEndpoint")["urn"] in traffic["dependencies"]
    assert traffic["inputs"]["traffic"] == {"blue": 90, "green": 10}
    endpoint = one(canary, ":OnlineEndpoint")
    assert "traffic" not in endpoint["inputs"]["properties"]
    assert set(endpoint["ignoreChanges"]) == {"properties.traffic", "properties.mirrorTraffic"}


def test_a_weight_zero_slot_is_not_deployed_unless_kept_warm(dev, plan_component):
    assert sorted(_deployments(dev)) == ["blue"] and len(every(dev, ":EnvironmentVersion")) == 1
    assert one(dev, TRAFFIC)["inputs"]["traffic"] == {"blue": 100}
    warm = plan_component(lambda: ModelEndpoint("fraud", _args(keep_warm=True)))
    assert sorted(_deployments(warm)) == ["blue", "green"]
    assert one(warm, TRAFFIC)["inputs"]["traffic"] == {"blue": 100}  # green idle: deployed, no traffic


def test_cut_over_to_green_moves_the_split_and_drops_blue(plan_component):
    plan = plan_component(lambda: ModelEndpoint("fraud", _args(blue=0, green=100, live="green")))
    assert sorted(_deployments(plan)) == ["green"] and one(plan, TRAFFIC)["inputs"]["traffic"] == {"green": 100}


def test_every_deployment_waits_for_its_identitys_grants(canary):
    """Managed deployments pull the image and the model with the endpoint's identity (Azure ML managed identity
    docs: the user-assigned identity needs AcrPull and blob read before the deployment is created)."""
    grants = {r["urn"] for r in every(canary, ":RoleAssignment")}
    assert role_ids(canary) == {
        "fraud-acr-pull": ROLES["AcrPull"], "fraud-models-read": ROLES["Storage Blob Data Reader"],
        "fraud-capture-write": ROLES["Storage Blob Data Contributor"],
        "fraud-metrics-write": ROLES["AzureML Metrics Writer (preview)"]}
    assert grants <= set(one(canary, ":OnlineEndpoint")["dependencies"])
    for deployment in every(canary, ":OnlineDeployment"):
        assert grants <= set(deployment["dependencies"])


def test_blob_grants_are_scoped_to_one_container_each(canary):
    scopes = {r["name"]: r["inputs"]["scope"] for r in every(canary, ":RoleAssignment")}
    assert scopes["fraud-models-read"] == "/storage/blobServices/default/containers/models"
    assert scopes["fraud-capture-write"] == "/storage/blobServices/default/containers/datacapture"


def test_deployments_collect_inputs_and_outputs_and_send_to_app_insights(dev):
    props = one(dev, ":OnlineDeployment")["inputs"]["properties"]
    assert props["appInsightsEnabled"] is True
    collections = props["dataCollector"]["collections"]
    assert {k: v["dataCollectionMode"] for k, v in collections.items()} == {
        "model_inputs": "Enabled", "model_outputs": "Enabled"}
    settings = props["requestSettings"]
    assert (settings["requestTimeout"], settings["maxConcurrentRequestsPerInstance"]) == ("PT5S", 4)


def test_a_new_image_is_a_new_environment_version_and_old_versions_are_kept(canary):
    versions = {e["name"]: e for e in every(canary, ":EnvironmentVersion")}
    assert versions["fraud-blue-environment"]["inputs"]["version"] == environment_version(IMAGE.format("1.4.0"))
    assert versions["fraud-green-environment"]["inputs"]["version"] == environment_version(IMAGE.format("1.5.0"))
    assert all(v["retainOnDelete"] for v in versions.values())


def test_prod_uses_entra_tokens_without_public_access_dev_keys(dev, canary):
    assert one(canary, ":OnlineEndpoint")["inputs"]["properties"]["authMode"] == "AADToken"
    assert one(canary, ":OnlineEndpoint")["inputs"]["properties"]["publicNetworkAccess"] == "Disabled"
    assert one(dev, ":OnlineEndpoint")["inputs"]["properties"]["authMode"] == "Key"
    assert one(dev, ":OnlineEndpoint")["inputs"]["properties"]["publicNetworkAccess"] == "Enabled"


def test_endpoint_changes_re_apply_the_split():
    """An endpoint PUT by the provider carries no traffic; the revision makes EndpointTraffic update after it."""
    assert _args().revision() != _args(allow_public_access=False).revision()
    assert _args().revision() == _args(blue=90, green=10).revision()


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"env": "prod", "blue": 90, "green": 10, "count": 1}, "prod slots with traffic run at least 2 instances"),
    ({"slots": {"blue": _slot("1", "1", 100, instance_type="ml.m5.large"), "green": _slot("1", "1", 0)}},
     "'ml.m5.large' is not an Azure ML managed online instance type"),
    ({"request_timeout_ms": 500}, "Azure ML allows 1000..180000"),
])
def test_what_azure_ml_would_refuse_fails_before_any_resource(overrides, problem):
    with pytest.raises(ValueError, match=problem):
        _args(**overrides)


def test_the_server_feeds_the_data_collector_that_the_drift_monitor_reads(dev):
    """A custom container's collections only get rows when the scoring code logs through azureml-ai-monitoring
    (Azure ML "collect production data", custom logging); the server does so with CAPTURE_DESTINATION."""
    from services.model_server.capture_azure import DESTINATION, INPUTS, OUTPUTS

    props = one(dev, ":OnlineDeployment")["inputs"]["properties"]
    env = props["environmentVariables"]
    assert (env["CAPTURE_DESTINATION"], env["CAPTURE_SAMPLE_PERCENT"]) == (DESTINATION, "100")
    assert set(props["dataCollector"]["collections"]) == {INPUTS, OUTPUTS}


def test_no_capture_means_collection_off_and_no_server_capture(plan_component):
    plan = plan_component(lambda: ModelEndpoint("fraud", _args(capture_sampling_percent=0)))
    props = one(plan, ":OnlineDeployment")["inputs"]["properties"]
    assert "CAPTURE_DESTINATION" not in props["environmentVariables"]
    assert {c["dataCollectionMode"] for c in props["dataCollector"]["collections"].values()} == {"Disabled"}


def test_the_identity_may_write_where_the_collector_writes(plan_component):
    plan = plan_component(lambda: ModelEndpoint("fraud", _args(capture_container="azureml-blobstore-guid")))
    scopes = {r["name"]: r["inputs"]["scope"] for r in every(plan, ":RoleAssignment")}
    assert scopes["fraud-capture-write"] == "/storage/blobServices/default/containers/azureml-blobstore-guid"


def test_mirror_traffic_shadows_the_idle_slot_through_the_traffic_resource(plan_component):
    plan = plan_component(lambda: ModelEndpoint("fraud", _args(keep_warm=True, mirror_percent=20)))
    traffic = one(plan, TRAFFIC)["inputs"]
    assert (traffic["traffic"], traffic["mirrorTraffic"]) == ({"blue": 100}, {"green": 20})
    assert sorted(_deployments(plan)) == ["blue", "green"]


def test_mirroring_to_a_slot_that_is_not_deployed_is_refused():
    with pytest.raises(ValueError, match="needs the non-live slot 'green' deployed"):
        _args(mirror_percent=20)


def test_a_deployment_is_replaced_delete_first_when_its_instance_type_changes(canary):
    """Deployments are named after their slot: a create-before-delete replacement would ask azure-native to create
    an existing resource ("cannot create already existing resource", pulumi/pulumi-azure-native#808), and a
    managed deployment's instance type cannot change in place (infra/plan/replacement.py)."""
    for deployment in every(canary, ":OnlineDeployment"):
        assert deployment["deleteBeforeReplace"] is True
        assert deployment["replaceOnChanges"] == ["properties.instanceType"]
