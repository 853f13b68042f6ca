"""Kubernetes control planes: private in prod, restricted elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel

from policy.model import Resource, ResourceRule
from policy.values import UNKNOWN, as_list, get, is_set, is_true

_OPEN = ("0.0.0.0/0", "::/0")


def eks_private(r: Resource) -> Iterator[str]:
    """Prod EKS clusters have a private API endpoint only."""
    if r.environment != "prod":
        return
    public = get(r.props, "vpcConfig", "endpointPublicAccess", default=True)
    if public is not UNKNOWN and public is not False:
        yield "vpcConfig.endpointPublicAccess must be false in prod (EKS defaults to a public endpoint)"
    if not is_true(get(r.props, "vpcConfig", "endpointPrivateAccess", default=False)):
        yield "vpcConfig.endpointPrivateAccess must be true in prod"


def gke_private(r: Resource) -> Iterator[str]:
    """Prod GKE clusters use private nodes and a private endpoint."""
    if r.environment != "prod":
        return
    if not is_true(get(r.props, "privateClusterConfig", "enablePrivateNodes", default=False)):
        yield "privateClusterConfig.enablePrivateNodes must be true in prod"
    private_endpoint = is_true(get(r.props, "privateClusterConfig", "enablePrivateEndpoint", default=False))
    public_ip = get(r.props, "controlPlaneEndpointsConfig", "ipEndpointsConfig", "enablePublicEndpoint")
    if not private_endpoint and public_ip is not False:
        yield "privateClusterConfig.enablePrivateEndpoint must be true in prod"


def aks_private(r: Resource) -> Iterator[str]:
    """Prod AKS clusters are private clusters."""
    if r.environment == "prod" and not is_true(
            get(r.props, "apiServerAccessProfile", "enablePrivateCluster", default=False)):
        yield "apiServerAccessProfile.enablePrivateCluster must be true in prod"


PRIVATE_ENDPOINT = ResourceRule(
    name="prod-private-cluster-endpoint",
    description="Production Kubernetes clusters expose their API endpoint privately only.",
    checks={
        "aws:eks/cluster:Cluster": eks_private,
        "gcp:container/cluster:Cluster": gke_private,
        "azure-native:containerservice:ManagedCluster": aks_private,
    },
)


def eks_restricted(r: Resource) -> Iterator[str]:
    """A public EKS endpoint is limited to known CIDRs."""
    if get(r.props, "vpcConfig", "endpointPublicAccess", default=True) is False:
        return
    cidrs = get(r.props, "vpcConfig", "publicAccessCidrs")
    if cidrs is UNKNOWN:
        return
    if not as_list(cidrs) or any(c in _OPEN for c in as_list(cidrs)):
        yield "the public API endpoint is open to the internet; set vpcConfig.publicAccessCidrs"


def gke_restricted(r: Resource) -> Iterator[str]:
    """A public GKE endpoint is limited by master authorized networks."""
    if is_true(get(r.props, "privateClusterConfig", "enablePrivateEndpoint", default=False)):
        return
    if not is_set(get(r.props, "masterAuthorizedNetworksConfig", "cidrBlocks")):
        yield "the public API endpoint is open; set masterAuthorizedNetworksConfig.cidrBlocks"


def aks_restricted(r: Resource) -> Iterator[str]:
    """A public AKS API server is limited to authorized IP ranges."""
    if is_true(get(r.props, "apiServerAccessProfile", "enablePrivateCluster", default=False)):
        return
    profile = r.props.get("apiServerAccessProfile")
    # azure-native 3 sends `authorizedIPRanges` (the ARM spelling); older SDKs `authorizedIpRanges`.
    if not any(is_set(get(profile, key)) for key in ("authorizedIPRanges", "authorizedIpRanges")):
        yield "the public API server is open; set apiServerAccessProfile.authorizedIpRanges"


RESTRICTED_ENDPOINT = ResourceRule(
    name="cluster-public-endpoint-restricted",
    description="Where a cluster API endpoint is public, it is limited to known CIDRs.",
    checks={
        "aws:eks/cluster:Cluster": eks_restricted,
        "gcp:container/cluster:Cluster": gke_restricted,
        "azure-native:containerservice:ManagedCluster": aks_restricted,
    },
    level=EnforcementLevel.ADVISORY,
)

RULES = [PRIVATE_ENDPOINT, RESTRICTED_ENDPOINT]
