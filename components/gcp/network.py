"""Network (GCP): a custom-mode VPC, one regional subnet with pod and service ranges, Cloud NAT, deny-by-default.

- Custom mode (`auto_create_subnetworks=False`): no subnet in every region, only the one the stack declares.
- The subnet carries the GKE secondary ranges (`pods`, `services`; VPC-native clusters need them), Private
  Google Access (private nodes reach Google APIs without public IPs) and flow logs when asked.
- Cloud Router + Cloud NAT give private nodes egress (image pulls from outside Google), logging errors.
- Firewall: deny all ingress at the lowest priority, allow traffic inside the subnet's ranges and from
  Google's health checkers; egress stays open (NAT'd). GKE adds its own control-plane rules.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.gcp.naming import GcpNames

HEALTH_CHECK_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
"""Google Cloud load balancer health checkers (cloud.google.com/load-balancing/docs/health-check-concepts)."""


def subnet_ranges(cidr: str) -> dict[str, str]:
    """The VPC CIDR split into node, pod and service ranges: pods get half, nodes and services a quarter each."""
    net = ipaddress.ip_network(cidr)
    pods, rest = net.subnets(prefixlen_diff=1)
    nodes, services = rest.subnets(prefixlen_diff=1)
    return {"nodes": str(nodes), "pods": str(pods), "services": str(services)}


@dataclass(frozen=True)
class NetworkArgs:
    names: GcpNames
    """The stack's physical names."""
    region: str
    """Region of the subnet, router and NAT."""
    cidr: str = "10.0.0.0/16"
    """Address space split by `subnet_ranges`."""
    flow_logs: bool = True
    """Record VPC flow logs on the subnet."""


class Network(pulumi.ComponentResource):
    """A custom VPC with one subnet, NAT and deny-by-default ingress."""

    network_id: pulumi.Output[str]
    network_name: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    pods_range: str = "pods"
    services_range: str = "services"

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:Network", name, None, opts)
        child, n, ranges = pulumi.ResourceOptions(parent=self), args.names, subnet_ranges(args.cidr)
        vpc = gcp.compute.Network(f"{name}-vpc", name=n.name("vpc"), auto_create_subnetworks=False,
                                  routing_mode="REGIONAL", opts=child)
        subnet = gcp.compute.Subnetwork(
            f"{name}-subnet", name=n.name("nodes"), region=args.region, network=vpc.id, ip_cidr_range=ranges["nodes"],
            private_ip_google_access=True,
            secondary_ip_ranges=[gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=role, ip_cidr_range=ranges[role])
                                 for role in (self.pods_range, self.services_range)],
            log_config=gcp.compute.SubnetworkLogConfigArgs(aggregation_interval="INTERVAL_5_MIN", flow_sampling=0.5,
                                                          metadata="INCLUDE_ALL_METADATA") if args.flow_logs else None,
            opts=child)
        router = gcp.compute.Router(f"{name}-router", name=n.name("router"), region=args.region, network=vpc.id,
                                    opts=child)
        gcp.compute.RouterNat(
            f"{name}-nat", name=n.name("nat"), router=router.name, region=args.region,
            nat_ip_allocate_option="AUTO_ONLY", source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"), opts=child)
        rules = [("deny-all-ingress", 65534, ["0.0.0.0/0"], [gcp.compute.FirewallDenyArgs(protocol="all")], None),
                 ("allow-internal", 1000, list(ranges.values()), None, [gcp.compute.FirewallAllowArgs(protocol="all")]),
                 ("allow-health-checks", 1000, list(HEALTH_CHECK_RANGES), None,
                  [gcp.compute.FirewallAllowArgs(protocol="tcp")])]
        for role, priority, sources, denies, allows in rules:
            gcp.compute.Firewall(f"{name}-{role}", name=n.name(role), network=vpc.id, direction="INGRESS",
                                 priority=priority, source_ranges=sources, denies=denies, allows=allows,
                                 log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA")
                                 if denies else None, opts=child)
        self.network_id, self.network_name, self.subnet_id = vpc.id, vpc.name, subnet.id
        self.register_outputs({"network_id": vpc.id, "subnet_id": subnet.id})
