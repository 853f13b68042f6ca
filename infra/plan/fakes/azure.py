"""What Azure computes for the resources and invokes the Azure components use."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

from infra.plan.fakes import SUBSCRIPTION_ID, TENANT_ID, Ctx, provider


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


_NAME_INPUTS = {
    "StorageAccount": "accountName", "Registry": "registryName", "Vault": "vaultName", "Key": "keyName",
    "Workspace": "workspaceName", "OnlineEndpoint": "endpointName", "OnlineDeployment": "deploymentName",
    "ManagedCluster": "resourceName", "UserAssignedIdentity": "resourceName", "ResourceGroup": "resourceGroupName",
    "Compute": "computeName", "VirtualNetwork": "virtualNetworkName", "Subnet": "subnetName",
    "ActionGroup": "actionGroupName", "MetricAlert": "ruleName", "ScheduledQueryRule": "ruleName",
}
"""The input holding the physical name Azure gives the resource (azure-native names it per type)."""


def _physical(ctx: Ctx) -> str:
    """The declared name when the program sets one (as Azure would answer), else Pulumi's autoname."""
    key = _NAME_INPUTS.get(ctx.type.rsplit(":", 1)[-1])
    value = ctx.inputs.get(key) if key else None
    return value if isinstance(value, str) and value else ctx.physical


def _resource_id(ctx: Ctx) -> str:
    provider_ns = ctx.type.split(":")[1].split("/")[0]
    resource_type = ctx.type.rsplit(":", 1)[-1]
    return (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{ctx.cloud.resource_group}/providers/"
            f"Microsoft.{provider_ns[0].upper()}{provider_ns[1:]}/{resource_type[0].lower()}{resource_type[1:]}s/"
            f"{_physical(ctx)}")


def _identity(ctx: Ctx) -> dict[str, Any]:
    """Managed identity blocks as Azure answers them: user-assigned ids become a map of principals."""
    identity = ctx.inputs.get("identity")
    if not isinstance(identity, dict):
        return {}
    answer = {**identity, "principalId": _guid(ctx.name, "system"), "tenantId": TENANT_ID}
    assigned = identity.get("userAssignedIdentities")
    if isinstance(assigned, list):
        answer["userAssignedIdentities"] = {str(i): {"principalId": _guid(str(i)), "clientId": _guid(str(i), "c")}
                                            for i in assigned}
    return {"identity": answer}


def _azure_default(ctx: Ctx) -> dict[str, Any]:
    name = _physical(ctx)
    return {"id": _resource_id(ctx), "name": name, **_identity(ctx)}


def _with(extra: Callable[[Ctx], dict[str, Any]]) -> Callable[[Ctx], dict[str, Any]]:
    def fake(ctx: Ctx) -> dict[str, Any]:
        return {**_azure_default(ctx), **extra(ctx)}
    return fake


def _properties(ctx: Ctx, **computed: Any) -> dict[str, Any]:
    return {"properties": {**(ctx.inputs.get("properties") or {}), **computed}}


provider(
    "azure-native:",
    resources={
        "azure-native:managedidentity:UserAssignedIdentity": _with(lambda c: {
            "principalId": _guid(c.name, "principal"), "clientId": _guid(c.name, "client"), "tenantId": TENANT_ID}),
        "azure-native:storage:StorageAccount": _with(lambda c: {"primaryEndpoints": {
            "blob": f"https://{_physical(c)}.blob.core.windows.net/", "dfs": f"https://{_physical(c)}.dfs.core.windows.net/"}}),
        "azure-native:containerregistry:Registry": _with(lambda c: {"loginServer": f"{_physical(c)}.azurecr.io"}),
        "azure-native:keyvault:Vault": _with(lambda c: _properties(c, vaultUri=f"https://{_physical(c)}.vault.azure.net/")),
        "azure-native:keyvault:Key": _with(lambda c: {
            "keyUri": f"https://vault.vault.azure.net/keys/{_physical(c)}",
            "keyUriWithVersion": f"https://vault.vault.azure.net/keys/{_physical(c)}/"
                                 f"{_guid(c.name).replace('-', '')}"}),
        "azure-native:containerservice:ManagedCluster": _with(lambda c: {
            "fqdn": f"{_physical(c)}.hcp.{c.cloud.location}.azmk8s.io",
            "oidcIssuerProfile": {"enabled": True, "issuerURL": f"https://{c.cloud.location}.oic.prod-aks.azure.com/"
                                                                f"{TENANT_ID}/{_guid(c.name)}/"},
            # The kubelet identity AKS creates in the node resource group when none is given.
            "identityProfile": {"kubeletidentity": {
                "clientId": _guid(c.name, "kubelet-client"), "objectId": _guid(c.name, "kubelet"),
                "resourceId": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/MC_{_physical(c)}/providers/"
                              f"Microsoft.ManagedIdentity/userAssignedIdentities/{_physical(c)}-agentpool"}}}),
        "azure-native:machinelearningservices:Workspace": _with(lambda c: {"workspaceId": _guid(c.name, "workspace")}),
        "azure-native:machinelearningservices:OnlineEndpoint": _with(lambda c: _properties(
            c, scoringUri=f"https://{_physical(c)}.{c.cloud.location}.inference.ml.azure.com/score",
            swaggerUri=f"https://{_physical(c)}.{c.cloud.location}.inference.ml.azure.com/swagger.json")),
    },
    invokes={
        "azure-native:authorization:getClientConfig": lambda c, _: {
            "clientId": "22222222-2222-2222-2222-222222222222", "objectId": "33333333-3333-3333-3333-333333333333",
            "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID},
        "azure-native:authorization:getClientToken": lambda c, _: {"token": "plan-token"},
        "azure-native:containerservice:listManagedClusterUserCredentials": lambda c, args: {"kubeconfigs": [{
            "name": "clusterUser", "value": base64.b64encode(
                f"apiVersion: v1\nkind: Config\nclusters:\n- name: {args.get('resourceName')}\n".encode()).decode()}]},
    },
    default=_azure_default,
)
