"""AKS wiring of Kubernetes serving: the GPU cluster's kubeconfig, an Azure workload identity per service account,
the GPU pool's placement, the alert receiver. No node autoscaler release: the GPU pool's own cluster autoscaler
(`enableAutoScaling`, min 0, components/azure/gpu_cluster.py) grows it when a GPU pod is pending.

- kubeconfig: the cluster's user credentials, an exec entry running `kubelogin` (Entra ID; local accounts are off),
  so whoever runs `pulumi up` needs kubelogin and an Azure login (`az login` or the environment's credentials).
  That identity is made "Azure Kubernetes Service RBAC Cluster Admin" on the cluster (GpuClusterArgs.
  admin_principal_ids): with Azure RBAC authorization nothing else lets it apply objects, and the provider waits
  for the grant's propagation (GpuCluster.api_access).
- Images: the pods pull from the stack's ACR (admin user off, no pull secret) as the cluster's kubelet identity,
  which GpuCluster grants AcrPull (`GpuClusterArgs.registry_id`); the provider waits for that grant too.
- Placement: the GPU pool is labelled `accelerator=<kind>` and `workload=gpu` and tainted
  `nvidia.com/gpu=present:NoSchedule`; a spot pool also carries `kubernetes.azure.com/scalesetpriority=spot:
  NoSchedule`, which AKS adds itself. Pods select the labels and tolerate both taints.
- Device plugin: AKS installs none on a plain GPU pool (learn.microsoft.com/azure/aks/gpu-cluster: "install the
  NVIDIA device plugin"), so NVIDIA's chart stays, on the pool's placement.
- Identity: a user-assigned identity per service account that touches the store, federated with the cluster's
  OIDC issuer, granted on the container of its prefix with an ABAC condition on the path
  (components/azure/workload_identity.py); its pods carry `azure.workload.identity/use: "true"`.
  Alertmanager gets no Azure identity: its receiver is a webhook.
- kube-proxy: none. The cluster's dataplane is Cilium (`networkDataplane: cilium`), which routes Services itself
  in eBPF and replaces kube-proxy ("Azure CNI powered by Cilium replaces kube-proxy entirely",
  programmingwithwolfgang.com/azure-cni-powered-by-cilium-getting-started-with-ebpf; AKS refuses to disable a
  kube-proxy only on BYO-CNI clusters, Azure/AKS#4563), so the monitoring stack does not scrape one and
  `KubeProxyDown` cannot fire for its absence. Unverified against a live cluster (docs/kubernetes-serving.md).
- Alerts: Alertmanager posts to `monitoring.alertWebhookUrl` (a secret) when set, as on GKE; `alertEmails` receive
  the stack's Azure Monitor alerts through its action group.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.azure.artifact_store import ArtifactStore
from components.azure.gpu_cluster import GPU_TAINT, SPOT_TAINT, GpuCluster
from components.azure.naming import AzureNames
from components.azure.roles import Scope
from components.azure.workload_identity import USE_LABEL, WorkloadIdentity, WorkloadIdentityArgs
from components.k8s.workload import GpuPlacement
from infra.kubernetes_serving import ClusterAccess, IdentityRequest, webhook_receiver

STORE_CONTAINERS = {"data-capture": "datacapture"}
"""Store key prefixes whose Azure container is named otherwise: the stack's capture container is `datacapture`
(components/azure/artifact_store.py CONTAINERS), so the cluster's capture lands where the lifecycle expires it."""


def _taint(spec: str) -> tuple[str, str, str]:
    """`key=value:Effect` (AKS's nodeTaints spelling) -> (key, value, effect)."""
    key_value, effect = spec.rsplit(":", 1)
    key, value = key_value.split("=", 1)
    return key, value, effect


def aks_placement(accelerator: str, spot: bool) -> GpuPlacement:
    key, value, effect = _taint(GPU_TAINT)
    return GpuPlacement(node_selector={"accelerator": accelerator, "workload": "gpu"}, taint_key=key,
                        taint_value=value, taint_effect=effect,
                        extra_taints=(_taint(SPOT_TAINT),) if spot else ())


def store_key(key: str) -> str:
    """A store key as the Azure store holds it (`data-capture/...` lives in the `datacapture` container)."""
    head, _, rest = key.partition("/")
    return f"{STORE_CONTAINERS.get(head, head)}/{rest}" if rest else STORE_CONTAINERS.get(head, head)


def aks_access(cluster: GpuCluster, names: AzureNames, *, scope: Scope, store: ArtifactStore, accelerator: str,
               spot: bool, tags: Mapping[str, str] | None = None,
               webhook_url: pulumi.Input[str] | None = None) -> ClusterAccess:
    """The `ClusterAccess` of an AKS `GpuCluster`: every service account that touches the store gets its own
    managed identity, granted on its prefixes only."""
    def bind(request: IdentityRequest) -> Mapping[str, pulumi.Input[str]]:
        reads = tuple(store_key(p) for p in (request.reads_model_prefix, *request.reads_prefixes) if p)
        if not (reads or request.writes_prefix):
            return {}
        identity = WorkloadIdentity(f"{request.purpose}-identity", WorkloadIdentityArgs(
            scope=scope, identity_name=names.name(request.purpose, "id", limit=128), namespace=request.namespace,
            service_account=request.service_account, oidc_issuer_url=cluster.oidc_issuer_url,
            storage_account_id=store.account_id, reads_prefixes=reads,
            writes_prefix=store_key(request.writes_prefix) if request.writes_prefix else None,
            tags=dict(tags or {})))
        return identity.annotations

    return ClusterAccess(
        cloud="azure", kubeconfig=cluster.kubeconfig, cluster_identifier=cluster.cluster_name,
        placement=aks_placement(accelerator, spot), model_uri=lambda key: store.blob_url(store_key(key)),
        bind_identity=bind, alert_receiver=webhook_receiver(webhook_url), autoscaler=None,
        depends_on=(cluster, *cluster.api_access, *cluster.pull_access),
        device_plugin=True, pod_labels={USE_LABEL: "true"},
        kube_proxy=False)
