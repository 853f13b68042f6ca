"""Foundation under mocks: resource group, VNet, one NSG per subnet, NAT only for the compute subnet."""

from __future__ import annotations

import pytest

from components.azure.foundation import STORAGE_CLIENTS, Foundation, FoundationArgs, subnet_ranges
from infra.plan.engine import plan_program
from tests.components.azure.support import every, names, one


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: Foundation("net", FoundationArgs(names=names(), location="westeurope")), stack="dev")


def test_subnets_split_the_address_space_without_overlap():
    assert subnet_ranges("10.0.0.0/16") == {"aks": "10.0.0.0/17", "endpoints": "10.0.128.0/18",
                                           "compute": "10.0.192.0/18"}


def test_every_subnet_has_its_own_nsg_and_no_default_outbound_access(dev):
    subnets = {s["inputs"]["subnetName"]: s["inputs"] for s in every(dev, ":Subnet")}
    assert sorted(subnets) == ["aks", "compute", "endpoints"]
    assert len(every(dev, ":NetworkSecurityGroup")) == 3
    assert len({s["networkSecurityGroup"]["id"] for s in subnets.values()}) == 3
    assert all(s["defaultOutboundAccess"] is False for s in subnets.values())
    assert "natGateway" in subnets["compute"] and "natGateway" not in subnets["aks"]


def test_subnets_of_one_vnet_are_created_one_after_another(dev):
    """Concurrent subnet PUTs on one VNet fail with AnotherOperationInProgress (azure-native subnet docs)."""
    subnets = {s["inputs"]["subnetName"]: s for s in every(dev, ":Subnet")}
    assert subnets["aks"]["urn"] in subnets["endpoints"]["dependencies"]
    assert subnets["endpoints"]["urn"] in subnets["compute"]["dependencies"]
    assert "subnets" in one(dev, ":VirtualNetwork")["ignoreChanges"]


def test_prod_protects_the_resource_group(plan_component):
    plan = plan_component(lambda: Foundation("net", FoundationArgs(names=names("prod"), location="westeurope",
                                                                    protect=True)), stack="prod")
    assert one(plan, ":ResourceGroup")["protect"] is True


def test_subnets_the_storage_firewall_admits_have_the_storage_service_endpoint(dev):
    """A storage VNet rule for a subnet without the Microsoft.Storage service endpoint fails the account's create
    (NetworkAclsValidationFailure: SubnetsHaveNoServiceEndpointsConfigured,
    hashicorp/terraform-provider-azurerm#16547)."""
    subnets = {s["inputs"]["subnetName"]: s["inputs"] for s in every(dev, ":Subnet")}
    for role in STORAGE_CLIENTS:
        assert subnets[role]["serviceEndpoints"] == [{"service": "Microsoft.Storage"}]
    assert "serviceEndpoints" not in subnets["endpoints"]
