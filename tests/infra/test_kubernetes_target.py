"""`services.<svc>.target`: a cloud serves on Kubernetes only when its target wires a cluster for it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from infra import targets
from infra.config_errors import ConfigError
from infra.targets import load_platform_config, target_for

NS = "mlops-platform"
SLOTS = {"blue": {"imageTag": "1.0", "modelVersion": "1", "weight": 100},
         "green": {"imageTag": "1.0", "modelVersion": "1", "weight": 0}}


def _config(cloud: str, target: str) -> dict[str, str]:
    values = {f"{NS}:environment": "dev", f"{NS}:owner": "ml", f"{NS}:costCenter": "1", f"{NS}:cloud": cloud,
              f"{NS}:services": json.dumps({"fraud": {"target": target, "driftFeatures": ["x"], "slots": SLOTS}})}
    return {**values, "aws:region": "us-east-1", "azure-native:location": "westeurope",
            "azure-native:subscriptionId": "00000000-0000-0000-0000-000000000000"}


def test_the_default_target_is_the_managed_endpoint():
    cfg = load_platform_config({k: v for k, v in _config("aws", "endpoint").items()}, "Pulumi.test.yaml")
    assert cfg.services["fraud"].target == "endpoint"


@pytest.mark.parametrize("target", ["kubernetes", "both"])
def test_aws_serves_on_its_eks_cluster(target):
    assert target_for("aws").kubernetes  # type: ignore[union-attr]
    assert load_platform_config(_config("aws", target), "Pulumi.test.yaml").services["fraud"].target == target


@pytest.mark.parametrize("target", ["kubernetes", "both"])
def test_azure_serves_on_its_aks_cluster(target):
    assert target_for("azure").kubernetes  # type: ignore[union-attr]
    assert load_platform_config(_config("azure", target), "Pulumi.test.yaml").services["fraud"].target == target


@pytest.mark.parametrize("target", ["kubernetes", "both"])
def test_a_cloud_without_kubernetes_wiring_rejects_the_target_naming_the_key(target, monkeypatch):
    unwired = dataclasses.replace(target_for("azure"), kubernetes=False)  # type: ignore[type-var]
    monkeypatch.setitem(targets._REGISTRY, "azure", unwired)  # every registered cloud is wired; unwire one here
    with pytest.raises(ConfigError) as info:
        load_platform_config(_config("azure", target), "Pulumi.test.yaml")
    assert [line for line in info.value.lines() if ".target" in line] == [
        f"Pulumi.test.yaml: {NS}:services.fraud.target = '{target}': azure has no Kubernetes serving wired yet; "
        "set it to `endpoint`"]


def test_an_unknown_target_is_a_structural_error():
    with pytest.raises(ConfigError) as info:
        load_platform_config(_config("aws", "lambda"), "Pulumi.test.yaml")
    assert any(f"{NS}:services.fraud.target" in line and "'kubernetes'" in line for line in info.value.lines())


@pytest.mark.parametrize("name", ["kube-system", "monitoring", "envoy-gateway-system"])
def test_a_service_may_not_take_a_namespace_the_cluster_or_its_add_ons_own(name):
    """Each service's namespace is named after it and labelled Pod Security `restricted`: on kube-system that
    would evict the cluster's own privileged pods."""
    values = {**_config("aws", "kubernetes"),
              f"{NS}:services": json.dumps({name: {"target": "kubernetes", "driftFeatures": ["x"], "slots": SLOTS}})}
    with pytest.raises(ConfigError) as info:
        load_platform_config(values, "Pulumi.test.yaml")
    assert [line for line in info.value.lines() if "rename the service" in line] == [
        f"Pulumi.test.yaml: {NS}:services.{name}: served on Kubernetes in the namespace '{name}', which the cluster "
        "or the platform's add-ons own; rename the service"]


def test_sagemaker_rules_bind_only_the_services_sagemaker_serves():
    """A `target: kubernetes` service never reaches SageMaker: its slots' instance types and a rollout longer than
    the SageMaker provider's 60-minute wait (components/aws/endpoint_rollout.py) are the cluster's business."""
    slow = json.dumps({"strategy": "linear", "stepPercent": 25, "waitSeconds": 600})
    slots = {name: {**slot, "instanceType": "g5.xlarge"} for name, slot in SLOTS.items()}
    services = {"fraud": {"driftFeatures": ["x"], "slots": slots}}

    def config(target: str) -> dict[str, str]:
        return {**_config("aws", target), f"{NS}:rollout": slow,
                f"{NS}:services": json.dumps({"fraud": {**services["fraud"], "target": target}})}

    assert load_platform_config(config("kubernetes"), "Pulumi.test.yaml").services["fraud"].target == "kubernetes"
    with pytest.raises(ConfigError) as info:
        load_platform_config(config("both"), "Pulumi.test.yaml")
    keys = {line.split(": ", 2)[1].split(" = ")[0] for line in info.value.lines()}
    assert {f"{NS}:rollout", f"{NS}:services.fraud.slots.blue.instanceType"} <= keys
