"""MlWorkspace: the Azure ML workspace, wired to the stack's storage, Key Vault, App Insights and ACR, and a
GPU compute cluster for training.

- Identity: system-assigned (Azure ML grants it what it needs on the dependent resources when the workspace
  is created) plus the CMK identity, through which the workspace's data is encrypted with the stack's key
  (service-side encryption: no Microsoft-managed resource group with its own Cosmos DB and Search).
  Encryption settings are fixed at creation: changing the key replaces the workspace.
- Storage: the account has shared-key access off, which a workspace accepts only with identity-based access
  to its system datastores (`systemDatastoresAuthMode: identity`), and hierarchical namespace off.
- Network: every workspace has a managed network, because the storage account's firewall denies by default and
  managed online deployments, serverless Spark (the drift monitors) and compute run on Microsoft-managed networks:
  without a managed network their egress is public and the firewall refuses the model download, the data
  collector's writes and the monitor's reads (Azure ML docs, "Network isolation with managed online endpoints";
  Azure Storage docs, "Configure Azure Storage firewalls and virtual networks"). Prod disables public network
  access and allows approved outbound only (Azure adds private endpoints to the storage account, vault and
  registry itself); dev allows internet outbound and declares the private endpoint to the account's blobs
  (Spark-enabled), which Azure only adds on its own for resources with public network access disabled (Azure ML
  docs, "Managed virtual network isolation", required rules). Dev keeps public workspace access. The network is
  provisioned for serverless Spark (the drift monitors) by `SparkNetwork` (network_provisioning.py).
- Drift monitor identity: a user-assigned identity attached to the workspace that the model monitors' serverless
  Spark jobs run as. Serverless Spark uses only a user-assigned identity attached to the workspace ("serverless
  Spark compute relies on a user-assigned managed identity attached to the workspace", Azure ML docs, "Configure
  Apache Spark jobs"), so the endpoints' identities (not attached) cannot run them, and the job reads the
  collected-inputs data asset and writes its signal output through the workspace's data plane: *AzureML Data
  Scientist* on the workspace, blob read on `models` (the training baselines) and blob write on the workspace's
  default container (collected inputs, monitor output). The serving identities stay narrow.
- Compute: an AmlCompute cluster on the catalog's GPU VM size, 0..max nodes (scales to zero when idle),
  low priority in dev, no public node IPs, in the workspace's managed network: "When using Managed Vnet, you can't
  deploy compute resources inside your custom Vnet" (Azure ML docs, "Managed virtual network isolation",
  limitations; hashicorp/terraform-provider-azurerm#29622).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.artifact_store import CustomerKey
from components.azure.naming import AzureNames, check_azure_name
from components.azure.network_provisioning import SparkNetwork
from components.azure.roles import Scope, grant

ml = azure.machinelearningservices


@dataclass(frozen=True)
class MlWorkspaceArgs:
    names: AzureNames
    """The stack's physical names."""
    scope: Scope
    """Subscription, tenant, resource group and location."""
    storage_account_id: pulumi.Input[str]
    """ArtifactStore.account_id."""
    key_vault_id: pulumi.Input[str]
    """KeyVault.vault_id."""
    key_id: pulumi.Input[str]
    """Versionless key id of the customer-managed key."""
    key: CustomerKey
    """The CMK identity and its access."""
    app_insights_id: pulumi.Input[str]
    """Telemetry.app_insights_id."""
    registry_id: pulumi.Input[str]
    """ContainerRegistry.registry_id."""
    gpu_vm_size: str = "Standard_NC4as_T4_v3"
    """Training VM size (GPU catalog)."""
    max_nodes: int = 2
    """Largest training cluster."""
    low_priority: bool = False
    """Low-priority (evictable) training nodes (dev)."""
    private: bool = False
    """No public network access, managed network isolation (prod)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the workspace and compute."""
    protect: bool = False
    """Protect the workspace (prod)."""

    def __post_init__(self) -> None:
        errors = [check_azure_name("ml-workspace", self.names.ml_workspace()),
                  check_azure_name("ml-compute", self.names.compute())]
        errors = [e for e in errors if e]
        if errors:
            raise ValueError("; ".join(errors))


def managed_network(private: bool, storage_account_id: pulumi.Input[str]) -> ml.ManagedNetworkSettingsArgs:
    """Approved outbound only in prod (Azure adds the private endpoints to the workspace's resources); internet
    outbound in dev with a declared, Spark-enabled private endpoint to the storage account's blobs."""
    if private:
        return ml.ManagedNetworkSettingsArgs(isolation_mode="AllowOnlyApprovedOutbound")
    return ml.ManagedNetworkSettingsArgs(isolation_mode="AllowInternetOutbound", outbound_rules={
        "artifacts-blob": ml.PrivateEndpointOutboundRuleArgs(
            type="PrivateEndpoint", category="UserDefined",
            destination=ml.PrivateEndpointDestinationArgs(service_resource_id=storage_account_id,
                                                          subresource_target="blob", spark_enabled=True))})


class MlWorkspace(pulumi.ComponentResource):
    """Workspace + GPU training cluster."""

    workspace_name: pulumi.Output[str]
    workspace_id: pulumi.Output[str]
    compute_name: pulumi.Output[str]
    monitor_identity_id: pulumi.Output[str]
    """The identity the drift monitors run as (attached to the workspace)."""
    default_container: pulumi.Output[str]
    """The workspace's default blob container (`workspaceblobstore`: `azureml-blobstore-<workspace guid>`), where
    online deployments' data collectors write `modelDataCollector/...`."""

    def __init__(self, name: str, args: MlWorkspaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:MlWorkspace", name, None, opts)
        s, tags = args.scope, dict(args.tags)
        monitor = azure.managedidentity.UserAssignedIdentity(
            f"{name}-monitor-identity", resource_name_=args.names.name("monitor-id"),
            resource_group_name=s.resource_group_name, location=s.location, tags=tags,
            opts=pulumi.ResourceOptions(parent=self))
        workspace = ml.Workspace(
            f"{name}-workspace", workspace_name=args.names.ml_workspace(), resource_group_name=s.resource_group_name,
            location=s.location, kind="Default", sku=ml.SkuArgs(name="Basic", tier="Basic"),
            storage_account=args.storage_account_id, key_vault=args.key_vault_id,
            application_insights=args.app_insights_id, container_registry=args.registry_id,
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned,UserAssigned",
                                                   user_assigned_identities=[args.key.identity_id, monitor.id]),
            encryption=ml.EncryptionPropertyArgs(
                status="Enabled", identity=ml.IdentityForCmkArgs(user_assigned_identity=args.key.identity_id),
                key_vault_properties=ml.KeyVaultPropertiesArgs(key_vault_arm_id=args.key_vault_id,
                                                               key_identifier=args.key_id)),
            enable_service_side_cmk_encryption=True, system_datastores_auth_mode="identity",
            hbi_workspace=args.private, v1_legacy_mode=False,
            public_network_access="Disabled" if args.private else "Enabled",
            managed_network=managed_network(args.private, args.storage_account_id),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect,
                                        depends_on=[args.key.access] if args.key.access else None,
                                        replace_on_changes=["encryption"]))
        compute = ml.Compute(
            f"{name}-gpu", compute_name=args.names.compute(), workspace_name=workspace.name,
            resource_group_name=s.resource_group_name, location=s.location, tags=tags,
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
            properties=ml.AmlComputeArgs(
                compute_type="AmlCompute", disable_local_auth=True,
                properties=ml.AmlComputePropertiesArgs(
                    vm_size=args.gpu_vm_size, vm_priority="LowPriority" if args.low_priority else "Dedicated",
                    os_type="Linux", enable_node_public_ip=False, remote_login_port_public_access="Disabled",
                    scale_settings=ml.ScaleSettingsArgs(min_node_count=0, max_node_count=args.max_nodes,
                                                        node_idle_time_before_scale_down="PT10M"))),
            opts=pulumi.ResourceOptions(parent=self))
        self.workspace_name, self.workspace_id, self.compute_name = workspace.name, workspace.id, compute.name
        self.default_container = pulumi.Output.concat("azureml-blobstore-", workspace.workspace_id)
        containers = pulumi.Output.concat(args.storage_account_id, "/blobServices/default/containers/")
        for role_name, role, scope in (
                ("data-scientist", "AzureML Data Scientist", workspace.id),
                ("baselines-read", "Storage Blob Data Reader", pulumi.Output.concat(containers, "models")),
                ("workspace-blobs-write", "Storage Blob Data Contributor",
                 pulumi.Output.concat(containers, self.default_container))):
            grant(f"{name}-monitor-{role_name}", subscription_id=s.subscription_id, scope=scope,
                  principal_id=monitor.principal_id, role=role, parent=self)
        self.monitor_identity_id = monitor.id
        SparkNetwork(f"{name}-spark-network", subscription_id=s.subscription_id,
                     resource_group_name=s.resource_group_name, workspace_name=workspace.name,
                     opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"workspace_name": workspace.name, "workspace_id": workspace.id,
                               "compute_name": compute.name})
