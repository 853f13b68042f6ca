"""GpuCluster (EKS): a private-by-default cluster with a CPU system node group and a GPU node group.

Secrets are envelope-encrypted with the stack key; all five control-plane log types go to a
KMS-encrypted log group; authentication is EKS access entries (API mode); an OIDC provider enables
IAM roles for service accounts (IRSA). Nodes run AL2023 (the GPU group the NVIDIA variant, tainted
`nvidia.com/gpu=true:NoSchedule`), require IMDSv2 with a hop limit of 1 (pods cannot reach the node's
credentials) and have encrypted gp3 root volumes. The NVIDIA device plugin is deployed onto the
cluster separately (it is Kubernetes content, not infrastructure).
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws import catalog, scope
from components.aws.iam import Statement, assume_role_policy, irsa_trust_policy, policy_document
from components.aws.naming import check_aws_name
from components.aws.network import LOG_RETENTION_DAYS
from components.gpu_catalog import GpuCatalogError, resolve_gpu
from components.naming import Namer

CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
KMS_SECRETS = ("kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey")
GPU_TAINT = ("nvidia.com/gpu", "true", "NO_SCHEDULE")
SYSTEM_INSTANCE_TYPE = "t3.large"
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@functools.cache
def ec2_instance_types() -> frozenset[str]:
    """Every EC2 instance type botocore knows (the EC2 `InstanceType` enum)."""
    return catalog.enum("ec2", "InstanceType")


@dataclass(frozen=True)
class GpuClusterArgs:
    namer: Namer
    """Builds the cluster, node group, role and log group names."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets for the control plane's ENIs and the nodes (Network.private_subnet_ids)."""
    kms_key_arn: pulumi.Input[str]
    """The stack key: Kubernetes secrets and the control-plane log group."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every taggable child."""
    protect: bool = False
    """Protect the cluster from deletion (prod)."""
    kubernetes_version: str = "1.33"
    """EKS Kubernetes version."""
    allow_public_endpoint: bool = False
    """Also expose the API endpoint publicly, restricted to `public_access_cidrs` (dev only)."""
    public_access_cidrs: tuple[str, ...] = ()
    """CIDRs allowed to reach a public API endpoint (office / VPN ranges; never 0.0.0.0/0)."""
    admin_role_arns: tuple[str, ...] = ()
    """IAM roles granted cluster admin through access entries (never the creator: EKS made it admin already)."""
    accelerator: str = "t4"
    """Cloud-neutral GPU kind (components.gpu_catalog)."""
    gpu_count: int = 1
    """GPUs per GPU node."""
    gpu_instance_type: str | None = None
    """Explicit EC2 instance type for GPU nodes (overrides accelerator and count)."""
    gpu_min_nodes: int = 0
    """Smallest size of the GPU node group."""
    gpu_max_nodes: int = 2
    """Largest size of the GPU node group."""
    gpu_desired_nodes: int | None = None
    """Initial size of the GPU node group (default: gpu_min_nodes); later changes are left to autoscaling."""
    spot: bool = False
    """Run GPU nodes on spot capacity (dev)."""
    gpu_disk_size_gb: int = 100
    """Root volume per GPU node, GiB (images with CUDA are large)."""
    system_instance_type: str = SYSTEM_INSTANCE_TYPE
    """Instance type of the CPU system node group (CoreDNS, controllers)."""
    system_nodes: int = 2
    """Size of the system node group (min and desired); max is one more."""
    log_retention_days: int = 90
    """Days control-plane logs are kept."""
    region: str | None = None
    """Region of the stack. Default: the provider's (asked with an invoke)."""

    def __post_init__(self) -> None:
        errors = _check(self)
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def cluster_name(self) -> str:
        return self.namer.name("gpu", limit=100)

    @property
    def log_group_name(self) -> str:
        return f"/aws/eks/{self.cluster_name}/cluster"  # the name EKS writes to


@dataclass(frozen=True)
class GpuNodes:
    """The GPU node group, resolved from the args."""

    instance_type: str
    gpu_type: str
    min_size: int
    max_size: int
    desired_size: int
    capacity_type: str
    labels: dict[str, str]


def resolve_gpu_nodes(args: GpuClusterArgs) -> GpuNodes:
    """Defaults and cross-field rules for the GPU group: catalog lookup or explicit type, sizes, capacity."""
    if args.gpu_instance_type:
        instance_type, gpu_type = args.gpu_instance_type, f"explicit-{args.accelerator}"
    else:
        machine = resolve_gpu(args.accelerator, args.gpu_count, "aws")
        instance_type, gpu_type = machine.instance_type, machine.gpu_type
    desired = args.gpu_min_nodes if args.gpu_desired_nodes is None else args.gpu_desired_nodes
    return GpuNodes(
        instance_type=instance_type, gpu_type=gpu_type, min_size=args.gpu_min_nodes, max_size=args.gpu_max_nodes,
        desired_size=desired, capacity_type="SPOT" if args.spot else "ON_DEMAND",
        # k8s.amazonaws.com/accelerator: the cluster autoscaler's GPU label on AWS (cloudprovider/aws GPULabel); with
        # it a new node waits for its device plugin instead of looking full, so one pending pod starts one node.
        labels={"nvidia.com/gpu.present": "true", "mlops/accelerator": args.accelerator,
                "k8s.amazonaws.com/accelerator": args.accelerator, "mlops/node-role": "gpu"})


def _check(args: GpuClusterArgs) -> list[str]:
    errors = [check_aws_name("eks-cluster", args.cluster_name), check_aws_name("log-group", args.log_group_name)]
    errors += [check_aws_name("eks-nodegroup", args.namer.name(group)) for group in ("system", "gpu")]
    errors += [check_aws_name("iam-role", args.namer.name("eks", role, limit=64))
               for role in ("cluster", "node", "cni")]
    if args.allow_public_endpoint:
        if not args.public_access_cidrs:
            errors.append("allow_public_endpoint=True needs public_access_cidrs (your office / VPN ranges); "
                          "or set allow_public_endpoint=False for a private endpoint")
        for cidr in args.public_access_cidrs:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                errors.append(f"public_access_cidrs: {cidr!r} is not a CIDR (e.g. 203.0.113.0/24)")
                continue
            if net.prefixlen == 0:
                errors.append(f"public_access_cidrs: {cidr!r} opens the API to the internet; list your ranges")
    elif args.public_access_cidrs:
        errors.append("public_access_cidrs is set but allow_public_endpoint=False: drop the CIDRs or allow the "
                      "public endpoint")
    if not 0 <= args.gpu_min_nodes <= args.gpu_max_nodes or args.gpu_max_nodes < 1:
        errors.append(f"gpu_min_nodes={args.gpu_min_nodes}, gpu_max_nodes={args.gpu_max_nodes}: "
                      "need 0 <= min <= max and max >= 1")
    if args.gpu_desired_nodes is not None and not args.gpu_min_nodes <= args.gpu_desired_nodes <= args.gpu_max_nodes:
        errors.append(f"gpu_desired_nodes={args.gpu_desired_nodes} must be between gpu_min_nodes and gpu_max_nodes")
    if args.system_nodes < 1:
        errors.append(f"system_nodes={args.system_nodes}: the system group needs at least 1 node")
    if not 20 <= args.gpu_disk_size_gb <= 16384:
        errors.append(f"gpu_disk_size_gb={args.gpu_disk_size_gb}: expected 20-16384")
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        errors.append(f"log_retention_days={args.log_retention_days}: not a CloudWatch Logs retention value")
    for fld in ("gpu_instance_type", "system_instance_type"):  # explicit types only; the defaults are known good
        value = getattr(args, fld)
        if value and value != SYSTEM_INSTANCE_TYPE and value not in ec2_instance_types():
            errors.append(f"{fld}={value!r} is not an EC2 instance type (botocore ec2 InstanceType)")
    try:
        if not args.gpu_instance_type:
            resolve_gpu(args.accelerator, args.gpu_count, "aws")
    except GpuCatalogError as exc:
        errors.append(str(exc))
    return [e for e in errors if e]


def access_entry_key(principal_arn: str) -> str:
    """`<account>-<role name>` of an IAM principal ARN: a stable resource name for its access entry."""
    account, resource = principal_arn.split(":")[4], principal_arn.split(":")[5]
    return f"{account}-{resource.rsplit('/', 1)[-1]}"


NODE_GROUP_SUFFIX = 26
"""Length of the unique suffix Terraform appends to a name prefix (id.PrefixedUniqueId)."""


def node_group_prefix(namer: Namer, group: str) -> str:
    """`<prefix>-<env>-<group>-`: the node group's name prefix, short enough for EKS's 63 characters."""
    return namer.name(group, limit=63 - NODE_GROUP_SUFFIX - 1) + "-"


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (no long-lived credentials in it)."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster_name, "preferences": {},
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws", "interactiveMode": "Never",
            "args": ["--region", region, "eks", "get-token", "--cluster-name", cluster_name, "--output", "json"]}}}],
    }, indent=2, sort_keys=True)


class GpuCluster(pulumi.ComponentResource):
    """EKS cluster, OIDC provider, vpc-cni on IRSA, and the system and GPU managed node groups."""

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    cluster_endpoint: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    gpu_instance_type: str
    gpu_node_labels: dict[str, str]
    """Labels of the GPU nodes (Kubernetes workloads select the GPU pool with these)."""
    kubernetes_version: str
    """The cluster's Kubernetes minor version (add-ons matched to it, e.g. the cluster autoscaler)."""
    kubeconfig: pulumi.Output[str]
    """Secret."""

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:GpuCluster", name, None, opts)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        partition = scope.partition_for(args.region, self)
        region = scope.region_of(args.region, self)

        def managed(policy: str) -> pulumi.Output[str]:
            return pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", policy)

        cluster_role = self._role("cluster", assume_role_policy("eks.amazonaws.com"),
                                  [managed("AmazonEKSClusterPolicy")])
        secrets_policy = aws.iam.RolePolicy(
            f"{name}-cluster-kms", role=cluster_role.id, opts=child,
            policy=policy_document([Statement("EnvelopeEncryptSecrets", KMS_SECRETS, [args.kms_key_arn])]))
        log_group = aws.cloudwatch.LogGroup(f"{name}-control-plane-logs", name=args.log_group_name,
                                            retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn,
                                            tags=tags, opts=child)
        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids, endpoint_private_access=True,
                endpoint_public_access=args.allow_public_endpoint,
                public_access_cidrs=list(args.public_access_cidrs) if args.allow_public_endpoint else None),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"], provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.kms_key_arn)),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            # The cluster creator gets an admin access entry from EKS (not in Pulumi's state, so never listed
            # in admin_role_arns); the other admins come from admin_role_arns, the same on every run.
            access_config=aws.eks.ClusterAccessConfigArgs(authentication_mode="API",
                                                          bootstrap_cluster_creator_admin_permissions=True),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[log_group, secrets_policy]),
        )
        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"], tags=tags, opts=child)
        for principal in args.admin_role_arns:
            # Named after the principal, not its position: removing one admin must not shift the others
            # onto other entries (a replacement that creates the new entry first fails with
            # ResourceInUseException while the old entry for that principal still exists).
            entry_name = f"{name}-admin-{access_entry_key(principal)}"
            entry = aws.eks.AccessEntry(entry_name, cluster_name=cluster.name, principal_arn=principal,
                                        type="STANDARD", tags=tags, opts=child)
            aws.eks.AccessPolicyAssociation(
                f"{entry_name}-policy", cluster_name=cluster.name, principal_arn=principal,
                policy_arn=CLUSTER_ADMIN_POLICY,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]))

        # The CNI policy goes to the aws-node service account through IRSA, not to the node role:
        # pods on the node then cannot borrow the ENI-management permissions.
        cni_role = self._role("cni", pulumi.Output.all(oidc.arn, issuer).apply(
            lambda v: irsa_trust_policy(v[0], v[1], "kube-system", "aws-node")), [managed("AmazonEKS_CNI_Policy")])
        vpc_cni = aws.eks.Addon(f"{name}-vpc-cni", cluster_name=cluster.name, addon_name="vpc-cni",
                                service_account_role_arn=cni_role.arn, resolve_conflicts_on_create="OVERWRITE",
                                # NetworkPolicy objects are accepted but not enforced until this is on
                                # (docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html)
                                configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
                                resolve_conflicts_on_update="PRESERVE", tags=tags, opts=child)
        node_role = self._role("node", assume_role_policy("ec2.amazonaws.com"),
                               [managed("AmazonEKSWorkerNodePolicy"), managed("AmazonEC2ContainerRegistryReadOnly")])

        gpu = resolve_gpu_nodes(args)
        self._node_group("system", cluster, node_role, vpc_cni, instance_type=args.system_instance_type,
                         ami_type="AL2023_x86_64_STANDARD", disk_gb=50, capacity_type="ON_DEMAND",
                         sizes=(args.system_nodes, args.system_nodes + 1, args.system_nodes),
                         labels={"mlops/node-role": "system"}, taints=[])
        self._node_group("gpu", cluster, node_role, vpc_cni, instance_type=gpu.instance_type,
                         ami_type="AL2023_x86_64_NVIDIA", disk_gb=args.gpu_disk_size_gb,
                         capacity_type=gpu.capacity_type, sizes=(gpu.min_size, gpu.max_size, gpu.desired_size),
                         labels=gpu.labels, taints=[aws.eks.NodeGroupTaintArgs(
                             key=GPU_TAINT[0], value=GPU_TAINT[1], effect=GPU_TAINT[2])])

        self.cluster_name, self.cluster_arn, self.cluster_endpoint = cluster.name, cluster.arn, cluster.endpoint
        self.cluster_security_group_id = cluster.vpc_config.apply(lambda c: c.cluster_security_group_id)
        self.oidc_provider_arn, self.oidc_issuer_url = oidc.arn, issuer
        self.node_role_arn = node_role.arn
        self.gpu_instance_type = gpu.instance_type
        self.gpu_node_labels, self.kubernetes_version = dict(gpu.labels), args.kubernetes_version
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.certificate_authority.apply(lambda ca: ca.data), region,
        ).apply(lambda v: kubeconfig(v[0], v[1], v[2], v[3])))
        self.register_outputs({"cluster_name": self.cluster_name, "cluster_endpoint": self.cluster_endpoint,
                               "oidc_provider_arn": self.oidc_provider_arn, "node_role_arn": self.node_role_arn,
                               "kubeconfig": self.kubeconfig})

    def irsa_trust(self, namespace: str, service_account: str) -> pulumi.Output[str]:
        """Trust policy for a role assumed by `namespace/service_account` pods (IRSA)."""
        return pulumi.Output.all(self.oidc_provider_arn, self.oidc_issuer_url).apply(
            lambda v: irsa_trust_policy(v[0], v[1], namespace, service_account))

    def _role(self, role: str, trust: pulumi.Input[str], managed: list[pulumi.Output[str]]) -> aws.iam.Role:
        name, args = self._name, self._args
        iam_role = aws.iam.Role(f"{name}-{role}-role", name=args.namer.name("eks", role, limit=64),
                                assume_role_policy=trust, tags=dict(args.tags),
                                opts=pulumi.ResourceOptions(parent=self))
        for i, policy_arn in enumerate(managed):
            aws.iam.RolePolicyAttachment(f"{name}-{role}-role-{i}", role=iam_role.name, policy_arn=policy_arn,
                                         opts=pulumi.ResourceOptions(parent=self))
        return iam_role

    def _node_group(self, group: str, cluster: aws.eks.Cluster, node_role: aws.iam.Role, vpc_cni: aws.eks.Addon, *,
                    instance_type: str, ami_type: str, disk_gb: int, capacity_type: str, sizes: tuple[int, int, int],
                    labels: dict[str, str], taints: list[aws.eks.NodeGroupTaintArgs]) -> aws.eks.NodeGroup:
        name, args, tags = self._name, self._args, dict(self._args.tags)
        template = aws.ec2.LaunchTemplate(
            f"{name}-{group}-nodes", name=args.namer.name(group, "nodes"), update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda", ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=disk_gb, volume_type="gp3", encrypted="true", delete_on_termination="true"))],
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                                for kind in ("instance", "volume")],
            tags=tags, opts=pulumi.ResourceOptions(parent=self))
        return aws.eks.NodeGroup(
            # A prefix, not a name: amiType, capacityType and instanceTypes are ForceNew, and with an explicit
            # name the bridge replaces delete-first (the whole pool gone before its successor exists). With a
            # prefix the new group (prefix + unique suffix) joins first, then EKS drains and deletes the old one.
            f"{name}-{group}", cluster_name=cluster.name, node_group_name_prefix=node_group_prefix(args.namer, group),
            node_role_arn=node_role.arn, subnet_ids=args.subnet_ids, instance_types=[instance_type],
            ami_type=ami_type, capacity_type=capacity_type, labels=labels, taints=taints or None,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=sizes[0], max_size=sizes[1],
                                                              desired_size=sizes[2]),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=template.id,
                                                                version=template.latest_version.apply(str)),
            tags=tags,
            # desired size belongs to the autoscaler once the group exists; vpc-cni is on IRSA before nodes join
            opts=pulumi.ResourceOptions(parent=self, depends_on=[vpc_cni],
                                        ignore_changes=["scalingConfig.desiredSize"]),
        )
