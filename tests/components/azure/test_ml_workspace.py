"""MlWorkspace under mocks: the workspace wired to the stack's resources, and a GPU training cluster from zero."""

from __future__ import annotations

import pytest

from components.azure.ml_workspace import MlWorkspace, MlWorkspaceArgs
from infra.plan.engine import plan_program
from tests.components.azure.support import VAULT, customer_key, names, one, scope

WIRING = {"storage_account_id": "/storage", "key_vault_id": VAULT, "app_insights_id": "/appi",
          "registry_id": "/acr"}


def _args(env: str, **overrides) -> MlWorkspaceArgs:
    prod = env == "prod"
    return MlWorkspaceArgs(**{"names": names(env), "scope": scope(), "key_id": "https://kv/keys/cmk",
                              "key": customer_key(), "low_priority": not prod, "private": prod, "protect": prod,
                              **WIRING, **overrides})


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: MlWorkspace("ml", _args("dev")), stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(lambda: MlWorkspace("ml", _args("prod")), stack="prod")


def test_workspace_uses_the_stacks_storage_vault_insights_and_registry(dev):
    workspace = one(dev, ":machinelearningservices:Workspace")["inputs"]
    assert {k: workspace[k] for k in ("storageAccount", "keyVault", "applicationInsights", "containerRegistry")} == {
        "storageAccount": "/storage", "keyVault": VAULT, "applicationInsights": "/appi", "containerRegistry": "/acr"}


def test_workspace_reads_storage_with_its_identity(dev):
    """The account has shared keys off: system datastores must use identity auth (Azure ML datastore docs)."""
    workspace = one(dev, ":machinelearningservices:Workspace")["inputs"]
    assert workspace["systemDatastoresAuthMode"] == "identity"
    assert workspace["identity"]["type"] == "SystemAssigned,UserAssigned"


def test_workspace_data_is_encrypted_with_the_stacks_key_and_a_key_change_replaces_it(dev):
    workspace = one(dev, ":machinelearningservices:Workspace")
    encryption = workspace["inputs"]["encryption"]
    assert encryption["status"] == "Enabled"
    assert encryption["keyVaultProperties"] == {"keyVaultArmId": VAULT, "keyIdentifier": "https://kv/keys/cmk"}
    assert workspace["inputs"]["enableServiceSideCMKEncryption"] is True
    assert "encryption" in workspace["replaceOnChanges"]


def test_gpu_compute_scales_to_zero_without_public_ips(dev):
    compute = one(dev, ":machinelearningservices:Compute")["inputs"]["properties"]
    props = compute["properties"]
    assert props["scaleSettings"]["minNodeCount"] == 0 and props["scaleSettings"]["maxNodeCount"] == 2
    assert (props["enableNodePublicIp"], props["remoteLoginPortPublicAccess"]) == (False, "Disabled")
    assert props["vmSize"] == "Standard_NC4as_T4_v3"
    assert compute["disableLocalAuth"] is True


def test_dev_trains_on_low_priority_nodes_prod_on_dedicated(dev, prod):
    def priority(plan):
        return one(plan, ":machinelearningservices:Compute")["inputs"]["properties"]["properties"]["vmPriority"]
    assert (priority(dev), priority(prod)) == ("LowPriority", "Dedicated")


def test_prod_workspace_is_private_isolated_and_protected(dev, prod):
    workspace = one(prod, ":machinelearningservices:Workspace")
    assert workspace["inputs"]["publicNetworkAccess"] == "Disabled"
    assert workspace["inputs"]["managedNetwork"]["isolationMode"] == "AllowOnlyApprovedOutbound"
    assert workspace["protect"] is True
    dev_ws = one(dev, ":machinelearningservices:Workspace")
    assert (dev_ws["inputs"]["publicNetworkAccess"], dev_ws["protect"]) == ("Enabled", False)


def test_drift_monitor_identity_is_attached_and_holds_the_workspace_data_plane_role(dev):
    """The monitor's serverless Spark job runs as a user-assigned identity attached to the workspace (Azure ML docs,
    "Configure Apache Spark jobs") and reads the collected-inputs data asset / writes its signal output through the
    workspace: AzureML Data Scientist on the workspace, blob read on the baselines, blob write on the workspace's
    default container (Azure ML docs, "Manage access to Azure Machine Learning workspaces")."""
    from tests.components.azure.support import role_ids

    identity = next(r for r in dev.resources if r["name"] == "ml-monitor-identity")
    assert identity["inputs"]["resourceName"].endswith("monitor-id")
    workspace = one(dev, ":machinelearningservices:Workspace")["inputs"]
    assert len(workspace["identity"]["userAssignedIdentities"]) == 2
    roles = role_ids(dev)
    assert roles["ml-monitor-data-scientist"] == "f6c7c914-8db3-469d-8ca1-694a8f32e121"
    scopes = {r["name"]: r["inputs"]["scope"] for r in dev.resources if r["type"].endswith(":RoleAssignment")}
    assert scopes["ml-monitor-baselines-read"].endswith("/containers/models")
    assert "/containers/azureml-blobstore-" in scopes["ml-monitor-workspace-blobs-write"]


def test_compute_lives_in_the_managed_network_not_a_custom_subnet(dev, prod):
    """A workspace with a managed network refuses compute in a customer VNet ("When using Managed Vnet, you can't
    deploy compute resources inside your custom Vnet", Azure ML docs "Managed virtual network isolation",
    limitations - MicrosoftDocs/azure-docs#123745; hashicorp/terraform-provider-azurerm#29622)."""
    for plan in (dev, prod):
        assert "subnet" not in one(plan, ":machinelearningservices:Compute")["inputs"]["properties"]["properties"]


def test_dev_deployments_and_monitors_reach_the_firewalled_account_through_a_private_endpoint(dev, prod):
    """The storage account denies by default and allows only the stack's subnets; managed online deployments and
    serverless Spark run on Microsoft-managed networks whose egress, without a workspace managed network, is public
    (Azure ML docs, "Network isolation with managed online endpoints"), so the firewall refused the model download,
    the data collector and the drift monitor in dev. Azure adds private endpoints on its own only for resources
    with public network access disabled in internet-outbound mode (Azure ML docs, "Managed virtual network
    isolation", required rules), so dev declares the blob endpoint (Spark-enabled for the monitors)."""
    dev_network = one(dev, ":machinelearningservices:Workspace")["inputs"]["managedNetwork"]
    assert dev_network["isolationMode"] == "AllowInternetOutbound"
    (rule,) = dev_network["outboundRules"].values()
    assert (rule["type"], rule["category"]) == ("PrivateEndpoint", "UserDefined")
    assert rule["destination"] == {"serviceResourceId": "/storage", "subresourceTarget": "blob", "sparkEnabled": True}
    prod_network = one(prod, ":machinelearningservices:Workspace")["inputs"]["managedNetwork"]
    assert prod_network["isolationMode"] == "AllowOnlyApprovedOutbound" and not prod_network.get("outboundRules")
