"""Every Kubernetes object a stack declares validates against the OpenAPI schema of the cluster's version.

The validator is kubernetes-validate (PyPI), which bundles the upstream JSON schemas per Kubernetes release:
strict mode rejects a misspelled or misplaced field, which the API server would drop silently (server-side
apply prunes unknown fields) or refuse at `pulumi up`. Custom resources (HTTPRoute, Gateway, ServiceMonitor,
PrometheusRule) are not in the bundle; their content is checked by their own tests (routes and weights in
tests/stacks/test_eks_stacks.py, rules by promtool in test_cluster_monitoring.py).
"""

from __future__ import annotations

import kubernetes_validate
import pytest

from components.k8s import workload
from components.k8s.workload import GpuPlacement, ServiceWorkload
from components.serving import SlotSpec
from tests.components.k8s.manifests import KUBERNETES_VERSION, planned_manifests

BUILT_IN_GROUPS = ("v1", "apps/", "autoscaling/", "policy/", "networking.k8s.io/", "batch/")


def _validate(manifest):
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def _built_in(manifests):
    return [m for m in manifests if m["apiVersion"] == "v1" or m["apiVersion"].startswith(BUILT_IN_GROUPS[1:])]


def test_every_built_in_object_of_the_eks_dev_plan_validates(stack_plan):
    manifests = _built_in(planned_manifests(stack_plan("eks-dev")))
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "Namespace", "ServiceAccount", "ConfigMap", "CronJob"} <= kinds
    for manifest in manifests:
        _validate(manifest)


def test_the_validator_catches_a_misplaced_field():
    """A field in the wrong place is what strict validation exists for (it would be pruned by the server)."""
    w = ServiceWorkload("svc", "svc", {"blue": SlotSpec("r/i:1", "s3://b/k", "1", "x", 1, 100)}, 2, GpuPlacement())
    bad = workload.deployment(w, "blue")
    bad["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFilesystem"] = True  # belongs in securityContext
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(bad)
