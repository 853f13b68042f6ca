"""GpuEnablement: what makes a cluster's GPU pool usable, as pinned Helm releases.

- NVIDIA device plugin: advertises `nvidia.com/gpu` on GPU nodes (without it a GPU pod stays Pending).
- DCGM exporter: GPU utilization for Prometheus (`DCGM_FI_DEV_GPU_UTIL`, the shared GPU alert).
- A node autoscaler (optional, per cloud): on EKS the cluster autoscaler, so a GPU group at min 0 grows when
  a GPU pod is pending (EKS managed node groups tag their ASGs for auto-discovery).
- Metrics Server where the cluster has none (EKS): the model servers' HPAs read CPU utilization from it.
- The Gateway API implementation (Envoy Gateway) with the platform's GatewayClass and Gateway: every
  ModelService's HTTPRoute attaches to it.

The daemon sets tolerate the GPU taint and select the GPU nodes, so they run exactly where GPUs are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.k8s import charts
from components.k8s.charts import HelmChart, release
from components.k8s.resources import declare
from components.k8s.workload import GATEWAY_NAME, GATEWAY_NAMESPACE, GpuPlacement

GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"


@dataclass(frozen=True)
class NodeAutoscaler:
    """A cloud's node autoscaler: its chart and values (credentials bound by the cloud's identity)."""

    chart: HelmChart
    values: Mapping[str, Any]


@dataclass(frozen=True)
class GpuEnablementArgs:
    placement: GpuPlacement
    """The GPU pool's node labels and taint."""
    autoscaler: NodeAutoscaler | None = None
    """Node autoscaler; None where the cloud scales pools itself (GKE node auto-provisioning, AKS autoscaler)."""
    gateway_listener_port: int = 80
    """Port of the gateway's HTTP listener."""
    metrics_server: bool = False
    """Install Metrics Server: the HPAs scale on `metrics.k8s.io`, which EKS does not serve out of the box
    (GKE and AKS do)."""
    device_plugin: bool = True
    """Install NVIDIA's device plugin; False where the cloud deploys its own (GKE's `nvidia-gpu-device-plugin`)."""
    dcgm_exporter: bool = True
    """Install NVIDIA's DCGM exporter chart; False where it cannot start (GKE: see infra/targets/gcp/kubernetes.py)."""


def gpu_daemon_values(placement: GpuPlacement) -> dict[str, Any]:
    """Scheduling values shared by the NVIDIA charts: on GPU nodes only, tolerating their taint."""
    return {"nodeSelector": dict(placement.node_selector), "tolerations": placement.tolerations()}


GATEWAY_SERVICE = "mlops-gateway"
"""The gateway's Service, named (not generated) so the invoke URL is known at plan time."""


def gateway_url(port: int = 80) -> str:
    """In-cluster URL of the platform's gateway; a service is served under `/<service>/`."""
    suffix = "" if port == 80 else f":{port}"
    return f"http://{GATEWAY_SERVICE}.{GATEWAY_NAMESPACE}.svc.cluster.local{suffix}"


def gateway_manifests(port: int) -> list[dict[str, Any]]:
    """The platform's GatewayClass and its one Gateway (cluster-internal Service), admitting every namespace."""
    return [
        {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "EnvoyProxy",
         "metadata": {"name": GATEWAY_NAME, "namespace": GATEWAY_NAMESPACE},
         "spec": {"provider": {"type": "Kubernetes", "kubernetes": {
             "envoyService": {"name": GATEWAY_SERVICE, "type": "ClusterIP"}}}}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": GATEWAY_NAME},
         "spec": {"controllerName": GATEWAY_CONTROLLER}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
         "metadata": {"name": GATEWAY_NAME, "namespace": GATEWAY_NAMESPACE},
         "spec": {"gatewayClassName": GATEWAY_NAME,
                  "infrastructure": {"parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy",
                                                       "name": GATEWAY_NAME}},
                  "listeners": [{"name": "http", "protocol": "HTTP", "port": port,
                                 "allowedRoutes": {"namespaces": {"from": "All"}}}]}},
    ]


class GpuEnablement(pulumi.ComponentResource):
    """Device plugin, DCGM exporter, node autoscaler and the gateway, on the cluster of the given provider."""

    device_plugin: pulumi.Resource | None
    """NVIDIA's device plugin release (None where the cloud runs its own)."""
    gateway: pulumi.Resource
    """The Gateway (HTTPRoutes depend on it; its CRDs come with the gateway release)."""

    def __init__(self, name: str, args: GpuEnablementArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:k8s:GpuEnablement", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        daemons = gpu_daemon_values(args.placement)
        self.device_plugin = (release(f"{name}-device-plugin", charts.DEVICE_PLUGIN, daemons, child)
                              if args.device_plugin else None)
        if args.dcgm_exporter:
            release(f"{name}-dcgm-exporter", charts.DCGM_EXPORTER,
                    {**daemons, "serviceMonitor": {"enabled": False}}, child)  # scraped by the monitoring stack's job
        if args.autoscaler:
            release(f"{name}-autoscaler", args.autoscaler.chart, args.autoscaler.values, child)
        if args.metrics_server:
            release(f"{name}-metrics-server", charts.METRICS_SERVER, {}, child)
        gateway_release = release(f"{name}-gateway", charts.ENVOY_GATEWAY, {}, child)
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[gateway_release])
        *_, self.gateway = (declare(f"{name}-{m['kind'].lower()}", m, after_crds)
                            for m in gateway_manifests(args.gateway_listener_port))
        self.register_outputs({})
