"""ClusterMonitoring: kube-prometheus-stack, the platform's alert rules, scrapes, Alertmanager route, dashboard.

- Prometheus, Alertmanager and Grafana come from the pinned kube-prometheus-stack release; it is told to pick
  up every ServiceMonitor and PrometheusRule in the cluster (by default it selects only objects labelled
  with its own release name, and the platform's would be silently ignored).
- One `PrometheusRule` carries the shared rules (`components.alert_rules`, the same the local Docker platform
  loads), GPU alert included (DCGM exporter).
- Scrapes: a PodMonitor for model servers in every namespace (relabelled to the `service` / `slot` labels the
  rules expect); ServiceMonitors for the DCGM exporter and the Pushgateway the drift monitor pushes to
  (`honorLabels`, so its `service` grouping key survives).
- Alertmanager routes every alert to the receiver the cloud hands in (on EKS: the stack's SNS alert topic,
  which mails the stack's `monitoring.alertEmails`).
- No scrapes of what a managed control plane hides (EKS, GKE and AKS run the scheduler, controller manager and
  etcd out of the cluster's reach): the chart's `absent(up{job="kube-scheduler"} == 1)`-style alerts
  (`KubeSchedulerDown`, `KubeControllerManagerDown`, critical) would fire from the first minute, forever, to the
  on-call receiver (prometheus-community/helm-charts#1554, #4106); the chart renders those rules only when the
  component is `enabled` (templates/prometheus/rules-1.14/kubernetes-system-*.yaml). Likewise kube-proxy where the
  cluster has none (`kube_proxy`).
- A Grafana dashboard built from data (`dashboard(...)`), loaded by Grafana's sidecar from a labelled ConfigMap.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import alert_rules
from components.alert_rules import RuleOptions, ServiceAlerts
from components.k8s import charts
from components.k8s.charts import release
from components.k8s.resources import declare
from components.k8s.workload import MODEL_SERVICE_LABEL, MONITORING_NAMESPACE, SLOT_LABEL
from components.monitoring import AlertThresholds

PROMETHEUS_URL = f"http://{charts.KUBE_PROMETHEUS_STACK.release_name}-prometheus.{MONITORING_NAMESPACE}.svc:9090"
"""The stack's Prometheus (kube-prometheus-stack names its Service `<fullname>-prometheus`)."""
PLATFORM_LABELS = {"app.kubernetes.io/part-of": "mlops-platform"}
ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"
MANAGED_CONTROL_PLANE = ("kubeControllerManager", "kubeScheduler", "kubeEtcd")
"""kube-prometheus-stack components no managed cluster lets Prometheus scrape (see the module docstring)."""
GRAFANA_DATASOURCE = "prometheus"
"""Uid of the Prometheus datasource the stack provisions in Grafana (set in `stack_values`)."""


@dataclass(frozen=True)
class ClusterMonitoringArgs:
    services: Sequence[ServiceAlerts]
    thresholds: AlertThresholds
    alert_receiver: Mapping[str, Any]
    """Alertmanager receiver (without `name`), e.g. `{"sns_configs": [...]}` on EKS."""
    alertmanager_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Annotations binding Alertmanager's service account to the cloud identity that may deliver alerts."""
    gpu: bool = True
    """Scrape the DCGM exporter and alert on GPU utilization."""
    kube_proxy: bool = True
    """The cluster runs kube-proxy (False on GKE Dataplane V2, which replaces it): the chart's kube-proxy scrape
    and its `KubeProxyDown` alert are on only then."""
    retention: str = "15d"


def _relabel(source: str, target: str) -> dict[str, Any]:
    return {"sourceLabels": [source], "targetLabel": target, "action": "replace"}


def _pod_label(label: str) -> str:
    return "__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() else "_" for c in label)


def prometheus_rule(args: ClusterMonitoringArgs) -> dict[str, Any]:
    rules = alert_rules.alert_rules(args.services, args.thresholds, RuleOptions(gpu=args.gpu))
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "mlops-platform", "namespace": MONITORING_NAMESPACE, "labels": PLATFORM_LABELS},
            "spec": rules}


def service_monitors(gpu: bool) -> list[dict[str, Any]]:
    def monitor(name: str, namespaces: dict[str, Any], selector: dict[str, str], port: str,
                **endpoint: Any) -> dict[str, Any]:
        return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                "metadata": {"name": name, "namespace": MONITORING_NAMESPACE, "labels": PLATFORM_LABELS},
                "spec": {"namespaceSelector": namespaces, "selector": {"matchLabels": selector},
                         "endpoints": [{"port": port, "path": "/metrics", "interval": "30s", **endpoint}]}}

    # Pods, not Services: a canary controller serves the pods it manages through Services of its own.
    relabelings = [_relabel(_pod_label(MODEL_SERVICE_LABEL), "service"), _relabel(_pod_label(SLOT_LABEL), "slot")]
    model_servers = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
        "metadata": {"name": "model-servers", "namespace": MONITORING_NAMESPACE, "labels": PLATFORM_LABELS},
        "spec": {"namespaceSelector": {"any": True},
                 "selector": {"matchExpressions": [{"key": MODEL_SERVICE_LABEL, "operator": "Exists"}]},
                 "podMetricsEndpoints": [{"port": "http", "path": "/metrics", "interval": "30s",
                                          "relabelings": relabelings}]}}
    pushgateway = monitor("drift-pushgateway", {"matchNames": [MONITORING_NAMESPACE]},
                          {"app.kubernetes.io/name": "prometheus-pushgateway"}, "http", honorLabels=True)
    found = [model_servers, pushgateway]
    if gpu:
        found.append(monitor("dcgm-exporter", {"matchNames": [charts.DCGM_EXPORTER.namespace]},
                             {"app.kubernetes.io/name": "dcgm-exporter"}, "metrics"))
    return found


def _panel(i: int, title: str, expr: str, unit: str) -> dict[str, Any]:
    return {"id": i + 1, "type": "timeseries", "title": title,
            "datasource": {"type": "prometheus", "uid": GRAFANA_DATASOURCE},
            "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
            "fieldConfig": {"defaults": {"unit": unit}}, "targets": [{"expr": expr, "refId": "A"}]}


def dashboard(services: Sequence[str], gpu: bool) -> dict[str, Any]:
    """The serving dashboard: requests, errors and p99 per service and slot, drift PSI, GPU utilization."""
    sel = f'service=~"{"|".join(services)}"'
    panels = [
        ("Requests per second", f"sum by (service, slot) (rate({alert_rules.REQUESTS}{{{sel}}}[5m]))", "reqps"),
        ("5XX share of requests", f'100 * sum by (service, slot) (rate({alert_rules.REQUESTS}{{{sel},status=~"5.."}}'
         f"[5m])) / sum by (service, slot) (rate({alert_rules.REQUESTS}{{{sel}}}[5m]))", "percent"),
        ("p99 latency", f"1000 * histogram_quantile(0.99, sum by (service, slot, le) "
         f"(rate({alert_rules.DURATION_BUCKETS}{{{sel}}}[5m])))", "ms"),
        ("Drift PSI per feature", f"max by (service, feature) ({alert_rules.DRIFT_PSI}{{{sel}}})", "none"),
    ]
    if gpu:
        panels.append(("GPU utilization", f"avg by (Hostname, gpu) ({alert_rules.DCGM_GPU_UTIL})", "percent"))
    return {"title": "mlops-platform serving", "uid": "mlops-serving", "schemaVersion": 39, "editable": False,
            "tags": ["mlops-platform"], "time": {"from": "now-6h", "to": "now"},
            "panels": [_panel(i, *p) for i, p in enumerate(panels)]}


def dashboard_config_map(services: Sequence[str], gpu: bool) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "mlops-serving-dashboard", "namespace": MONITORING_NAMESPACE,
                         "labels": {**PLATFORM_LABELS, "grafana_dashboard": "1"}},
            "data": {"mlops-serving.json": json.dumps(dashboard(services, gpu), indent=2, sort_keys=True)}}


def stack_values(args: ClusterMonitoringArgs) -> dict[str, Any]:
    """kube-prometheus-stack values: select every ServiceMonitor / rule, route alerts to the cloud's receiver."""
    receiver = {"name": "platform", **dict(args.alert_receiver)}
    return {
        "fullnameOverride": charts.KUBE_PROMETHEUS_STACK.release_name,  # Prometheus at PROMETHEUS_URL
        **{component: {"enabled": False} for component in MANAGED_CONTROL_PLANE},
        "kubeProxy": {"enabled": args.kube_proxy},
        "prometheus": {"prometheusSpec": {
            "retention": args.retention,
            "serviceMonitorSelectorNilUsesHelmValues": False, "ruleSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False}},
        "alertmanager": {
            "serviceAccount": {"create": True, "name": ALERTMANAGER_SERVICE_ACCOUNT,
                               "annotations": dict(args.alertmanager_annotations)},
            "config": {"route": {"receiver": "platform", "group_by": ["alertname", "service"],
                                 "routes": [{"receiver": "null", "matchers": ['alertname="Watchdog"']}]},
                       "receivers": [receiver, {"name": "null"}]}},
        "grafana": {"sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard"},
                                "datasources": {"uid": GRAFANA_DATASOURCE}}},
    }


class ClusterMonitoring(pulumi.ComponentResource):
    """Prometheus stack, Pushgateway, ServiceMonitors, the platform's PrometheusRule and dashboard."""

    def __init__(self, name: str, args: ClusterMonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:k8s:ClusterMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = release(f"{name}-prometheus-stack", charts.KUBE_PROMETHEUS_STACK, stack_values(args), child)
        release(f"{name}-pushgateway", charts.PUSHGATEWAY, {}, child, depends_on=[stack])
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[stack])  # the CRDs come with the stack
        for monitor in service_monitors(args.gpu):
            declare(f"{name}-{monitor['metadata']['name']}", monitor, after_crds)
        declare(f"{name}-rules", prometheus_rule(args), after_crds)
        declare(f"{name}-dashboard", dashboard_config_map([s.name for s in args.services], args.gpu), after_crds)
        self.register_outputs({})
