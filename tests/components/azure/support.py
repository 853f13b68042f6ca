"""What the Azure component tests share: a stack's names and scope, and queries over a component's plan."""

from __future__ import annotations

from typing import Any

from components.azure.artifact_store import CustomerKey
from components.azure.naming import AzureNames
from components.azure.roles import Scope
from components.naming import Namer

SUB = "00000000-0000-0000-0000-000000000000"
RG = "mlops-dev-rg"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/aks"
VAULT = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv"
CMK_IDENTITY = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/c"


def names(env: str = "dev", prefix: str = "mlops") -> AzureNames:
    return AzureNames(Namer(prefix, env), "westeurope", "ml-platform")


def scope() -> Scope:
    return Scope(subscription_id=SUB, tenant_id="11111111-1111-1111-1111-111111111111", resource_group_name=RG,
                 location="westeurope")


def customer_key() -> CustomerKey:
    return CustomerKey(vault_uri="https://kv.vault.azure.net/", key_name="mlops-dev-cmk", identity_id=CMK_IDENTITY,
                       identity_client_id="cmk-client")


def one(plan, suffix: str) -> dict[str, Any]:
    """The only resource whose type ends in `suffix`."""
    found = [r for r in plan.resources if r["type"].endswith(suffix)]
    assert len(found) == 1, [r["name"] for r in found]
    return found[0]


def every(plan, suffix: str) -> list[dict[str, Any]]:
    return [r for r in plan.resources if r["type"].endswith(suffix)]


def role_ids(plan) -> dict[str, str]:
    """Role assignment logical name -> built-in role GUID."""
    return {r["name"]: r["inputs"]["roleDefinitionId"].rsplit("/", 1)[-1] for r in every(plan, ":RoleAssignment")}
