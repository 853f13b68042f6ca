"""Azure-only rules: Key Vault protection, identity-only storage, registry access, online endpoint safety.

The traffic rule is the plan-time half of Azure/azureml-examples#3311: an online endpoint declares no
`traffic` (it could only name deployments that exist), and the resource that sets the split depends on
every deployment it routes to, so the deployments exist first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from policy.model import Resource, ResourceRule, StackRule
from policy.values import UNKNOWN, get

ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"
TRAFFIC = "pulumi-python:dynamic/azureml:EndpointTraffic"


def _flag(r: Resource, *path: str, want: bool) -> Iterator[str]:
    value = get(r.props, *path)
    if value is not UNKNOWN and value is not want:
        yield f"{'.'.join(path)} must be {str(want).lower()}"


def key_vault_protected(r: Resource) -> Iterator[str]:
    """Key Vaults use RBAC, soft delete and purge protection (customer-managed keys require the last two)."""
    for prop in ("enableRbacAuthorization", "enableSoftDelete", "enablePurgeProtection"):
        yield from _flag(r, "properties", prop, want=True)


def storage_identity_only(r: Resource) -> Iterator[str]:
    """Storage accounts refuse shared keys, encrypt twice and deny network access by default."""
    yield from _flag(r, "allowSharedKeyAccess", want=False)
    yield from _flag(r, "encryption", "requireInfrastructureEncryption", want=True)
    action = get(r.props, "networkRuleSet", "defaultAction")
    if action is not UNKNOWN and action != "Deny":
        yield "networkRuleSet.defaultAction must be Deny (allow the stack's subnets and Azure services)"


def registry_access(r: Resource) -> Iterator[str]:
    """Registries have no admin user and no anonymous pull; prod registries have no public network access."""
    yield from _flag(r, "adminUserEnabled", want=False)
    yield from _flag(r, "anonymousPullEnabled", want=False)
    if r.environment == "prod" and r.props.get("publicNetworkAccess") != "Disabled":
        yield "publicNetworkAccess must be Disabled in prod (use the private endpoint)"


def endpoint_access(r: Resource) -> Iterator[str]:
    """Online endpoints declare no traffic; prod endpoints use Entra tokens and no public network access."""
    if get(r.props, "properties", "traffic") not in (None, {}):
        yield ("properties.traffic is set: it may only name existing deployments (Azure/azureml-examples#3311); "
               "set the split with EndpointTraffic after the deployments")
    if r.environment == "prod":
        if get(r.props, "properties", "authMode") not in ("AADToken", "AMLToken", UNKNOWN):
            yield "properties.authMode must be AADToken in prod (keys do not expire)"
        if get(r.props, "properties", "publicNetworkAccess") != "Disabled":
            yield "properties.publicNetworkAccess must be Disabled in prod"


AZURE_RESOURCES = ResourceRule(
    name="azure-secure-resources",
    description="Azure: protected Key Vaults, identity-only storage, closed registries, safe online endpoints.",
    checks={"azure-native:keyvault:Vault": key_vault_protected,
            "azure-native:storage:StorageAccount": storage_identity_only,
            "azure-native:containerregistry:Registry": registry_access,
            ENDPOINT: endpoint_access},
)


def traffic_after_deployments(resources: list[Resource], config: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """Every deployment an EndpointTraffic routes to is one of its dependencies (it exists first)."""
    deployments = {(get(r.props, "endpointName"), get(r.props, "deploymentName")): r.urn
                   for r in resources if r.type == DEPLOYMENT}
    for r in resources:
        if r.type != TRAFFIC:
            continue
        for slot, weight in sorted((r.props.get("traffic") or {}).items()):
            urn = next((u for (_, name), u in deployments.items() if name == slot and u in r.dependencies), None)
            if weight and urn is None:
                yield r.urn, (f"traffic names deployment {slot!r} but does not depend on it: the split must be set "
                              "after the deployment exists (Azure/azureml-examples#3311)")


TRAFFIC_ORDER = StackRule(
    name="azure-traffic-after-deployments",
    description="Azure ML traffic is set after the deployments it names exist.",
    check=traffic_after_deployments,
)

RULES = [AZURE_RESOURCES, TRAFFIC_ORDER]
