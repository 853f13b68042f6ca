"""The model service's manifests: hardened pods on the GPU pool, probes on the server's routes, weighted route."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.k8s import workload
from components.k8s.workload import GpuPlacement, PodResources, ServiceWorkload
from components.serving import SlotSpec
from services.model_server import app
from services.model_server.settings import DEFAULT_PORT


def _workload(**overrides) -> ServiceWorkload:
    slots = {"blue": SlotSpec("repo/svc:1.4.0", "s3://b/models/svc/7/model.tar.gz", "7", "ml.m5.large", 2, 90),
             "green": SlotSpec("repo/svc:1.5.0", "s3://b/models/svc/8/model.tar.gz", "8", "ml.m5.large", 1, 10)}
    args = {"service": "svc", "namespace": "svc", "slots": slots, "max_replicas": 4,
            "placement": GpuPlacement({"mlops/node-role": "gpu"}, "nvidia.com/gpu", "true", "NoSchedule")}
    return ServiceWorkload(**{**args, **overrides})


def _pod(w, slot="blue"):
    return workload.deployment(w, slot)["spec"]["template"]["spec"]


def test_each_slot_runs_its_own_model_version_and_image():
    w = _workload()
    for slot, version in (("blue", "7"), ("green", "8")):
        container = _pod(w, slot)["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert (env["MODEL_VERSION"], env["MODEL_URI"]) == (version, f"s3://b/models/svc/{version}/model.tar.gz")
        assert container["image"] == w.slots[slot].image


def test_pods_are_non_root_read_only_and_drop_every_capability():
    container = _pod(_workload())["containers"][0]
    ctx = container["securityContext"]
    assert ctx["runAsNonRoot"] and ctx["runAsUser"] > 0 and ctx["readOnlyRootFilesystem"]
    assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"] == {"drop": ["ALL"]}
    # The server writes its model cache under /tmp: a writable emptyDir, so the root filesystem stays read-only.
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_gpu_pods_request_a_gpu_and_go_only_to_the_tainted_gpu_pool():
    pod = _pod(_workload())
    resources = pod["containers"][0]["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"mlops/node-role": "gpu"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true",
                                   "effect": "NoSchedule"}]


def test_a_cpu_only_service_neither_requests_gpus_nor_tolerates_the_taint():
    pod = _pod(_workload(resources=PodResources(gpus=0)))
    assert "nvidia.com/gpu" not in pod["containers"][0]["resources"]["limits"]
    assert "tolerations" not in pod and "nodeSelector" not in pod


def test_probes_use_the_model_servers_health_routes_on_its_port():
    server_source = Path(app.__file__).read_text(encoding="utf-8")
    container = _pod(_workload())["containers"][0]
    assert container["ports"][0]["containerPort"] == DEFAULT_PORT
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        assert f'self._add("{path}", "GET"' in server_source, f"{probe}: {path} is not a route of the model server"


def test_the_route_splits_by_the_slot_weights():
    w = _workload()
    route = workload.http_route(w)
    assert workload.route_weights(route, "svc") == {"blue": 90, "green": 10}
    assert [ref["name"] for ref in route["spec"]["rules"][0]["backendRefs"]] == ["svc-blue", "svc-green"]


def test_autoscaling_floor_is_the_slots_instance_count_and_ceiling_max_instances():
    hpa = workload.autoscaler(_workload(), "blue")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 4)


def test_network_policy_admits_only_the_gateway_and_prometheus_namespaces():
    policy = workload.network_policy(_workload())["spec"]
    namespaces = [peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                  for rule in policy["ingress"] for peer in rule["from"]]
    assert sorted(namespaces) == sorted([workload.GATEWAY_NAMESPACE, workload.MONITORING_NAMESPACE])
    assert policy["policyTypes"] == ["Ingress"]


def test_namespace_enforces_the_restricted_pod_security_profile():
    labels = workload.namespace(_workload())["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("slot", ["blue", "green"])
def test_a_one_replica_slot_never_blocks_a_node_drain(slot):
    assert workload.disruption_budget(_workload(), slot)["spec"] == {
        "maxUnavailable": 1, "selector": {"matchLabels": {"mlops.dev/service": "svc", "mlops.dev/slot": slot}}}


def test_a_pool_with_a_second_taint_is_tolerated_on_both_and_one_taint_renders_as_before():
    """AKS spot pools add `kubernetes.azure.com/scalesetpriority=spot:NoSchedule` to the GPU taint: a pod tolerating
    only one stays Pending (learn.microsoft.com/azure/aks/spot-node-pool)."""
    single = GpuPlacement(taint_key="nvidia.com/gpu", taint_value="present")
    spot = GpuPlacement(taint_key="nvidia.com/gpu", taint_value="present",
                        extra_taints=(("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule"),))
    assert single.tolerations() == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}]
    assert spot.tolerations() == [*single.tolerations(), {"key": "kubernetes.azure.com/scalesetpriority",
                                                          "operator": "Equal", "value": "spot", "effect": "NoSchedule"}]
    pod = workload.deployment(_workload(placement=spot), "blue")["spec"]["template"]["spec"]
    assert pod["tolerations"] == spot.tolerations()


def test_pod_labels_go_on_the_pods_only_and_never_override_the_selector_labels():
    """`azure.workload.identity/use: "true"` must be on the pod (the webhook reads pod labels); the Deployment's and
    Service's selectors stay as they were (a selector change would replace the Deployment)."""
    w = _workload(pod_labels={"azure.workload.identity/use": "true", workload.SLOT_LABEL: "spoofed"})
    rendered = workload.deployment(w, "blue")
    assert rendered["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert rendered["spec"]["template"]["metadata"]["labels"][workload.SLOT_LABEL] == "blue"
    assert "azure.workload.identity/use" not in rendered["metadata"]["labels"]
    assert rendered["spec"]["selector"] == workload.deployment(_workload(), "blue")["spec"]["selector"]


def _pinned(requirement: str, requirements: Path) -> tuple[str, str]:
    """(distribution, version) of the `requirement` family pinned in a requirements file."""
    import re

    (match,) = re.finditer(rf"^({requirement}(?:-gpu)?)==(\S+)$", requirements.read_text(), re.MULTILINE)
    return match.group(1), match.group(2)


def test_every_cluster_slot_starts_with_the_onnx_runtime_its_image_installs():
    """A GPU slot's `EXECUTION_PROVIDER` must be one the image's ONNX Runtime can honour. The image installs
    `services/model_server/requirements.txt`, whose `onnxruntime` is PyPI's CPU build (the CUDA provider ships as
    `onnxruntime-gpu`: onnxruntime.ai/docs/install); with `EXECUTION_PROVIDER=cuda` the server raises in
    `choose_providers` and exits 2 (services/model_server/__main__.py), so every GPU Deployment on EKS, GKE and
    AKS crash-looped before this test. Checked with the same pinned ONNX Runtime this virtualenv installs."""
    import json

    import onnxruntime

    from services.model_server.model import choose_providers

    root = Path(__file__).resolve().parents[3]
    distribution, version = _pinned("onnxruntime", root / "services/model_server/requirements.txt")
    assert (distribution, version) == ("onnxruntime", onnxruntime.__version__), "re-check with the image's build"
    offered = onnxruntime.get_available_providers()
    checked = 0
    for snapshot in sorted((root / "plans").glob("*.json")):
        for resource in json.loads(snapshot.read_text())["resources"]:
            if resource["type"] != "kubernetes:apps/v1:Deployment":
                continue
            for container in resource["inputs"]["spec"]["template"]["spec"]["containers"]:
                env = {e["name"]: e.get("value") for e in container.get("env", [])}
                if "MODEL_URI" in env:
                    checked += 1
                    choose_providers(env.get("EXECUTION_PROVIDER", "auto"), offered)  # raises as the server does
    assert checked >= 6  # eks-dev, gke-dev, aks-dev: two slots each
