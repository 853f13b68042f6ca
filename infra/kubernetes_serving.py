"""Serving on the stack's GPU cluster: the services whose `target` is `kubernetes` or `both`.

Cloud-neutral: a target hands in a `ClusterAccess` (its cluster's kubeconfig, the GPU pool's labels and
taint, how a store key becomes a model URI, and an identity binder that makes a cloud role for one
service account and returns the annotations binding it), and `serve_on_kubernetes` declares the rest:
a provider on the kubeconfig, `GpuEnablement`, one `ModelService` per Kubernetes-served service and
`ClusterMonitoring`. Each cloud writes its `ClusterAccess` builder (infra/targets/aws/kubernetes.py: IRSA;
gcp/ and azure/kubernetes.py: Workload Identity), calls `serve_on_kubernetes` from its composition when a
service serves there, and registers `Target(kubernetes=True)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.alert_rules import ServiceAlerts
from components.k8s import charts
from components.k8s.canary import SERVING_DOMAIN, CanaryAnalysis, CanaryController
from components.k8s.cluster import ClusterConnection, ClusterConnectionArgs
from components.k8s.drift_job import SERVICE_ACCOUNT as DRIFT_SERVICE_ACCOUNT
from components.k8s.drift_job import DriftCronJob, DriftCronJobArgs
from components.k8s.gpu_enablement import GpuEnablement, GpuEnablementArgs, NodeAutoscaler, gateway_url
from components.k8s.model_service import ModelService, ModelServiceArgs
from components.k8s.names import GATEWAY_NAMESPACE
from components.k8s.observability import (
    ALERTMANAGER_SERVICE_ACCOUNT,
    PROMETHEUS_URL,
    ClusterMonitoring,
    ClusterMonitoringArgs,
)
from components.k8s.workload import MONITORING_NAMESPACE, GpuPlacement, ServiceWorkload
from components.serving import deployed_slots
from infra.composition import ON_KUBERNETES, ServicePlan, alert_thresholds, rollout_spec, serves_on
from infra.config import NAMESPACE, PlatformConfig
from infra.config_errors import Problem
from infra.exports import EndpointExport

CAPTURE_PREFIX = "data-capture/{service}/kubernetes"
"""Where a service's model servers on the cluster write captured predictions (next to SageMaker's capture of the
same service under `data-capture/<service>`, apart from it, for the drift monitor to read)."""


@dataclass(frozen=True)
class IdentityRequest:
    """One Kubernetes service account that needs a cloud identity, and what that identity may do."""

    purpose: str
    """Short name for the cloud role (e.g. `serve-fraud-detector`)."""
    namespace: str
    service_account: str
    reads_model_prefix: str | None = None
    """Read only this key prefix of the artifact store (a service's models)."""
    reads_prefixes: tuple[str, ...] = ()
    """Read only these key prefixes too (the drift monitor: the live baseline and the service's capture)."""
    writes_prefix: str | None = None
    """Write only under this key prefix of the artifact store (the service's prediction capture)."""
    publishes_alerts: bool = False
    """Deliver alerts to the stack's alert destination (Alertmanager)."""


@dataclass(frozen=True)
class ClusterAccess:
    """What a target tells the Kubernetes serving about its cluster."""

    cloud: str
    kubeconfig: pulumi.Input[str]
    cluster_identifier: pulumi.Input[str]
    """The cluster's stable name (`components.k8s.cluster.ClusterConnectionArgs.cluster_identifier`)."""
    placement: GpuPlacement
    """Node selector and taint of the GPU pool (the cluster component's labels)."""
    model_uri: Callable[[str], pulumi.Input[str]]
    """Store-relative key -> URI in the cloud's scheme (`s3://`, `gs://`, `https://<account>.blob...`): models and
    baselines read, captures written (the model server's capture sinks and the drift monitor's inputs take each)."""
    bind_identity: Callable[[IdentityRequest], Mapping[str, pulumi.Input[str]]]
    """Creates the cloud role for one service account; returns the service account's annotations."""
    alert_receiver: Mapping[str, Any]
    """Alertmanager receiver delivering to the stack's alert destination."""
    autoscaler: NodeAutoscaler | None = None
    """The node autoscaler to install (None where the cloud scales GPU pools itself)."""
    metrics_server: bool = False
    """Install Metrics Server (the HPAs' `metrics.k8s.io`): True where the cluster does not serve it (EKS)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before anything is applied to the cluster (e.g. the node groups)."""
    device_plugin: bool = True
    """Install NVIDIA's device plugin (False where the cloud deploys its own, as GKE does)."""
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the pods of a service account that got a cloud identity (AKS: `azure.workload.identity/use`)."""
    dcgm_exporter: bool = True
    """Install NVIDIA's DCGM exporter chart (False where it cannot load the driver, as on GKE's COS nodes)."""
    kube_proxy: bool = True
    """The cluster runs kube-proxy (False on GKE with Dataplane V2 and on AKS with the Cilium dataplane): monitored,
    and alerted on, only then."""


def webhook_receiver(webhook_url: pulumi.Input[str] | None) -> Mapping[str, Any]:
    """Alertmanager receiver posting to the stack's on-call webhook (none: alerts stay in Alertmanager/Grafana)."""
    return {"webhook_configs": [{"url": webhook_url, "send_resolved": True}]} if webhook_url is not None else {}


def controlled(cfg: PlatformConfig) -> bool:
    """Controller mode: a canary or linear rollout is run by Flagger, which then owns the route's weights."""
    return cfg.rollout.strategy != "all-at-once"


def reserved_namespaces() -> frozenset[str]:
    """Namespaces a service may not take (each service gets its own, named after it, labelled restricted)."""
    return frozenset({"default", "kube-system", "kube-public", "kube-node-lease", GATEWAY_NAMESPACE,
                      MONITORING_NAMESPACE, *(chart.namespace for chart in charts.ALL)})


def config_problems(cfg: PlatformConfig) -> list[Problem]:
    """A Kubernetes-served service has a namespace of its own, and under a canary controller puts all traffic
    on the live slot in the stack file."""
    on_cluster = {name: svc for name, svc in cfg.services.items() if svc.target in ON_KUBERNETES}
    problems = [Problem(f"{NAMESPACE}:services.{name}", f"served on Kubernetes in the namespace {name!r}, which "
                        "the cluster or the platform's add-ons own; rename the service") for name in on_cluster
                if name in reserved_namespaces()]
    if not controlled(cfg):
        return problems
    return problems + [Problem(f"{NAMESPACE}:services.{name}.slots.{slot_name}.weight",
                    f"rollout.strategy {cfg.rollout.strategy!r} on Kubernetes: Flagger moves the traffic to a new "
                    f"version of the live slot; give {svc.live!r} weight 100 and this slot 0 (or use "
                    "rollout.strategy all-at-once to split by weight)", slot.weight)
            for name, svc in on_cluster.items()
            for slot_name, slot in svc.slots.items() if slot_name != svc.live and slot.weight]


def serve_on_kubernetes(cfg: PlatformConfig, services: Sequence[ServicePlan],
                        images: Mapping[str, Mapping[str, pulumi.Input[str]]],
                        cluster_access: Callable[[], ClusterAccess],
                        drift_image: pulumi.Input[str] | None = None) -> dict[str, EndpointExport]:
    """Declare the cluster's serving for the Kubernetes-served services; their endpoint exports (none: nothing).

    `cluster_access` is called only when a service is served on Kubernetes (it declares cloud roles).
    `drift_image` (the drift-monitor job image the target pushed) runs each service's drift check as a CronJob;
    None (nothing built: no build tag) leaves it out.
    """
    served = [plan for plan in services if serves_on(cfg, plan.name, ON_KUBERNETES)]
    if not served:
        return {}
    access = cluster_access()
    connection = ClusterConnection("cluster", ClusterConnectionArgs(
        access.kubeconfig, access.cluster_identifier, tuple(access.depends_on)))
    on_cluster = pulumi.ResourceOptions(providers=[connection.provider])
    gpus = GpuEnablement("gpu-enablement", GpuEnablementArgs(
        placement=access.placement, autoscaler=access.autoscaler, metrics_server=access.metrics_server,
        device_plugin=access.device_plugin, dcgm_exporter=access.dcgm_exporter), on_cluster)
    ClusterMonitoring("cluster-monitoring", ClusterMonitoringArgs(
        services=[ServiceAlerts(plan.name, plan.drift) for plan in served], thresholds=alert_thresholds(cfg),
        alert_receiver=access.alert_receiver, kube_proxy=access.kube_proxy,
        alertmanager_annotations=access.bind_identity(IdentityRequest(
            "alerts", MONITORING_NAMESPACE, ALERTMANAGER_SERVICE_ACCOUNT, publishes_alerts=True))), on_cluster)
    first: tuple[pulumi.Resource, ...] = (gpus.gateway, *([gpus.device_plugin] if gpus.device_plugin else []))
    analysis = None
    if controlled(cfg):
        rollout = rollout_spec(cfg)
        analysis = CanaryAnalysis(steps=rollout.steps, interval_seconds=rollout.wait_seconds,
                                  thresholds=alert_thresholds(cfg), prometheus_url=PROMETHEUS_URL)
        first += (CanaryController("canary-controller", PROMETHEUS_URL, on_cluster).release,)
    endpoints: dict[str, EndpointExport] = {}
    for plan in served:
        service = ModelService(f"{plan.name}-k8s", ModelServiceArgs(
            workload=service_workload(plan, images[plan.name], access, analysis,
                                      cfg.monitoring.data_capture_percent or 0),
            depends_on=first), on_cluster)
        endpoints[plan.name] = EndpointExport(
            name=f"{service.namespace}/{plan.name}", invoke_url=gateway_url() + service.url_path,
            weights=service.weights, extras={"namespace": service.namespace,
                                             **({"host": f"{plan.name}.{SERVING_DOMAIN}"} if service.controlled
                                                else {})})
        if drift_image is not None:
            drift_check(plan, service.namespace, drift_image, access, pulumi.ResourceOptions.merge(
                on_cluster, pulumi.ResourceOptions(depends_on=[service])))
    return endpoints


def drift_check(plan: ServicePlan, namespace: str, image: pulumi.Input[str], access: ClusterAccess,
                opts: pulumi.ResourceOptions) -> DriftCronJob:
    """The service's drift monitor CronJob, with an identity that reads only its baseline and its capture."""
    capture_prefix = CAPTURE_PREFIX.format(service=plan.name)
    annotations = access.bind_identity(IdentityRequest(
        f"drift-{plan.name}", namespace, DRIFT_SERVICE_ACCOUNT, reads_prefixes=(plan.baseline_prefix, capture_prefix)))
    schedule = plan.drift.schedule or "daily"  # resolved per environment by the config; never None here
    return DriftCronJob(f"{plan.name}-drift", DriftCronJobArgs(
        service=plan.name, namespace=namespace, image=image, schedule=schedule,
        threshold_psi=plan.drift.threshold_psi, baseline_uri=access.model_uri(f"{plan.baseline_prefix}/baseline.csv"),
        capture_uri=access.model_uri(f"{capture_prefix}/"), service_account_annotations=annotations,
        pod_labels=access.pod_labels if annotations else {}), opts)


def service_workload(plan: ServicePlan, images: Mapping[str, pulumi.Input[str]], access: ClusterAccess,
                     canary: CanaryAnalysis | None = None, capture_percent: float = 0) -> ServiceWorkload:
    """The service's deployed slots (`components.serving.deployed_slots`; the live slot alone under a canary
    controller) with the cluster's placement and identity."""
    specs = plan.slot_specs(images, access.model_uri)
    capture_prefix = CAPTURE_PREFIX.format(service=plan.name)
    slots = (plan.live,) if canary else deployed_slots({name: spec.weight for name, spec in specs.items()},
                                                       plan.live, plan.keep_warm)
    annotations = access.bind_identity(IdentityRequest(f"serve-{plan.name}", plan.name, plan.name,
                                                       reads_model_prefix=plan.model_prefix,
                                                       writes_prefix=capture_prefix if capture_percent else None))
    return ServiceWorkload(service=plan.name, namespace=plan.name, slots={s: specs[s] for s in slots},
                           max_replicas=plan.max_instances, placement=access.placement,
                           service_account_annotations=annotations, canary=canary,
                           pod_labels=access.pod_labels if annotations else {},
                           capture=(access.model_uri(capture_prefix), capture_percent) if capture_percent else None)
