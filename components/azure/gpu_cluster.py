"""GpuCluster (AKS): a cluster with a system pool and an autoscaling GPU user pool.

- Identity: a user-assigned identity for the control plane (it needs "Key Vault Crypto User" for KMS and
  "Network Contributor" on the node subnet before the cluster exists, which a system identity cannot have).
- Entra ID with Azure RBAC for Kubernetes authorization, local accounts disabled; OIDC issuer and workload
  identity on, so pods get Entra tokens without secrets. etcd secrets are encrypted with the stack's
  Key Vault key (KMS, versioned key id).
- Azure CNI overlay with Cilium network policy; prod is a private cluster (API server on a private IP),
  dev a public API restricted to `authorized_cidrs`.
- GPU pool: VM size from the GPU catalog (e.g. Standard_NC4as_T4_v3), taint `nvidia.com/gpu=present:NoSchedule`
  so only GPU workloads land there, autoscaling min..max; labelled `nvidia.com/gpu.present=true`, the label NVIDIA's
  device plugin chart schedules on (`DEVICE_PLUGIN_LABEL`). Spot in dev: AKS requires `scaleSetEvictionPolicy`
  and `spotMaxPrice` (-1 = pay up to the on-demand price) with `scaleSetPriority: Spot`, and adds the
  `kubernetes.azure.com/scalesetpriority=spot:NoSchedule` taint itself; declaring it keeps the next update from
  seeing a diff. Node taints and spot settings are immutable on an existing pool: changing them replaces the pool.
- Apps pool (`apps_pool`, on when the stack serves on the cluster): the system pool is tainted
  `CriticalAddonsOnly=true:NoSchedule`, as Microsoft recommends for system pools (learn.microsoft.com/azure/aks/
  use-system-pools), and the GPU pool carries its own taints, so a pod tolerating neither (the monitoring stack,
  the gateway, the Pushgateway, the drift CronJob) has no node without a small autoscaling CPU user pool.
- Image pulls (`registry_id`): the admin user of the stack's ACR is off and pods carry no pull secret, so the
  kubelet identity AKS creates (`identityProfile.kubeletidentity`) gets AcrPull on the registry, as
  `az aks update --attach-acr` does (learn.microsoft.com/azure/aks/cluster-container-registry-integration);
  without it every pod of an ACR image stays in ImagePullBackOff (401 from the registry).
- Kubernetes API access (`admin_principal_ids`): with Azure RBAC for Kubernetes authorization, an Azure role on
  the subscription (even Owner: `Actions: *`, no data actions) authorizes nothing inside the cluster, and the
  creator gets no implicit admin (learn.microsoft.com/azure/aks/manage-azure-rbac): every principal that applies
  Kubernetes objects is assigned "Azure Kubernetes Service RBAC Cluster Admin" on the cluster (the stack's admin
  groups, `gpu.clusterAdmins`, else the identity running `pulumi up`, when the stack serves on the cluster),
  and `api_access` waits out its propagation ("can take up to five minutes", same page) before anything is
  applied through the kubeconfig.
- kubeconfig: the user credentials (exec plugin kubelogin, Entra login through the Azure CLI's login, not AKS's
  default device-code prompt: `user_kubeconfig`), exported as a secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.naming import AzureNames, check_azure_name
from components.azure.rbac_propagation import RbacPropagation
from components.azure.roles import Scope, grant
from components.gpu_catalog import resolve_gpu

cs = azure.containerservice
GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
DEVICE_PLUGIN_LABEL = {"nvidia.com/gpu.present": "true"}
"""NVIDIA's device plugin chart (0.18.2 values.yaml `affinity`) schedules only on nodes labelled by Node Feature
Discovery (`feature.node.kubernetes.io/pci-10de.present`) or on nodes forced with this label; AKS sets neither, so
without it the plugin's DaemonSet wants 0 pods and no node advertises `nvidia.com/gpu` (NVIDIA/nvkind#20,
NVIDIA/k8s-device-plugin#1934). The EKS GPU group carries the same label (components/aws/gpu_cluster.py)."""
API_ROLE = "Azure Kubernetes Service RBAC Cluster Admin"
API_PROPAGATION_SECONDS = 300
"""AKS: new role assignments "can take up to five minutes to propagate and be updated by the authorization server"
(learn.microsoft.com/azure/aks/manage-azure-rbac)."""


@dataclass(frozen=True)
class GpuClusterArgs:
    names: AzureNames
    """The stack's physical names."""
    scope: Scope
    """Subscription, tenant, resource group and location."""
    subnet_id: pulumi.Input[str]
    """Node subnet (Foundation.subnet_ids['aks'])."""
    vault_id: pulumi.Input[str]
    """Key Vault of the KMS key."""
    key_version_id: pulumi.Input[str]
    """Versioned key id for etcd secrets encryption (KMS)."""
    log_analytics_id: pulumi.Input[str] | None = None
    """Container insights destination."""
    private: bool = False
    """Private API server (prod)."""
    authorized_cidrs: Sequence[str] = ()
    """Who may reach a public API server (dev)."""
    accelerator: str = "t4"
    """Cloud-neutral GPU kind, resolved by the GPU catalog."""
    gpu_count: int = 1
    """GPUs per node."""
    vm_size: str | None = None
    """Explicit GPU VM size; overrides accelerator and count."""
    min_nodes: int = 0
    """Smallest GPU pool."""
    max_nodes: int = 2
    """Largest GPU pool."""
    spot: bool = False
    """Spot GPU nodes (dev)."""
    disk_size_gb: int = 100
    """OS disk per GPU node, GiB."""
    system_vm_size: str = "Standard_D4ds_v5"
    """System pool VM size (and the apps pool's)."""
    apps_pool: bool = False
    """An untainted CPU user pool for the cluster's own non-GPU workloads (Kubernetes serving's add-ons)."""
    apps_max_nodes: int = 3
    """Largest apps pool (it scales from one node)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""
    protect: bool = False
    """Protect the cluster (prod)."""
    admin_principal_ids: Sequence[pulumi.Input[str]] = ()
    """Entra object ids given Azure Kubernetes Service RBAC Cluster Admin on the cluster (who applies Kubernetes
    objects through `kubeconfig`)."""
    registry_id: pulumi.Input[str] | None = None
    """ACR the cluster's pods pull images from: the kubelet identity gets AcrPull on it."""
    admin_principal_type: str = "ServicePrincipal"
    """Their Entra kind (`Group`, `User` or `ServicePrincipal`): Azure refuses an assignment whose kind does not
    match."""

    def __post_init__(self) -> None:
        errors = [check_azure_name("aks-cluster", self.names.aks_cluster())]
        if self.min_nodes > self.max_nodes:
            errors.append(f"min_nodes ({self.min_nodes}) must be <= max_nodes ({self.max_nodes})")
        if self.private and self.authorized_cidrs:
            errors.append("authorized_cidrs apply to a public API server; a private cluster takes none")
        errors = [e for e in errors if e]
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def gpu_vm_size(self) -> str:
        return self.vm_size or resolve_gpu(self.accelerator, self.gpu_count, "azure").instance_type


def gpu_pool_settings(spot: bool, min_nodes: int, max_nodes: int) -> dict:
    """Scaling, priority and taints of the GPU pool (spot needs eviction policy and max price)."""
    settings: dict = {"enable_auto_scaling": True, "min_count": min_nodes, "max_count": max_nodes,
                      "count": min_nodes, "node_taints": [GPU_TAINT]}
    if spot:
        settings.update(scale_set_priority="Spot", scale_set_eviction_policy="Delete", spot_max_price=-1,
                        node_taints=[GPU_TAINT, SPOT_TAINT])
    return settings


class GpuCluster(pulumi.ComponentResource):
    """AKS with a system pool and a GPU pool."""

    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    api_access: list[pulumi.Resource]
    """The Kubernetes API grants and their propagation wait: what a Kubernetes provider on `kubeconfig` waits for."""
    pull_access: list[pulumi.Resource]
    """The kubelet's AcrPull grant on `registry_id` and its propagation wait (empty without a registry)."""

    def __init__(self, name: str, args: GpuClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:GpuCluster", name, None, opts)
        s, tags, child = args.scope, dict(args.tags), pulumi.ResourceOptions(parent=self)
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity", resource_name_=args.names.name("aks-id"), resource_group_name=s.resource_group_name,
            location=s.location, tags=tags, opts=child)
        grants = [grant(f"{name}-kms-access", subscription_id=s.subscription_id, scope=args.vault_id,
                        principal_id=identity.principal_id, role="Key Vault Crypto User", parent=self),
                  grant(f"{name}-subnet-access", subscription_id=s.subscription_id, scope=args.subnet_id,
                        principal_id=identity.principal_id, role="Network Contributor", parent=self)]
        propagated = RbacPropagation(f"{name}-rbac-propagation", grants, opts=child)
        cluster = cs.ManagedCluster(
            f"{name}-aks", resource_name_=args.names.aks_cluster(), resource_group_name=s.resource_group_name,
            location=s.location, dns_prefix=args.names.aks_cluster(), tags=tags,
            sku=cs.ManagedClusterSKUArgs(name="Base", tier="Standard" if args.protect else "Free"),
            identity=cs.ManagedClusterIdentityArgs(type="UserAssigned", user_assigned_identities=[identity.id]),
            enable_rbac=True, disable_local_accounts=True,
            aad_profile=cs.ManagedClusterAADProfileArgs(managed=True, enable_azure_rbac=True, tenant_id=s.tenant_id),
            oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=cs.ManagedClusterSecurityProfileArgs(
                workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
                azure_key_vault_kms=cs.AzureKeyVaultKmsArgs(enabled=True, key_id=args.key_version_id,
                                                            key_vault_network_access="Public")),
            api_server_access_profile=cs.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=args.private,
                authorized_ip_ranges=None if args.private else list(args.authorized_cidrs) or None),
            network_profile=cs.ContainerServiceNetworkProfileArgs(
                network_plugin="azure", network_plugin_mode="overlay", network_dataplane="cilium",
                network_policy="cilium", service_cidr="172.16.0.0/16", dns_service_ip="172.16.0.10"),
            auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(upgrade_channel="patch",
                                                                         node_os_upgrade_channel="NodeImage"),
            addon_profiles={"omsagent": cs.ManagedClusterAddonProfileArgs(
                enabled=True, config={"logAnalyticsWorkspaceResourceID": args.log_analytics_id})}
            if args.log_analytics_id else None,
            agent_pool_profiles=[cs.ManagedClusterAgentPoolProfileArgs(
                name="system", mode="System", vm_size=args.system_vm_size, count=2 if args.protect else 1,
                os_type="Linux", os_sku="AzureLinux", vnet_subnet_id=args.subnet_id, type="VirtualMachineScaleSets",
                node_taints=["CriticalAddonsOnly=true:NoSchedule"])],
            # The GPU pool is its own resource; the cluster's view of pools would otherwise diff against it.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[*grants, propagated],
                                        ignore_changes=["agentPoolProfiles"]))
        cs.AgentPool(
            f"{name}-gpu", agent_pool_name="gpu", resource_name_=cluster.name,
            resource_group_name=s.resource_group_name, mode="User", vm_size=args.gpu_vm_size, os_type="Linux",
            os_sku="AzureLinux", os_disk_size_gb=args.disk_size_gb, vnet_subnet_id=args.subnet_id,
            type="VirtualMachineScaleSets", node_labels={"accelerator": args.accelerator, "workload": "gpu",
                                                         **DEVICE_PLUGIN_LABEL}, tags=tags,
            **gpu_pool_settings(args.spot, args.min_nodes, args.max_nodes),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"],  # the autoscaler owns the count
                                        replace_on_changes=["nodeTaints", "scaleSetPriority", "vmSize"]))
        if args.apps_pool:
            cs.AgentPool(
                f"{name}-apps", agent_pool_name="apps", resource_name_=cluster.name,
                resource_group_name=s.resource_group_name, mode="User", vm_size=args.system_vm_size, os_type="Linux",
                os_sku="AzureLinux", vnet_subnet_id=args.subnet_id, type="VirtualMachineScaleSets",
                node_labels={"workload": "apps"}, tags=tags, enable_auto_scaling=True, min_count=1,
                max_count=args.apps_max_nodes, count=1,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]))  # the autoscaler owns the count
        self.pull_access = []
        if args.registry_id is not None:
            pull = grant(f"{name}-acr-pull", subscription_id=s.subscription_id, scope=args.registry_id,
                         principal_id=cluster.identity_profile.apply(_kubelet_object_id), role="AcrPull", parent=self)
            self.pull_access = [pull, RbacPropagation(f"{name}-acr-propagation", [pull], opts=child)]
        admins = [grant(f"{name}-api-admin-{index}" if index else f"{name}-api-admin",
                        subscription_id=s.subscription_id, scope=cluster.id, principal_id=principal, role=API_ROLE,
                        parent=self, principal_type=args.admin_principal_type)
                  for index, principal in enumerate(args.admin_principal_ids)]
        self.api_access = [*admins, RbacPropagation(f"{name}-api-propagation", admins,
                                                    seconds=API_PROPAGATION_SECONDS, opts=child)] if admins else []
        creds = cs.list_managed_cluster_user_credentials_output(
            resource_group_name=s.resource_group_name, resource_name=cluster.name, format="exec",
            opts=pulumi.InvokeOutputOptions(parent=self))
        self.kubeconfig = pulumi.Output.secret(creds.kubeconfigs[0].value.apply(user_kubeconfig))
        self.cluster_name, self.cluster_id = cluster.name, cluster.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda p: (p.issuer_url or "") if p else "")
        self.register_outputs({"cluster_name": cluster.name, "cluster_id": cluster.id, "kubeconfig": self.kubeconfig})


def _kubelet_object_id(profile: Mapping | None) -> str:
    """The object id of the kubelet identity AKS created (`identityProfile.kubeletidentity`)."""
    kubelet = (profile or {}).get("kubeletidentity")
    return (kubelet.get("object_id") or kubelet.get("objectId") if isinstance(kubelet, Mapping)
            else getattr(kubelet, "object_id", None)) or ""


LOGIN_METHOD = "azurecli"
"""kubelogin's login mode in the stack's kubeconfig (see `user_kubeconfig`)."""


def user_kubeconfig(value: str) -> str:
    """The base64 kubeconfig of `listClusterUserCredential(format=exec)`, its kubelogin entries set to `--login
    azurecli`.

    AKS returns `kubelogin get-token ... --login devicecode` (Azure/kubelogin#193), the interactive device-code flow:
    under `pulumi up` the Kubernetes provider's first call would wait for someone to type a code in a browser, and
    never does in CI. `azurecli` reuses the Azure CLI's login, the one the runbook already asks for (`az login`,
    or `azure/login` with OIDC in CI); `AAD_LOGIN_METHOD` (e.g. `workloadidentity`, `spn`) still overrides it,
    since kubelogin applies the environment after the flags (Azure/kubelogin docs/book/src/concepts/login-modes/
    devicecode.md).
    """
    import base64

    import yaml

    config = yaml.safe_load(base64.b64decode(value).decode())
    for user in (config or {}).get("users") or []:
        exec_ = (user.get("user") or {}).get("exec") or {}
        if not str(exec_.get("command", "")).endswith("kubelogin"):
            continue
        args = list(exec_.get("args") or [])
        if "--login" in args and args.index("--login") + 1 < len(args):
            args[args.index("--login") + 1] = LOGIN_METHOD
        else:
            args = [*[a for a in args if not a.startswith("--login=")], "--login", LOGIN_METHOD]
        exec_["args"] = args
    return yaml.safe_dump(config, sort_keys=False)
