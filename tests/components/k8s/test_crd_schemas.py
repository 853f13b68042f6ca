"""Custom resources validate against the schemas their projects publish (pinned in crd_schemas/, SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from infra.plan.engine import plan_stack
from infra.stackfile import PROJECT_ROOT
from tests.components.k8s.manifests import planned_manifests

SCHEMAS = Path(__file__).parent / "crd_schemas"
NOT_PINNED = {"gateway.envoyproxy.io/v1alpha1/EnvoyProxy"}
"""Custom resources without a pinned schema yet (Envoy Gateway publishes its CRDs inside the Helm chart only)."""


def _schema_file(manifest) -> Path:
    group, version = manifest["apiVersion"].split("/")
    return SCHEMAS / f"{group}_{manifest['kind']}_{version}.json"


BUILT_IN_GROUPS = {"", "apps", "autoscaling", "policy", "networking.k8s.io", "batch"}


def _custom(manifests):
    return [m for m in manifests if m["apiVersion"].rpartition("/")[0] not in BUILT_IN_GROUPS]


@pytest.fixture(scope="module")
def controlled(tmp_path_factory):
    doc = yaml.safe_load((PROJECT_ROOT / "Pulumi.eks-dev.yaml").read_text(encoding="utf-8"))
    service = doc["config"]["mlops-platform:services"]["fraud-detector"]
    service["slots"]["blue"]["weight"], service["slots"]["green"]["weight"] = 100, 0
    doc["config"]["mlops-platform:rollout"] = {"strategy": "linear", "stepPercent": 25}
    path = tmp_path_factory.mktemp("linear") / "Pulumi.eks-dev.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return plan_stack("eks-dev", config_file=path)


def _check(manifests):
    checked = []
    for manifest in _custom(manifests):
        key = f"{manifest['apiVersion']}/{manifest['kind']}"
        if key in NOT_PINNED:
            continue
        path = _schema_file(manifest)
        assert path.exists(), f"{key}: pin its CRD schema in {SCHEMAS.name}/ (SOURCES.md) or list it in NOT_PINNED"
        jsonschema.Draft7Validator(json.loads(path.read_text(encoding="utf-8"))).validate(manifest)
        checked.append(manifest["kind"])
    return checked


def test_the_eks_dev_custom_resources_validate(stack_plan):
    checked = _check(planned_manifests(stack_plan("eks-dev")))
    assert {"HTTPRoute", "Gateway", "GatewayClass", "PodMonitor", "ServiceMonitor", "PrometheusRule"} <= set(checked)


def test_the_controller_modes_custom_resources_validate(controlled):
    assert {"Canary", "MetricTemplate"} <= set(_check(planned_manifests(controlled)))


def test_a_weight_outside_the_published_range_is_caught(stack_plan):
    (route,) = [m for m in planned_manifests(stack_plan("eks-dev")) if m["kind"] == "HTTPRoute"]
    bad = json.loads(json.dumps(route))
    bad["spec"]["rules"][0]["backendRefs"][0]["weight"] = 1_000_001  # the CRD allows 0..1000000
    with pytest.raises(jsonschema.ValidationError):
        _check([bad])
