"""KeyVault: the stack's Key Vault and customer-managed key, and the identity services use to read it.

- RBAC authorization (no access policies), soft delete and purge protection: Azure requires both on a
  vault whose keys encrypt storage accounts, registries and ML workspaces. Purge protection is
  irreversible once on, and the soft-delete retention is fixed at creation; a deleted vault keeps its
  (global) name for that many days (7 in dev, 90 in prod), so re-creating a destroyed stack needs
  `az keyvault recover` or another namePrefix (docs/runbooks/disaster-recovery.md).
- One RSA key with a rotation policy (rotate 30 days before its one-year expiry); consumers reference the
  versionless key id, so rotation needs no redeploy.
- A user-assigned identity (`cmk_identity_id`) granted "Key Vault Crypto Service Encryption User" on the
  vault: storage, ACR and the ML workspace use it to wrap their data keys. It exists before them, so their
  create does not race a system identity that only exists afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.naming import AzureNames, check_azure_name
from components.azure.rbac_propagation import RbacPropagation
from components.azure.roles import Scope, grant

kv = azure.keyvault


def retention_days(environment: str) -> int:
    """Soft-delete retention: the minimum (7) outside prod, the maximum (90) in prod."""
    return 90 if environment == "prod" else 7


@dataclass(frozen=True)
class KeyVaultArgs:
    names: AzureNames
    """The stack's physical names (the vault name is global)."""
    scope: Scope
    """Subscription, tenant, resource group and location."""
    environment: str = "dev"
    """dev / staging / prod: soft-delete retention and protection."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""
    protect: bool = False
    """Protect the vault and its key (prod)."""

    def __post_init__(self) -> None:
        problem = check_azure_name("key-vault", self.names.key_vault())
        if problem:
            raise ValueError(problem)


class KeyVault(pulumi.ComponentResource):
    """Vault, rotating key, and the customer-managed-key identity."""

    vault_id: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    key_name: pulumi.Output[str]
    key_id: pulumi.Output[str]
    """Versionless key URI (`https://<vault>.vault.azure.net/keys/<name>`), for consumers that follow rotation."""
    key_version_id: pulumi.Output[str]
    """Key URI with its current version (AKS KMS needs a versioned id)."""
    cmk_identity_id: pulumi.Output[str]
    cmk_identity_client_id: pulumi.Output[str]
    cmk_access: pulumi.Resource
    """What consumers of the key wait for: the role assignment and its propagation (rbac_propagation.py)."""

    def __init__(self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:KeyVault", name, None, opts)
        s, tags = args.scope, dict(args.tags)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        vault = kv.Vault(
            f"{name}-vault", vault_name=args.names.key_vault(), resource_group_name=s.resource_group_name,
            location=s.location, tags=tags,
            properties=kv.VaultPropertiesArgs(
                tenant_id=s.tenant_id, sku=kv.SkuArgs(family="A", name="standard"),
                enable_rbac_authorization=True, enable_soft_delete=True, enable_purge_protection=True,
                soft_delete_retention_in_days=retention_days(args.environment),
                # AKS KMS in public key-vault mode must reach the vault; RBAC still gates every call.
                network_acls=kv.NetworkRuleSetArgs(bypass="AzureServices", default_action="Allow")),
            opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(
                replace_on_changes=["properties.softDeleteRetentionInDays"])))
        key = kv.Key(
            f"{name}-key", key_name=args.names.name("cmk"), vault_name=vault.name,
            resource_group_name=s.resource_group_name, tags=tags,
            properties=kv.KeyPropertiesArgs(
                kty="RSA", key_size=3072, key_ops=["wrapKey", "unwrapKey", "encrypt", "decrypt"],
                rotation_policy=kv.RotationPolicyArgs(
                    attributes=kv.KeyRotationPolicyAttributesArgs(expiry_time="P1Y"),
                    lifetime_actions=[kv.LifetimeActionArgs(action=kv.ActionArgs(type="rotate"),
                                                            trigger=kv.TriggerArgs(time_before_expiry="P30D"))])),
            opts=stateful)
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-cmk-identity", resource_name_=args.names.name("cmk-id"), resource_group_name=s.resource_group_name,
            location=s.location, tags=tags, opts=pulumi.ResourceOptions(parent=self))
        access = grant(f"{name}-cmk-access", subscription_id=s.subscription_id, scope=vault.id,
                       principal_id=identity.principal_id, role="Key Vault Crypto Service Encryption User", parent=self)
        self.cmk_access = RbacPropagation(f"{name}-cmk-propagation", [access],
                                          opts=pulumi.ResourceOptions(parent=self))
        self.vault_id, self.vault_uri = vault.id, vault.properties.vault_uri
        self.key_name, self.key_id, self.key_version_id = key.name, key.key_uri, key.key_uri_with_version
        self.cmk_identity_id, self.cmk_identity_client_id = identity.id, identity.client_id
        self.register_outputs({"vault_id": self.vault_id, "key_id": self.key_id, "cmk_identity_id": identity.id})
