"""ArtifactStore (Azure): a storage account with one container each for models, data capture and monitoring.

Secure settings: HTTPS only, TLS 1.2 minimum, no anonymous blob access, shared-key (account key and SAS)
access off (every reader uses Entra ID: the endpoints' identity, the ML workspace with
`systemDatastoresAuthMode: identity`), infrastructure encryption (a second AES layer) with the stack's
customer-managed key through the CMK identity, blob versioning, soft delete for blobs and containers,
network rules (deny by default; Azure services and the stack's subnets allowed), and a lifecycle policy that
expires captured data and monitoring output after `retention_days` and replaced versions after
`noncurrent_version_days`. Hierarchical namespace stays off: an Azure ML workspace refuses a storage account
with HNS. Infrastructure encryption and the account kind are fixed at creation (a change replaces the
account), so `protect` holds them in prod.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.naming import AzureNames, check_azure_name
from components.azure.roles import Scope

st = azure.storage
CONTAINERS = ("models", "datacapture", "monitoring")
EXPIRING = ("datacapture/", "monitoring/")


@dataclass(frozen=True)
class CustomerKey:
    """A Key Vault key and the user-assigned identity allowed to use it (KeyVault component outputs)."""

    vault_uri: pulumi.Input[str]
    key_name: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    """Resource id of the user-assigned identity allowed to use the key."""
    identity_client_id: pulumi.Input[str]
    """Its client id (ACR and the ML workspace name the identity by client id)."""
    access: pulumi.Resource | None = None
    """The identity's role assignment on the vault; consumers are created after it."""


@dataclass(frozen=True)
class ArtifactStoreArgs:
    names: AzureNames
    """The stack's physical names (the account name is global: 3-24 lowercase letters and digits)."""
    scope: Scope
    """Subscription, tenant, resource group and location."""
    key: CustomerKey
    """Customer-managed key for blobs."""
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Subnets allowed through the account's firewall (AKS, ML compute)."""
    retention_days: int = 90
    """Captured data and monitoring output expire after this many days."""
    noncurrent_version_days: int = 30
    """Replaced blob versions are deleted after this many days."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the account."""
    protect: bool = False
    """Protect and retain the account (prod)."""

    def __post_init__(self) -> None:
        problem = check_azure_name("storage-account", self.names.storage_account())
        if problem:
            raise ValueError(problem)


def lifecycle_rules(retention_days: int, noncurrent_version_days: int) -> list[st.ManagementPolicyRuleArgs]:
    """Expire captured data / monitoring output, and replaced versions everywhere."""
    return [
        st.ManagementPolicyRuleArgs(name="expire-captured-data", type="Lifecycle", enabled=True,
                                    definition=st.ManagementPolicyDefinitionArgs(
                                        filters=st.ManagementPolicyFilterArgs(blob_types=["blockBlob"],
                                                                              prefix_match=list(EXPIRING)),
                                        actions=st.ManagementPolicyActionArgs(base_blob=st.ManagementPolicyBaseBlobArgs(
                                            delete=st.DateAfterModificationArgs(
                                                days_after_modification_greater_than=retention_days))))),
        st.ManagementPolicyRuleArgs(name="expire-noncurrent-versions", type="Lifecycle", enabled=True,
                                    definition=st.ManagementPolicyDefinitionArgs(
                                        filters=st.ManagementPolicyFilterArgs(blob_types=["blockBlob"]),
                                        actions=st.ManagementPolicyActionArgs(version=st.ManagementPolicyVersionArgs(
                                            delete=st.DateAfterCreationArgs(
                                                days_after_creation_greater_than=noncurrent_version_days))))),
    ]


class ArtifactStore(pulumi.ComponentResource):
    """Storage account, blob service settings, containers and lifecycle."""

    account_name: pulumi.Output[str]
    account_id: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]
    """`https://<account>.blob.core.windows.net/`."""

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:ArtifactStore", name, None, opts)
        s, k = args.scope, args.key
        account = st.StorageAccount(
            f"{name}-account", account_name=args.names.storage_account(), resource_group_name=s.resource_group_name,
            location=s.location, kind="StorageV2",
            sku=st.SkuArgs(name="Standard_ZRS" if args.protect else "Standard_LRS"),
            enable_https_traffic_only=True, minimum_tls_version="TLS1_2", allow_blob_public_access=False,
            allow_shared_key_access=False, default_to_o_auth_authentication=True, is_hns_enabled=False,
            allow_cross_tenant_replication=False, public_network_access="Enabled",
            network_rule_set=st.NetworkRuleSetArgs(
                default_action="Deny", bypass="AzureServices",
                virtual_network_rules=[st.VirtualNetworkRuleArgs(virtual_network_resource_id=subnet)
                                       for subnet in args.subnet_ids]),
            identity=st.IdentityArgs(type="UserAssigned", user_assigned_identities=[k.identity_id]),
            encryption=st.EncryptionArgs(
                key_source="Microsoft.Keyvault", require_infrastructure_encryption=True,
                key_vault_properties=st.KeyVaultPropertiesArgs(key_name=k.key_name, key_vault_uri=k.vault_uri),
                encryption_identity=st.EncryptionIdentityArgs(encryption_user_assigned_identity=k.identity_id),
                services=st.EncryptionServicesArgs(blob=st.EncryptionServiceArgs(enabled=True, key_type="Account"))),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect,
                                        depends_on=[k.access] if k.access else None))
        rg = s.resource_group_name
        blob_service = st.BlobServiceProperties(
            f"{name}-blob-service", account_name=account.name, resource_group_name=rg, blob_services_name="default",
            is_versioning_enabled=True,
            delete_retention_policy=st.DeleteRetentionPolicyArgs(enabled=True, days=14),
            container_delete_retention_policy=st.DeleteRetentionPolicyArgs(enabled=True, days=14),
            opts=pulumi.ResourceOptions(parent=self))
        for container in CONTAINERS:
            st.BlobContainer(f"{name}-{container}", container_name=container, account_name=account.name,
                             resource_group_name=rg, public_access="None",
                             opts=pulumi.ResourceOptions(parent=self, depends_on=[blob_service]))
        st.ManagementPolicy(f"{name}-lifecycle", account_name=account.name, resource_group_name=rg,
                            management_policy_name="default",
                            policy=st.ManagementPolicySchemaArgs(
                                rules=lifecycle_rules(args.retention_days, args.noncurrent_version_days)),
                            opts=pulumi.ResourceOptions(parent=self))
        self.account_name, self.account_id = account.name, account.id
        self.blob_endpoint = account.primary_endpoints.blob
        self.register_outputs({"account_name": account.name, "account_id": account.id,
                               "blob_endpoint": self.blob_endpoint})

    def blob_url(self, key: str) -> pulumi.Output[str]:
        """`https://<account>.blob.core.windows.net/<key>` (a key such as `models/fraud/7/model.tar.gz`)."""
        return self.blob_endpoint.apply(lambda endpoint: f"{endpoint.rstrip('/')}/{key}")
