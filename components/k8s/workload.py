"""The manifests of one model service on Kubernetes, rendered by pure functions from the shared slot model.

A service gets a namespace, a service account (bound to the cloud identity that reads the model's prefix),
and per deployed slot (`components.serving.deployed_slots`) a Deployment, a Service, an HPA and a PDB; one
HTTPRoute splits traffic across the slots' Services with the slot weights (Gateway API `backendRefs[].weight`);
a NetworkPolicy admits only the gateway's and Prometheus's namespaces. Values that are Pulumi outputs (the
image, the model URI) pass through untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.k8s.canary import CanaryAnalysis, canary, metric_templates
from components.k8s.names import GATEWAY_NAME, GATEWAY_NAMESPACE, MONITORING_NAMESPACE
from components.serving import SlotSpec

PORT = 8080
"""The model server's port (services/model_server: PORT)."""
USER_ID = 10001
"""The model server image's non-root user (services/model_server/Dockerfile)."""
LIVENESS_ROUTE = "/v2/health/live"
READINESS_ROUTE = "/v2/health/ready"
SLOT_LABEL = "mlops.dev/slot"
SERVICE_LABEL = "app.kubernetes.io/name"
MODEL_SERVICE_LABEL = "mlops.dev/service"
"""On every model-server pod: the `service` label of its metrics and what policies select. A canary controller
rewrites the selector label (`app.kubernetes.io/name`) of the pods it promotes; it leaves this one alone."""
GPU_RESOURCE = "nvidia.com/gpu"
GPU_EXECUTION_PROVIDER = "auto"
"""`EXECUTION_PROVIDER` of a GPU pod: CUDA when the image's ONNX Runtime offers it, CPU otherwise. Not `cuda`: the
model server image installs PyPI's `onnxruntime`, the CPU build (CUDA ships as `onnxruntime-gpu`,
onnxruntime.ai/docs/install), and with `cuda` the server exits 2 at start (services/model_server/model.py
`choose_providers`), so every GPU slot would crash-loop. The pod keeps its GPU request and placement: an image
built with `onnxruntime-gpu` uses the GPU with no manifest change (docs/kubernetes-serving.md, GPU scheduling)."""


@dataclass(frozen=True)
class PodResources:
    """Requests and limits of one model-server container."""

    cpu_request: str = "1"
    cpu_limit: str = "2"
    memory_request: str = "4Gi"
    memory_limit: str = "8Gi"
    gpus: int = 1
    """GPUs per replica (`nvidia.com/gpu`; requests equal limits for extended resources). 0: CPU only."""


@dataclass(frozen=True)
class GpuPlacement:
    """Where GPU pods go: the GPU pool's node labels and the taint they tolerate."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    taint_key: str = GPU_RESOURCE
    taint_value: str = "true"
    taint_effect: str = "NoSchedule"
    extra_taints: tuple[tuple[str, str, str], ...] = ()
    """Further (key, value, effect) taints of the pool, tolerated too (AKS spot pools add
    `kubernetes.azure.com/scalesetpriority=spot:NoSchedule`)."""

    def tolerations(self) -> list[dict[str, str]]:
        taints = ((self.taint_key, self.taint_value, self.taint_effect), *self.extra_taints)
        return [{"key": key, "operator": "Equal", "value": value, "effect": effect} for key, value, effect in taints]


@dataclass(frozen=True)
class ServiceWorkload:
    """What the manifests of one service are rendered from."""

    service: str
    namespace: str
    slots: Mapping[str, SlotSpec]
    """The deployed slots only (weights of those sum to 100)."""
    max_replicas: int
    placement: GpuPlacement
    resources: PodResources = PodResources()
    service_account_annotations: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the model-server pods only (AKS workload identity: `azure.workload.identity/use: "true"`, without
    which its webhook injects no token)."""
    termination_grace_seconds: int = 60
    """Time a pod gets to drain in-flight requests after SIGTERM (the server drains, then exits)."""
    capture: tuple[Any, float] | None = None
    """Prediction capture for drift checks: (destination `s3://bucket/prefix`, sampled percent); None: off."""
    canary: CanaryAnalysis | None = None
    """Controller mode (components/k8s/canary.py): `slots` holds the live slot only, Flagger routes."""

    @property
    def service_account(self) -> str:
        return self.service

    def slot_name(self, slot: str) -> str:
        return f"{self.service}-{slot}"


def _meta(name: str, namespace: str | None, labels: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace:
        meta["namespace"] = namespace
    meta.update({k: v for k, v in extra.items() if v})
    return meta


def _labels(w: ServiceWorkload, slot: str | None = None) -> dict[str, str]:
    labels = {**w.labels, SERVICE_LABEL: w.service, "app.kubernetes.io/part-of": "mlops-platform"}
    return {**labels, SLOT_LABEL: slot} if slot else labels


def _selector(w: ServiceWorkload, slot: str) -> dict[str, str]:
    return {SERVICE_LABEL: w.service, SLOT_LABEL: slot}


def namespace(w: ServiceWorkload) -> dict[str, Any]:
    # Pod Security Admission: the restricted profile enforced on the namespace (no privileged pods at all).
    labels = {**_labels(w), "pod-security.kubernetes.io/enforce": "restricted"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(w.namespace, None, labels)}


def service_account(w: ServiceWorkload) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": _meta(w.service_account, w.namespace, _labels(w),
                              annotations=dict(w.service_account_annotations))}


def _container(w: ServiceWorkload, slot: str, spec: SlotSpec) -> dict[str, Any]:
    r = w.resources
    requests: dict[str, Any] = {"cpu": r.cpu_request, "memory": r.memory_request}
    limits: dict[str, Any] = {"cpu": r.cpu_limit, "memory": r.memory_limit}
    if r.gpus:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(r.gpus)

    def probe(path: str, period: int, failures: int) -> dict[str, Any]:
        return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period, "timeoutSeconds": 3,
                "failureThreshold": failures}

    return {
        "name": "model-server",
        "image": spec.image,
        "args": ["serve"],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": [{"name": "MODEL_URI", "value": spec.model_uri},
                {"name": "MODEL_VERSION", "value": spec.model_version},
                {"name": "PORT", "value": str(PORT)},
                {"name": "EXECUTION_PROVIDER", "value": GPU_EXECUTION_PROVIDER if r.gpus else "cpu"},
                {"name": "MODEL_CACHE_DIR", "value": "/tmp/model-server/artifact"},
                *([{"name": "CAPTURE_DESTINATION", "value": w.capture[0]},
                   {"name": "CAPTURE_SAMPLE_PERCENT", "value": f"{w.capture[1]:g}"}] if w.capture else [])],
        "resources": {"requests": requests, "limits": limits},
        # The model is downloaded before the server listens: startup allows 10 minutes, then liveness takes over.
        "startupProbe": probe(LIVENESS_ROUTE, 10, 60),
        "livenessProbe": probe(LIVENESS_ROUTE, 10, 3),
        "readinessProbe": probe(READINESS_ROUTE, 5, 2),
        "securityContext": {"runAsNonRoot": True, "runAsUser": USER_ID, "runAsGroup": USER_ID,
                            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def deployment(w: ServiceWorkload, slot: str) -> dict[str, Any]:
    spec = w.slots[slot]
    pod_spec: dict[str, Any] = {
        "serviceAccountName": w.service_account,
        "automountServiceAccountToken": True,  # the projected token is the IRSA / workload-identity credential
        "terminationGracePeriodSeconds": w.termination_grace_seconds,
        "securityContext": {"runAsNonRoot": True, "runAsUser": USER_ID, "fsGroup": USER_ID,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [_container(w, slot, spec)],
        # The root filesystem is read-only; the model cache and temp files live in a size-bounded emptyDir.
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "10Gi"}}],
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": _selector(w, slot)}}],
    }
    if w.resources.gpus:
        pod_spec["nodeSelector"] = dict(w.placement.node_selector)
        pod_spec["tolerations"] = w.placement.tolerations()
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta(w.slot_name(slot), w.namespace, _labels(w, slot)),
        "spec": {
            # replicas is the HPA's once it exists; the plan sets the floor (instanceCount) at create.
            "replicas": spec.instance_count,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": _selector(w, slot)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": {**w.pod_labels, **_labels(w, slot), MODEL_SERVICE_LABEL: w.service,
                                        "mlops.dev/model-version": spec.model_version}},
                "spec": pod_spec,
            },
        },
    }


def service(w: ServiceWorkload, slot: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _meta(w.slot_name(slot), w.namespace, _labels(w, slot)),
            "spec": {"type": "ClusterIP", "selector": _selector(w, slot),
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}


ROUTE_SUFFIX = "-slots"
"""The weighted route is `<service>-slots`, never `<service>`: that name is Flagger's own route (controller mode),
which Flagger takes over when it exists, so a switch of `rollout.strategy` would delete or fight over it."""


def http_route(w: ServiceWorkload) -> dict[str, Any]:
    """The weighted split: one backendRef per deployed slot, its weight the slot's configured weight."""
    return {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": _meta(f"{w.service}{ROUTE_SUFFIX}", w.namespace, _labels(w)),
        "spec": {
            "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME,
                            "namespace": GATEWAY_NAMESPACE}],
            "rules": [{
                "matches": [{"path": {"type": "PathPrefix", "value": f"/{w.service}/"}}],
                "filters": [{"type": "URLRewrite",
                             "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
                "backendRefs": [{"group": "", "kind": "Service", "name": w.slot_name(slot), "port": 80,
                                 "weight": spec.weight} for slot, spec in w.slots.items()],
            }],
        },
    }


def route_weights(route: Mapping[str, Any], service: str) -> dict[str, int]:
    """Slot -> weight as an HTTPRoute routes it (the inverse of `http_route`, for tests and verification)."""
    refs = [ref for rule in route["spec"]["rules"] for ref in rule["backendRefs"]]
    return {ref["name"].removeprefix(f"{service}-"): ref["weight"] for ref in refs}


def autoscaler(w: ServiceWorkload, slot: str) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(w.slot_name(slot), w.namespace, _labels(w, slot)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": w.slot_name(slot)},
            "minReplicas": w.slots[slot].instance_count, "maxReplicas": w.max_replicas,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
            # Scale down slowly: a GPU node freed too early is a cold start later.
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 600}},
        },
    }


def disruption_budget(w: ServiceWorkload, slot: str) -> dict[str, Any]:
    # maxUnavailable (not minAvailable: 1) so a one-replica slot never blocks a node drain forever.
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": _meta(w.slot_name(slot), w.namespace, _labels(w, slot)),
            "spec": {"maxUnavailable": 1,
                     "selector": {"matchLabels": {MODEL_SERVICE_LABEL: w.service, SLOT_LABEL: slot}}}}


def network_policy(w: ServiceWorkload) -> dict[str, Any]:
    """Ingress to the model servers only from the gateway's and Prometheus's namespaces, on the server port."""
    def peer(ns: str) -> dict[str, Any]:
        return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}

    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _meta(f"{w.service}-ingress", w.namespace, _labels(w)),
            "spec": {"podSelector": {"matchLabels": {MODEL_SERVICE_LABEL: w.service}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [peer(GATEWAY_NAMESPACE), peer(MONITORING_NAMESPACE)],
                                  "ports": [{"protocol": "TCP", "port": PORT}]}]}}


def controlled_manifests(w: ServiceWorkload) -> list[dict[str, Any]]:
    """Controller mode: one Deployment `<service>` running the live slot, its HPA and PDB, Flagger's Canary."""
    assert w.canary is not None and len(w.slots) == 1, "controller mode serves the live slot only"
    (slot,) = w.slots
    target = deployment(w, slot)
    target["metadata"]["name"] = w.service
    # The selector must not name the slot: flipping `live` is a new version for the canary, not a new Deployment
    # (a Deployment's selector is immutable; a change would replace it and skip the analysis).
    target["spec"]["selector"] = {"matchLabels": {SERVICE_LABEL: w.service}}
    # Flagger, not `pulumi up`, waits for the new version: it scales this Deployment up for the analysis
    # and back to zero after promotion.
    target["metadata"]["annotations"] = {"pulumi.com/skipAwait": "true"}
    hpa = autoscaler(w, slot)
    hpa["metadata"]["name"] = hpa["spec"]["scaleTargetRef"]["name"] = w.service
    budget = disruption_budget(w, slot)
    budget["metadata"]["name"] = w.service
    budget["spec"]["selector"] = {"matchLabels": {MODEL_SERVICE_LABEL: w.service}}
    return [namespace(w), service_account(w), target, hpa, budget,
            *metric_templates(w.namespace, w.canary.prometheus_url),
            canary(w.service, w.namespace, PORT, w.canary, (GATEWAY_NAMESPACE, GATEWAY_NAME), _labels(w)),
            network_policy(w)]


def service_manifests(w: ServiceWorkload) -> list[dict[str, Any]]:
    """Every manifest of the service, namespace first (the order they are declared in)."""
    if w.canary is not None:
        return controlled_manifests(w)
    per_slot = [render(w, slot) for slot in w.slots for render in (deployment, service, autoscaler, disruption_budget)]
    return [namespace(w), service_account(w), *per_slot, http_route(w), network_policy(w)]
