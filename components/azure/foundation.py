"""Foundation: the stack's resource group, and a VNet with subnets for AKS, private endpoints and ML compute.

Subnets are carved from `cidr`: half for AKS nodes (Azure CNI overlay: pods take addresses from an overlay
range, so nodes only need these), a quarter each for private endpoints and the Azure ML compute cluster.
Every subnet has its own NSG (Azure's default rules: VNet and load balancer in, internet in denied) and no
default outbound access (Azure retires it for new VNets); the ML compute subnet, whose nodes have no public
IP, gets a NAT gateway so training nodes reach Azure ML, storage and the registry. The AKS and compute subnets
carry the `Microsoft.Storage` service endpoint: the storage account's network rules admit them, and Azure refuses a
VNet rule for a subnet without it (NetworkAclsValidationFailure, hashicorp/terraform-provider-azurerm#16547).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.naming import AzureNames

net = azure.network
STORAGE_CLIENTS = ("aks", "compute")
"""Subnets the storage account's firewall admits (they need the Microsoft.Storage service endpoint)."""


def subnet_ranges(cidr: str) -> dict[str, str]:
    """`aks` (first half), `endpoints` and `compute` (a quarter each) of the VNet's address space."""
    space = ipaddress.ip_network(cidr)
    half = list(space.subnets(prefixlen_diff=1))
    quarters = list(half[1].subnets(prefixlen_diff=1))
    return {"aks": str(half[0]), "endpoints": str(quarters[0]), "compute": str(quarters[1])}


@dataclass(frozen=True)
class FoundationArgs:
    names: AzureNames
    """The stack's physical names."""
    location: str
    """Azure region (`azure-native:location`)."""
    cidr: str = "10.0.0.0/16"
    """VNet address space (/16 to /23)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""
    protect: bool = False
    """Protect the resource group (prod): deleting it deletes everything in it."""


class Foundation(pulumi.ComponentResource):
    """Resource group, VNet, subnets with NSGs, and the compute subnet's NAT gateway."""

    resource_group_name: pulumi.Output[str]
    vnet_id: pulumi.Output[str]
    subnet_ids: dict[str, pulumi.Output[str]]
    """`aks`, `endpoints` (private endpoints), `compute` (Azure ML compute cluster)."""

    def __init__(self, name: str, args: FoundationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:Foundation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        group = azure.resources.ResourceGroup(
            f"{name}-rg", resource_group_name=args.names.resource_group(), location=args.location, tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        rg = group.name
        ip = net.PublicIPAddress(
            f"{name}-nat-ip", public_ip_address_name=args.names.name("nat-ip"), resource_group_name=rg,
            location=args.location, sku=net.PublicIPAddressSkuArgs(name="Standard"),
            public_ip_allocation_method="Static", tags=tags, opts=child)
        nat = net.NatGateway(
            f"{name}-nat", nat_gateway_name=args.names.name("nat"), resource_group_name=rg, location=args.location,
            sku=net.NatGatewaySkuArgs(name="Standard"), public_ip_addresses=[net.SubResourceArgs(id=ip.id)],
            tags=tags, opts=child)
        vnet = net.VirtualNetwork(
            f"{name}-vnet", virtual_network_name=args.names.name("vnet"), resource_group_name=rg,
            location=args.location, address_space=net.AddressSpaceArgs(address_prefixes=[args.cidr]), tags=tags,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]))  # subnets are their own resources
        self.subnet_ids = {}
        previous: pulumi.Resource | None = None
        for role, prefix in subnet_ranges(args.cidr).items():
            nsg = net.NetworkSecurityGroup(
                f"{name}-{role}-nsg", network_security_group_name=args.names.name(role, "nsg"),
                resource_group_name=rg, location=args.location, tags=tags, opts=child)
            subnet = net.Subnet(
                f"{name}-{role}", subnet_name=role, virtual_network_name=vnet.name, resource_group_name=rg,
                address_prefix=prefix, network_security_group=net.NetworkSecurityGroupArgs(id=nsg.id),
                default_outbound_access=False,
                nat_gateway=net.SubResourceArgs(id=nat.id) if role == "compute" else None,
                private_endpoint_network_policies="Enabled" if role == "endpoints" else None,
                service_endpoints=[net.ServiceEndpointPropertiesFormatArgs(service="Microsoft.Storage")]
                if role in STORAGE_CLIENTS else None,
                # Subnets of one VNet are updated one at a time (concurrent PUTs fail with AnotherOperationInProgress).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous else None))
            self.subnet_ids[role] = subnet.id
            previous = subnet
        self.resource_group_name = rg
        self.vnet_id = vnet.id
        self.register_outputs({"resource_group_name": rg, "vnet_id": self.vnet_id, "subnet_ids": self.subnet_ids})
