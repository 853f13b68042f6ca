"""The Helm charts the platform installs on a cluster, each pinned to one version, and how they are released.

A chart version is part of the stack's code: moving one is a reviewed change that shows in the plan diff
(policy `k8s-pinned-charts` rejects a release without an exact version). Versions were read from each
chart's published release (the URL in `source`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s.names import GATEWAY_NAMESPACE, MONITORING_NAMESPACE


@dataclass(frozen=True)
class HelmChart:
    """One chart from one repository at one version, installed into one namespace."""

    chart: str
    """Chart name in its repository (or an `oci://` reference)."""
    version: str
    """Exact chart version (never a range)."""
    repository: str | None
    """Chart repository URL; None for an `oci://` chart."""
    namespace: str
    """Namespace the release is installed into (created by the release)."""
    source: str
    """Where the version was read."""

    @property
    def release_name(self) -> str:
        """The Helm release's name (fixed, so the objects a chart names after it have known names)."""
        return self.chart.rsplit("/", 1)[-1].removesuffix("-helm")


DEVICE_PLUGIN = HelmChart("nvidia-device-plugin", "0.18.2", "https://nvidia.github.io/k8s-device-plugin",
                          "kube-system", "https://github.com/NVIDIA/k8s-device-plugin/releases")
DCGM_EXPORTER = HelmChart("dcgm-exporter", "4.8.1", "https://nvidia.github.io/dcgm-exporter/helm-charts",
                          "gpu-monitoring", "https://github.com/NVIDIA/dcgm-exporter/releases (chart 4.8.1 = exporter "
                          "4.8.1: still labels series `Hostname` and reports utilization in percent, as "
                          "components/alert_rules.py expects; 4.8.3 renamed the label, 4.9.0 made it a 0-1 ratio)")
CLUSTER_AUTOSCALER = HelmChart("cluster-autoscaler", "9.52.1", "https://kubernetes.github.io/autoscaler",
                               "kube-system", "https://github.com/kubernetes/autoscaler/releases "
                               "(tag cluster-autoscaler-chart-9.52.1)")
ENVOY_GATEWAY = HelmChart("oci://docker.io/envoyproxy/gateway-helm", "v1.7.4", None, GATEWAY_NAMESPACE,
                          "https://github.com/envoyproxy/gateway/releases (bundles the Gateway API CRDs)")
KUBE_PROMETHEUS_STACK = HelmChart("kube-prometheus-stack", "81.6.2",
                                  "https://prometheus-community.github.io/helm-charts", MONITORING_NAMESPACE,
                                  "https://github.com/prometheus-community/helm-charts/releases")
FLAGGER = HelmChart("flagger", "1.44.0", "https://flagger.app", "flagger-system",
                    "https://github.com/fluxcd/flagger/blob/main/charts/flagger/Chart.yaml (Helm installs the "
                    "Canary and MetricTemplate CRDs from the chart's crds/)")
PUSHGATEWAY = HelmChart("prometheus-pushgateway", "3.4.1", "https://prometheus-community.github.io/helm-charts",
                        MONITORING_NAMESPACE, "https://github.com/prometheus-community/helm-charts/releases")

METRICS_SERVER = HelmChart("metrics-server", "3.13.1", "https://kubernetes-sigs.github.io/metrics-server/",
                           "kube-system", "https://github.com/kubernetes-sigs/metrics-server (tag "
                           "metrics-server-helm-chart-3.13.1 = Metrics Server 0.8.1)")

ALL = (DEVICE_PLUGIN, DCGM_EXPORTER, CLUSTER_AUTOSCALER, ENVOY_GATEWAY, KUBE_PROMETHEUS_STACK, FLAGGER, PUSHGATEWAY,
       METRICS_SERVER)

CLUSTER_AUTOSCALER_IMAGES = {"1.32": "v1.32.3", "1.33": "v1.33.1", "1.34": "v1.34.0"}
"""cluster-autoscaler must match the cluster's minor version (kubernetes/autoscaler README, 'Releases')."""

GPU_TOLERATION_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute",
                          "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
"""Node-group taint effects as clouds spell them -> the Kubernetes spelling."""


def release(name: str, chart: HelmChart, values: Mapping[str, Any], opts: pulumi.ResourceOptions,
            depends_on: list[pulumi.Resource] | None = None) -> k8s.helm.v3.Release:
    """A Helm release of `chart` with `values`; atomic, so a failed upgrade rolls back to the last good release."""
    return k8s.helm.v3.Release(
        name, k8s.helm.v3.ReleaseArgs(
            name=chart.release_name, chart=chart.chart, version=chart.version, namespace=chart.namespace,
            create_namespace=True,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository) if chart.repository else None,
            values=dict(values), atomic=True, cleanup_on_fail=True, max_history=10, timeout=900),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=depends_on or [])))
