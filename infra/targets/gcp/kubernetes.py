"""GKE wiring of Kubernetes serving: the GPU cluster's kubeconfig, Workload Identity per service account, the
GPU pool's placement, the alert receiver. No node autoscaler release: GKE's own cluster autoscaler scales the
GPU pool (its `autoscaling` block, min 0) when a GPU pod is pending.

- Placement: GKE labels every GPU node `cloud.google.com/gke-accelerator=<accelerator>` and the pool carries
  the `nvidia.com/gpu=present:NoSchedule` taint (components/gcp/gpu_cluster.py); pods select the label and
  tolerate the taint (cloud.google.com/kubernetes-engine/docs/how-to/gpus).
- Device plugin: GKE deploys its own (`nvidia-gpu-device-plugin` in kube-system, with the drivers it installs
  on the pool, `gpu_driver_version=DEFAULT`; GoogleCloudPlatform/container-engine-accelerators#67); NVIDIA's
  chart would run a second one that finds no driver libraries on Container-Optimized OS.
- No DCGM exporter chart: on Container-Optimized OS the driver lives under `/home/kubernetes/bin/nvidia` and only
  pods that request a GPU get it mounted, so NVIDIA's exporter cannot load NVML and exits (NVIDIA/dcgm-exporter#59,
  #612): one crash-looping pod per GPU node (kube-prometheus-stack's `KubePodCrashLooping` to on-call, forever), and
  the atomic release waiting 15 minutes then rolling back, failing `pulumi up`, whenever it is installed or
  upgraded while a GPU node runs. GPU utilization on GKE is not scraped (docs/kubernetes-serving.md, Not yet).
- No kube-proxy: Dataplane V2 implements Services itself (cloud.google.com/kubernetes-engine/docs/concepts/
  dataplane-v2), so the monitoring stack neither scrapes kube-proxy nor raises `KubeProxyDown` for its absence.
- Identity: a Google service account per workload with conditioned bucket grants on its prefixes only
  (components/gcp/workload_identity.py). Alertmanager gets no Google identity: its receiver is a webhook.
- Alerts: Alertmanager posts to `monitoring.alertWebhookUrl` (a secret) when it is set. Alertmanager can only
  mail through an SMTP relay and GCP has none managed (outbound port 25 is blocked), so `alertEmails` receive
  the Cloud Monitoring alerts of the stack, and the cluster's alerts reach people through the webhook; without
  one they show in Alertmanager and Grafana only (docs/kubernetes-serving.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.gcp.gpu_cluster import GPU_TAINT, GpuCluster
from components.gcp.naming import GcpNames
from components.gcp.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from components.k8s.charts import GPU_TOLERATION_EFFECTS
from components.k8s.workload import GpuPlacement
from infra.kubernetes_serving import ClusterAccess, IdentityRequest
from infra.kubernetes_serving import webhook_receiver as alert_receiver

ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"


def gke_placement(gpu_type: str) -> GpuPlacement:
    return GpuPlacement(node_selector={ACCELERATOR_LABEL: gpu_type}, taint_key=GPU_TAINT.key,
                        taint_value=GPU_TAINT.value, taint_effect=GPU_TOLERATION_EFFECTS[GPU_TAINT.effect])


def gke_access(cluster: GpuCluster, names: GcpNames, *, project: str, gpu_type: str,
               bucket_name: pulumi.Input[str], webhook_url: pulumi.Input[str] | None = None) -> ClusterAccess:
    """The `ClusterAccess` of a GKE `GpuCluster`: every service account that touches the bucket gets its own
    Google service account, granted on its prefixes only."""
    def bind(request: IdentityRequest) -> Mapping[str, pulumi.Input[str]]:
        reads = tuple(p for p in (request.reads_model_prefix, *request.reads_prefixes) if p)
        if not (reads or request.writes_prefix):
            return {}
        identity = WorkloadIdentity(f"{request.purpose}-identity", WorkloadIdentityArgs(
            project=project, account_id=names.service_account(request.purpose), namespace=request.namespace,
            service_account=request.service_account, bucket_name=bucket_name,
            reads_prefixes=reads, writes_prefix=request.writes_prefix, depends_on=(cluster,)))
        return identity.annotations

    return ClusterAccess(
        cloud="gcp", kubeconfig=cluster.kubeconfig, cluster_identifier=cluster.cluster_name,
        placement=gke_placement(gpu_type),
        model_uri=lambda key: pulumi.Output.concat("gs://", bucket_name, "/", key),
        bind_identity=bind, alert_receiver=alert_receiver(webhook_url), autoscaler=None, depends_on=(cluster,),
        device_plugin=False, dcgm_exporter=False, kube_proxy=False)
