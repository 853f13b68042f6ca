"""Azure RBAC from named built-in roles, so no call site writes a role definition GUID or a scope by hand.

`Scope` is where a stack's resources live (subscription, tenant, resource group, location). `grant` assigns
one built-in role to one principal on one resource. The assignment's name is a UUID derived from (scope,
principal, role): Azure refuses a second assignment of the same role to the same principal on the same
scope under another name (`RoleAssignmentExists`, 409), so a random name would make a re-run fail after a
half-way failure that created the assignment but never recorded it; a derived name makes the PUT idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

# Built-in role definition ids (Azure built-in roles reference): the least privilege each grant needs.
ROLES: dict[str, str] = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "AzureML Metrics Writer (preview)": "635dd51f-9968-44d3-b7fb-6d9a6bd613ae",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
}
_NAMESPACE = uuid.UUID("6f1c2b4e-9a55-4b7e-8d2a-3c1e0f6a9b10")


@dataclass(frozen=True)
class Scope:
    """Where an Azure stack lives; the composition asks the provider once (getClientConfig)."""

    subscription_id: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    """`/subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<guid>` of a built-in role."""
    if role not in ROLES:
        raise KeyError(f"unknown role {role!r}; known: {', '.join(sorted(ROLES))}")
    return pulumi.Output.concat("/subscriptions/", subscription_id,
                                "/providers/Microsoft.Authorization/roleDefinitions/", ROLES[role])


def assignment_name(scope: str, principal_id: str, role: str) -> str:
    """The deterministic GUID of one (scope, principal, role) assignment."""
    return str(uuid.uuid5(_NAMESPACE, f"{scope.lower()}|{principal_id}|{ROLES[role]}"))


def grant(name: str, *, subscription_id: pulumi.Input[str], scope: pulumi.Input[str],
          principal_id: pulumi.Input[str], role: str, parent: pulumi.Resource,
          principal_type: str = "ServicePrincipal") -> azure.authorization.RoleAssignment:
    """Assign built-in `role` to a managed identity (`principal_type` ServicePrincipal) on `scope`. The SDK sends
    `User` when no type is given, and Azure refuses a type that does not match the principal
    (`UnmatchedPrincipalType`): name the type of any other principal."""
    return azure.authorization.RoleAssignment(
        name,
        role_assignment_name=pulumi.Output.all(scope, principal_id).apply(
            lambda v: assignment_name(str(v[0]), str(v[1]), role)),
        scope=scope, principal_id=principal_id, principal_type=principal_type,
        role_definition_id=role_definition_id(subscription_id, role),
        opts=pulumi.ResourceOptions(parent=parent))
