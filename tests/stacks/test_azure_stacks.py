"""The azure-dev and azure-prod stacks: per-environment differences and deploy-time failure classes in the plans."""

from __future__ import annotations

import pytest

from components.azure.model_endpoint import ROUTES


@pytest.fixture
def dev(stack_plan):
    return stack_plan("azure-dev")


@pytest.fixture
def prod(stack_plan):
    return stack_plan("azure-prod")


def _one(plan, suffix):
    found = [r for r in plan.resources if r["type"].endswith(suffix)]
    assert len(found) == 1, [r["name"] for r in found]
    return found[0]


def _all(plan, suffix):
    return [r for r in plan.resources if r["type"].endswith(suffix)]


def test_dev_routes_everything_to_the_live_slot_and_deploys_only_it(dev):
    assert [d["inputs"]["deploymentName"] for d in _all(dev, ":OnlineDeployment")] == ["blue"]
    assert _one(dev, "azureml:EndpointTraffic")["inputs"]["traffic"] == {"blue": 100}
    assert dev.outputs["endpoints"]["fraud-detector"]["weights"] == {"blue": 100}


def test_prod_runs_the_canary_split_from_config_with_two_instances_per_deployment(prod):
    deployments = _all(prod, ":OnlineDeployment")
    assert sorted((d["inputs"]["deploymentName"], d["inputs"]["sku"]["capacity"]) for d in deployments) == [
        ("blue", 2), ("green", 2)]
    assert _one(prod, "azureml:EndpointTraffic")["inputs"]["traffic"] == {"blue": 90, "green": 10}


def test_traffic_is_set_after_every_deployment_and_never_by_the_endpoint(prod):
    """Azure/azureml-examples#3311: traffic may only name existing deployments."""
    traffic = _one(prod, "azureml:EndpointTraffic")
    assert {d["urn"] for d in _all(prod, ":OnlineDeployment")} <= set(traffic["dependencies"])
    endpoint = _one(prod, ":OnlineEndpoint")
    assert "traffic" not in endpoint["inputs"]["properties"]
    assert set(endpoint["ignoreChanges"]) == {"properties.traffic", "properties.mirrorTraffic"}


def test_deployments_pull_with_an_identity_granted_before_they_exist(prod):
    """Managed deployments pull the image with the endpoint's identity, which needs AcrPull first."""
    grants = {r["urn"] for r in _all(prod, ":RoleAssignment") if "acr-pull" in r["name"]}
    for deployment in _all(prod, ":OnlineDeployment"):
        assert grants <= set(deployment["dependencies"])
    assert _one(prod, ":OnlineEndpoint")["inputs"]["identity"]["type"] == "UserAssigned"


def test_role_assignment_names_are_deterministic_guids(prod, stack_plan):
    """A random name would hit RoleAssignmentExists (409) after a half-way failure; derived names are idempotent."""
    names = [r["inputs"]["roleAssignmentName"] for r in _all(prod, ":RoleAssignment")]
    assert len(names) == len(set(names)) and all(len(n) == 36 for n in names)


def test_deployments_serve_the_model_servers_azure_routes(dev):
    deployment = _one(dev, ":OnlineDeployment")["inputs"]["properties"]
    env = deployment["environmentVariables"]
    assert {env[f"AZUREML_{k.upper()}_ROUTE"] for k in ROUTES} == {"/live", "/ready", "/score"}
    assert env["MODEL_URI"].endswith(".blob.core.windows.net/models/fraud-detector/8/model.tar.gz")
    routes = _one(dev, ":EnvironmentVersion")["inputs"]["properties"]["inferenceConfig"]
    assert routes["scoringRoute"] == {"path": "/score", "port": 8080}
    assert deployment["appInsightsEnabled"] is True
    assert deployment["dataCollector"]["collections"]["model_inputs"]["dataCollectionMode"] == "Enabled"


def test_environment_versions_are_retained_not_deleted(dev):
    """Azure ML environment versions are immutable and archived rather than deleted."""
    assert all(r["retainOnDelete"] for r in _all(dev, ":EnvironmentVersion"))


def test_key_vault_has_rbac_soft_delete_and_purge_protection_everywhere(dev, prod):
    """Customer-managed keys need soft delete and purge protection; purge protection is irreversible."""
    for plan, days in ((dev, 7), (prod, 90)):
        props = _one(plan, ":Vault")["inputs"]["properties"]
        assert (props["enableRbacAuthorization"], props["enableSoftDelete"], props["enablePurgeProtection"]) == (
            True, True, True)
        assert props["softDeleteRetentionInDays"] == days


def test_storage_is_identity_only_without_hierarchical_namespace(dev):
    """An Azure ML workspace refuses HNS storage and needs identity datastores when shared keys are off."""
    account = _one(dev, ":StorageAccount")["inputs"]
    assert (account["allowSharedKeyAccess"], account["isHnsEnabled"], account["minimumTlsVersion"]) == (
        False, False, "TLS1_2")
    assert account["encryption"]["requireInfrastructureEncryption"] is True
    assert _one(dev, ":machinelearningservices:Workspace")["inputs"]["systemDatastoresAuthMode"] == "identity"


def test_global_names_fit_azures_rules(dev):
    account = _one(dev, ":StorageAccount")["inputs"]["accountName"]
    registry = _one(dev, ":Registry")["inputs"]["registryName"]
    vault = _one(dev, ":Vault")["inputs"]["vaultName"]
    assert 3 <= len(account) <= 24 and account.isalnum() and account.islower()
    assert 5 <= len(registry) <= 50 and registry.isalnum()
    assert 3 <= len(vault) <= 24


def test_registry_has_no_admin_user_and_is_private_in_prod(dev, prod):
    for plan in (dev, prod):
        assert _one(plan, ":Registry")["inputs"]["adminUserEnabled"] is False
    assert _one(prod, ":Registry")["inputs"]["publicNetworkAccess"] == "Disabled"
    assert _all(prod, ":PrivateEndpoint") and not _all(dev, ":PrivateEndpoint")


def test_dev_gpu_pool_is_spot_with_eviction_policy_and_max_price_prod_on_demand(dev, prod):
    """AKS refuses a spot pool without scaleSetEvictionPolicy and spotMaxPrice."""
    gpu = _one(dev, ":AgentPool")["inputs"]
    assert (gpu["scaleSetPriority"], gpu["scaleSetEvictionPolicy"], gpu["spotMaxPrice"]) == ("Spot", "Delete", -1)
    assert "nvidia.com/gpu=present:NoSchedule" in gpu["nodeTaints"]
    assert gpu["vmSize"] == "Standard_NC4as_T4_v3" and gpu["minCount"] == 0
    assert "scaleSetPriority" not in _one(prod, ":AgentPool")["inputs"]


def test_prod_cluster_is_private_dev_restricted(dev, prod):
    assert _one(prod, ":ManagedCluster")["inputs"]["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert _one(dev, ":ManagedCluster")["inputs"]["apiServerAccessProfile"]["authorizedIPRanges"] == [
        "203.0.113.0/24"]


def test_prod_protects_stateful_resources(dev, prod):
    for suffix in (":StorageAccount", ":Registry", ":Vault", ":machinelearningservices:Workspace", ":ManagedCluster",
                   ":ResourceGroup"):
        assert _one(prod, suffix)["protect"], suffix
    assert not any(r["protect"] for r in dev.resources)


def test_prod_endpoint_uses_entra_tokens_and_no_public_access(dev, prod):
    assert _one(prod, ":OnlineEndpoint")["inputs"]["properties"]["authMode"] == "AADToken"
    assert _one(prod, ":OnlineEndpoint")["inputs"]["properties"]["publicNetworkAccess"] == "Disabled"
    assert _one(dev, ":OnlineEndpoint")["inputs"]["properties"]["authMode"] == "Key"


def test_drift_monitor_uses_the_psi_equivalent_normalized_wasserstein(prod):
    signal = _one(prod, ":Schedule")["inputs"]["properties"]["action"]["monitorDefinition"]["signals"]["data-drift"]
    threshold = signal["metricThresholds"][0]
    assert (threshold["metric"], threshold["threshold"]["value"]) == ("NormalizedWassersteinDistance", 0.4583)
    assert signal["features"]["features"] == ["mean radius", "mean texture", "worst area", "worst concave points"]


def test_shared_exports(dev):
    out = dev.outputs
    assert out["kubeconfig"] == "[secret]" and out["region"] == "westeurope"
    assert out["repositoryUrls"]["fraud-detector"].endswith(".azurecr.io/fraud-detector")
    assert out["endpoints"]["fraud-detector"]["invokeUrl"].endswith(".inference.ml.azure.com/score")
    assert out["dashboardUrl"].startswith("https://portal.azure.com/")


def test_exports_name_what_the_stack_declares(dev):
    """The Azure fakes answer with the declared physical names, so the committed plan's exports are the names a
    real `pulumi up` reports (storage account, endpoint, registry)."""
    out = dev.outputs
    assert out["artifactBucket"] == _one(dev, ":StorageAccount")["inputs"]["accountName"]
    assert out["endpoints"]["fraud-detector"]["name"] == _one(dev, ":OnlineEndpoint")["inputs"]["endpointName"]
    assert out["registryLoginServer"] == _one(dev, ":Registry")["inputs"]["registryName"] + ".azurecr.io"


def test_drift_monitor_runs_as_an_identity_attached_to_the_workspace(dev, prod):
    """Serverless Spark (the model monitor's compute) runs only as a user-assigned identity attached to the
    workspace (Azure ML docs, "Configure Apache Spark jobs": "serverless Spark compute relies on a user-assigned
    managed identity attached to the workspace"); the monitor ran as the endpoint's identity, which is not."""
    for plan in (dev, prod):
        workspace = _one(plan, ":machinelearningservices:Workspace")["inputs"]
        definition = _one(plan, ":Schedule")["inputs"]["properties"]["action"]["monitorDefinition"]
        (identity,) = definition["computeConfiguration"]["computeIdentity"]["identity"]["userAssignedIdentities"]
        assert identity in workspace["identity"]["userAssignedIdentities"]
        assert identity not in _one(plan, ":OnlineEndpoint")["inputs"]["identity"]["userAssignedIdentities"]
