"""An Azure stack's bad input: every generated name checked at plan time, sizes from the catalog and checked lists,
each bad value one line naming the key and the fix, exit 2 through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from components.azure.naming import AzureNames, check_azure_name
from components.naming import Namer
from infra.config_errors import ConfigError
from infra.stackfile import PROJECT_ROOT, read_stack_config
from infra.targets import load_platform_config
from infra.targets.azure.preflight import azure_names

NS = "mlops-platform"
DEV = read_stack_config("azure-dev").values


def _errors(**changes) -> list[str]:
    values = {**DEV, **changes}
    with pytest.raises(ConfigError) as info:
        load_platform_config(values, "Pulumi.azure-dev.yaml")
    return info.value.lines()


def _services(**slot) -> dict:
    svc = json.loads(DEV[f"{NS}:services"])["fraud-detector"]
    svc["slots"] = {name: {**s, **slot} for name, s in svc["slots"].items()}
    return {f"{NS}:services": json.dumps({"fraud-detector": svc})}


def _gpu(**gpu) -> dict:
    return {f"{NS}:gpu": json.dumps({**json.loads(DEV[f"{NS}:gpu"]), **gpu})}


@pytest.mark.parametrize("prefix", ["ab", "a-b", "ml--team", "abcdefghijkl", "a1b2c3d4e5f6"])
@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_every_generated_name_fits_azures_rules_at_the_extremes_of_the_config(prefix, environment):
    """namePrefix (2-12) x environment x the longest service name (32): the derivation never yields a name Azure
    refuses, so a stack never fails half-way on a name (Azure resource-name-rules)."""
    names = AzureNames(Namer(prefix, environment), "southeastasia", "a-team")
    for key, kind, name in names.checked(["a" * 32, "fraud-detector"]):
        assert check_azure_name(kind, name) is None, (key, kind, name)


def test_endpoint_names_are_region_unique_and_deterministic():
    """The endpoint name is the scoring URI's host label (<name>.<region>.inference.ml.azure.com): two stacks that
    differ only in owner or region must not collide, and the same stack always gets the same name."""
    one = AzureNames(Namer("mlops", "dev"), "westeurope", "team-a")
    assert one.endpoint("fraud") == AzureNames(Namer("mlops", "dev"), "westeurope", "team-a").endpoint("fraud")
    others = {AzureNames(Namer("mlops", "dev"), "westeurope", "team-b").endpoint("fraud"),
              AzureNames(Namer("mlops", "dev"), "northeurope", "team-a").endpoint("fraud")}
    assert one.endpoint("fraud") not in others
    assert one.endpoint("fraud").startswith("mlops-dev-fraud-") and len(one.endpoint("x" * 32)) == 32


def test_names_checked_are_the_names_declared(stack_plan):
    """The preflight checks `AzureNames.checked`; the plan must declare exactly those names."""
    plan = stack_plan("azure-dev")
    cfg = load_platform_config(DEV, "Pulumi.azure-dev.yaml")
    checked = {name for _, _, name in azure_names(cfg).checked(list(cfg.services))}
    declared = set()
    for r in plan.resources:
        inputs = r["inputs"]
        for key in ("resourceGroupName", "accountName", "registryName", "vaultName", "workspaceName", "endpointName",
                    "computeName", "resourceName"):
            if r["type"].split(":")[-1] in {"ResourceGroup", "StorageAccount", "Registry", "Vault", "Workspace",
                                            "OnlineEndpoint", "Compute", "ManagedCluster"} and key in inputs:
                declared.add(inputs[key])
        if r["type"].endswith((":EnvironmentVersion", ":Schedule")):
            declared.add(inputs["name"])
    assert checked <= declared, checked - declared


@pytest.mark.parametrize(("changes", "line"), [
    (_services(instanceType="Standard_DS3_V2"),
     "mlops-platform:services.fraud-detector.slots.blue.instanceType = 'Standard_DS3_V2': not an Azure ML managed "
     "online endpoint instance type (Azure ML managed online endpoints SKU list); did you mean 'Standard_DS3_v2'?"),
    (_services(instanceType="ml.m5.large"),
     "mlops-platform:services.fraud-detector.slots.green.instanceType = 'ml.m5.large': not an Azure ML managed "
     "online endpoint instance type (Azure ML managed online endpoints SKU list); use a size from the list, e.g. "
     "Standard_DS3_v2 (CPU) or Standard_NC4as_T4_v3 (T4 GPU)"),
    (_gpu(instanceType="Standard_D4s_v3"),
     "mlops-platform:gpu.instanceType = 'Standard_D4s_v3': not an Azure GPU (N-series) VM size; did you mean "
     "'Standard_NC24s_v3'? (or remove it: gpu.accelerator 't4' x 1 picks the GPU catalog's size)"),
    (_gpu(accelerator="l4"), "mlops-platform:gpu: accelerator 'l4' is not offered on azure; use one of t4, a10g"),
    ({"azure-native:location": "West Europe"},
     "azure-native:location = 'West Europe': not a region the azure SDK knows; did you mean 'westeurope'"),
])
def test_each_bad_value_is_one_line_naming_the_key_and_the_fix(changes, line):
    errors = _errors(**changes)
    assert any(line in e for e in errors), errors
    assert all(e.startswith("Pulumi.azure-dev.yaml: ") for e in errors)


def test_a_bad_azure_stack_exits_2_through_the_cli_with_every_problem_and_no_traceback(tmp_path):
    text = (PROJECT_ROOT / "Pulumi.azure-dev.yaml").read_text()
    text = text.replace("instanceType: Standard_DS3_v2", "instanceType: Standard_DS3_V2", 1)
    text = text.replace("    accelerator: t4\n", "    accelerator: t4\n    instanceType: Standard_D4s_v3\n")
    text = text.replace("azure-native:location: westeurope", "azure-native:location: West Europe")
    path = tmp_path / "Pulumi.azure-dev.yaml"
    path.write_text(text)
    result = subprocess.run([sys.executable, "-m", "infra", "plan", "azure-dev", "--config-file", str(path)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    keys = [line.split(": ", 2)[1].split(" = ")[0] for line in result.stderr.strip().splitlines()]
    assert keys == ["azure-native:location", "mlops-platform:gpu.instanceType",
                    "mlops-platform:services.fraud-detector.slots.blue.instanceType"]


def _service(**changes) -> dict:
    svc = {**json.loads(DEV[f"{NS}:services"])["fraud-detector"], **changes}
    return {f"{NS}:services": json.dumps({"fraud-detector": svc})}


def test_mirror_traffic_goes_to_the_idle_non_live_slot():
    cfg = load_platform_config({**DEV, **_service(mirrorPercent=20, keepWarm=True)}, "Pulumi.azure-dev.yaml")
    assert cfg.services["fraud-detector"].mirror_percent == 20


@pytest.mark.parametrize(("changes", "problem"), [
    ({"mirrorPercent": 60, "keepWarm": True}, "mirrorPercent"),
    ({"mirrorPercent": 20}, "it needs weight 0 and keepWarm: true"),
])
def test_mirror_traffic_azure_would_refuse_is_a_config_error_naming_the_key(changes, problem):
    errors = _errors(**_service(**changes))
    assert any("services.fraud-detector" in e and problem in e for e in errors), errors
