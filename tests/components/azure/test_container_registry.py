"""ContainerRegistry (ACR) under mocks: no admin user, Premium with CMK and retention, private access in prod."""

from __future__ import annotations

import pytest

from components.azure.container_registry import ContainerRegistry, ContainerRegistryArgs
from infra.plan.engine import plan_program
from tests.components.azure.support import SUBNET, customer_key, every, names, one, scope

KEY_ID = "https://kv.vault.azure.net/keys/mlops-cmk"
VNET = SUBNET.rsplit("/subnets/", 1)[0]


def _args(env: str, **overrides) -> ContainerRegistryArgs:
    prod = env == "prod"
    return ContainerRegistryArgs(**{"names": names(env), "scope": scope(), "key_id": KEY_ID, "key": customer_key(),
                                    "services": ("fraud", "churn"), "private": prod, "protect": prod,
                                    "endpoint_subnet_id": SUBNET if prod else None, "vnet_id": VNET if prod else None,
                                    **overrides})


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: ContainerRegistry("reg", _args("dev")), stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(lambda: ContainerRegistry("reg", _args("prod")), stack="prod")


def test_no_admin_user_no_anonymous_pull_entra_tokens_accepted(dev, prod):
    for plan in (dev, prod):
        registry = one(plan, ":Registry")["inputs"]
        assert (registry["adminUserEnabled"], registry["anonymousPullEnabled"]) == (False, False)
        assert registry["policies"]["azureADAuthenticationAsArmPolicy"] == {"status": "enabled"}


def test_premium_with_the_stacks_key_and_untagged_retention(dev):
    """Customer-managed keys and retention policies are Premium-only ACR features (ACR service tiers)."""
    registry = one(dev, ":Registry")["inputs"]
    assert registry["sku"] == {"name": "Premium"}
    assert registry["encryption"] == {"status": "enabled", "keyVaultProperties": {
        "keyIdentifier": KEY_ID, "identity": "cmk-client"}}
    assert registry["policies"]["retentionPolicy"] == {"status": "enabled", "days": 7}


def test_prod_is_private_with_a_private_endpoint_and_dns_zone(prod):
    registry = one(prod, ":Registry")
    assert registry["inputs"]["publicNetworkAccess"] == "Disabled"
    assert registry["inputs"]["networkRuleBypassOptions"] == "AzureServices"  # Azure ML pulls as a trusted service
    assert registry["inputs"]["policies"]["exportPolicy"] == {"status": "disabled"}
    endpoint = one(prod, ":PrivateEndpoint")["inputs"]
    assert endpoint["subnet"]["id"] == SUBNET
    assert endpoint["privateLinkServiceConnections"][0]["groupIds"] == ["registry"]
    assert one(prod, ":PrivateZone")["inputs"]["privateZoneName"] == "privatelink.azurecr.io"
    assert one(prod, ":VirtualNetworkLink")["inputs"]["virtualNetwork"] == {"id": VNET}
    assert one(prod, ":PrivateDnsZoneGroup")


def test_dev_is_public_without_private_endpoint(dev):
    assert one(dev, ":Registry")["inputs"]["publicNetworkAccess"] == "Enabled"
    assert not every(dev, ":PrivateEndpoint") and not every(dev, ":PrivateZone")


def test_prod_protects_and_retains_a_zone_redundant_registry(dev, prod):
    registry = one(prod, ":Registry")
    assert (registry["protect"], registry["retainOnDelete"], registry["inputs"]["zoneRedundancy"]) == (
        True, True, "Enabled")
    assert one(dev, ":Registry")["protect"] is False


def test_repository_urls_per_service(plan_component):
    def build():
        import pulumi
        registry = ContainerRegistry("reg", _args("dev"))
        pulumi.export("urls", registry.repository_urls)

    urls = plan_component(build).outputs["urls"]
    assert sorted(urls) == ["churn", "fraud"] and all(u.endswith(".azurecr.io/" + s) for s, u in urls.items())


def test_private_without_subnet_is_refused():
    with pytest.raises(ValueError, match="private=True needs endpoint_subnet_id and vnet_id"):
        _args("dev", private=True)
