"""GpuCluster (GKE): a VPC-native cluster with a system pool and a GPU pool; regional and fully private in prod.

- Location: the region in prod (control plane and nodes over three zones), one zone in dev: the region's
  first zone (`zone_of`: `-a`, or `-b` where the region has no `-a` zone, as europe-west1 and us-east1).
- Private nodes always; prod also makes the control plane private (`enable_private_endpoint`); dev reaches a
  public endpoint only from `authorized_cidrs`. Workload Identity (`<project>.svc.id.goog`), shielded nodes
  with secure boot, GKE metadata server, a release channel, the default pool removed (pools are managed apart,
  so changing one never recreates the cluster).
- `deletion_protection` defaults to true in the provider: a dev cluster sets it false, or `pulumi destroy`
  fails (registry.terraform.io/providers/hashicorp/google/latest/docs/resources/container_cluster).
- GPU pool: `guest_accelerators` from the GPU catalog (or an explicit machine type), drivers installed by
  GKE (`gpu_driver_version=DEFAULT`), a `nvidia.com/gpu` taint so only GPU workloads land there, autoscaling
  between the total bounds (`total_*`: the same meaning for zonal and regional pools), spot in dev; the initial
  count is per zone, so a regional pool starts with the total minimum spread over its zones. That count is
  create-only (`initial_node_count` is ForceNew in resource_container_node_pool.go), so the pools ignore later
  changes to it: a new `gpu.minNodes` moves the autoscaling bounds in place instead of replacing the pool.
- Dataplane V2 (`datapath_provider=ADVANCED_DATAPATH`): the only way GKE enforces the NetworkPolicy objects the
  Kubernetes serving declares (components/k8s/model_service.py) without the Calico add-on; with the legacy datapath
  and no `network_policy` block GKE accepts NetworkPolicies and enforces none
  (cloud.google.com/kubernetes-engine/docs/how-to/dataplane-v2). The field is ForceNew in the provider
  (resource_container_cluster.go): a cluster created without it is replaced, so it is set from the first `up`.
  No `network_policy` block alongside it: the API refuses Calico network policy on a Dataplane V2 cluster
  (terraform-google-modules/terraform-google-kubernetes-engine#1085).
- Kubernetes secrets encrypted at the application layer with the `cluster` key (`database_encryption`).
- Node service account from `Identity` (`gke-nodes`), never the Compute Engine default (editor).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.gcp.naming import GcpNames

MASTER_CIDR = "172.16.0.0/28"
DATAPATH = "ADVANCED_DATAPATH"
"""Dataplane V2: enforces NetworkPolicy (see the module docstring)."""
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
GPU_TAINT = gcp.container.NodePoolNodeConfigTaintArgs(key="nvidia.com/gpu", value="present", effect="NO_SCHEDULE")


@dataclass(frozen=True)
class GpuClusterArgs:
    names: GcpNames
    project: str
    region: str
    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    pods_range: str
    services_range: str
    node_service_account: pulumi.Input[str]
    secrets_key_id: pulumi.Input[str]
    """Cloud KMS key of the application-layer encryption of Kubernetes secrets (GKE's agent may use it)."""
    gpu_machine_type: str
    gpu_type: str
    """GKE accelerator name (e.g. nvidia-tesla-t4)."""
    gpu_count: int = 1
    min_nodes: int = 0
    max_nodes: int = 2
    spot: bool = False
    disk_size_gb: int = 100
    regional: bool = False
    private_endpoint: bool = False
    authorized_cidrs: Sequence[str] = ()
    release_channel: str = "REGULAR"
    labels: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False
    depends_on: Sequence[pulumi.Resource] = ()
    """GKE's agent's grant on the secrets key (a cluster created first fails on the key)."""


class GpuCluster(pulumi.ComponentResource):
    cluster: gcp.container.Cluster
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:GpuCluster", name, None, opts)
        location = args.region if args.regional else zone_of(args.region)
        cluster = gcp.container.Cluster(
            f"{name}-cluster", name=args.names.name("gpu", limit=40), project=args.project, location=location,
            network=args.network_id, subnetwork=args.subnet_id, networking_mode="VPC_NATIVE",
            datapath_provider=DATAPATH,
            remove_default_node_pool=True, initial_node_count=1, deletion_protection=args.protect,
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=args.pods_range, services_secondary_range_name=args.services_range),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True, enable_private_endpoint=args.private_endpoint,
                master_ipv4_cidr_block=MASTER_CIDR),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                    cidr_block=cidr, display_name=f"allowed-{i}") for i, cidr in enumerate(args.authorized_cidrs)]),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{args.project}.svc.id.goog"),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=args.release_channel),
            enable_shielded_nodes=True, resource_labels=dict(args.labels),
            database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(state="ENCRYPTED",
                                                                            key_name=args.secrets_key_id),
            node_config=gcp.container.ClusterNodeConfigArgs(service_account=args.node_service_account,
                                                            oauth_scopes=SCOPES),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=list(args.depends_on)))
        common = {"service_account": args.node_service_account, "oauth_scopes": SCOPES,
                  "resource_labels": dict(args.labels),
                  "shielded_instance_config": gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                      enable_secure_boot=True, enable_integrity_monitoring=True),
                  "workload_metadata_config": gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                      mode="GKE_METADATA")}
        management = gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True)
        # `initial_node_count` is ForceNew in the provider: without this, changing `gpu.minNodes` would delete and
        # re-create the pool. The autoscaler owns the node count after creation.
        pool_opts = pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"])
        gcp.container.NodePool(
            f"{name}-system", name="system", project=args.project, location=location, cluster=cluster.name,
            initial_node_count=1, management=management,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(total_min_node_count=1, total_max_node_count=3,
                                                               location_policy="BALANCED"),
            node_config=gcp.container.NodePoolNodeConfigArgs(machine_type="e2-standard-4", disk_size_gb=50,
                                                             labels={"pool": "system"}, **common), opts=pool_opts)
        gcp.container.NodePool(
            f"{name}-gpu", name="gpu", project=args.project, location=location, cluster=cluster.name,
            initial_node_count=initial_nodes(args.min_nodes, args.regional), management=management,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=args.min_nodes, total_max_node_count=args.max_nodes, location_policy="ANY"),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=args.gpu_machine_type, disk_size_gb=args.disk_size_gb, spot=args.spot,
                guest_accelerators=[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                    type=args.gpu_type, count=args.gpu_count,
                    gpu_driver_installation_config=gcp.container
                    .NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(gpu_driver_version="DEFAULT"))],
                taints=[GPU_TAINT], labels={"pool": "gpu"}, **common),
            opts=pool_opts)
        self.cluster = cluster
        """The GKE cluster (its creation also creates the project's Workload Identity pool)."""
        self.cluster_name = cluster.name
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(cluster.name, cluster.endpoint,
                                                                 cluster.master_auth.cluster_ca_certificate)
                                               .apply(lambda v: kubeconfig(*v)))
        self.register_outputs({"cluster_name": cluster.name})


FIRST_ZONE = {"europe-west1": "europe-west1-b", "us-east1": "us-east1-b"}
"""Regions with no `-a` zone: europe-west1 and us-east1 have b, c and d
(cloud.google.com/compute/docs/regions-zones)."""


def zone_of(region: str) -> str:
    """The zone a zonal (dev) cluster lives in: the region's first zone, `<region>-a` unless it has none."""
    return FIRST_ZONE.get(region, f"{region}-a")


REGION_ZONES = 3
"""Zones a regional GKE node pool spans by default."""


def initial_nodes(min_nodes: int, regional: bool) -> int:
    """`initial_node_count` is per zone: a regional pool starts with this times three nodes, so round up the
    total minimum over the zones rather than starting three times the minimum."""
    return -(-min_nodes // REGION_ZONES) if regional else min_nodes


def kubeconfig(name: str, endpoint: str, ca: str) -> str:
    """A kubeconfig that authenticates with gke-gcloud-auth-plugin (no static credentials)."""
    return (f"apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: https://{endpoint}\n"
            f"    certificate-authority-data: {ca}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n"
            f"    user: {name}\ncurrent-context: {name}\nusers:\n- name: {name}\n  user:\n    exec:\n"
            "      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin\n"
            "      provideClusterInfo: true\n")
