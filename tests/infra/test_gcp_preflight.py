"""Bad GCP stack input exits 2 with the key named, before any resource is declared."""

from __future__ import annotations

import json

import pytest

from infra.config_errors import ConfigError
from infra.targets import load_platform_config

NS = "mlops-platform"
SLOTS = {"blue": {"imageTag": "1", "modelVersion": "1", "weight": 100},
         "green": {"imageTag": "1", "modelVersion": "1", "weight": 0}}
STACK = {f"{NS}:environment": "dev", f"{NS}:owner": "ml", f"{NS}:costCenter": "1", f"{NS}:cloud": "gcp",
         "gcp:project": "mlops-demo-dev", "gcp:region": "europe-west4",
         f"{NS}:services": json.dumps({"fraud": {"slots": SLOTS}})}


def _errors(**values: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_platform_config({**STACK, **values}, "Pulumi.gcp-dev.yaml")
    return info.value.lines()


def _services(**slot_overrides) -> str:
    slots = {name: {**spec, **slot_overrides.get(name, {})} for name, spec in SLOTS.items()}
    return json.dumps({"fraud": {"slots": slots}})


def test_a_slot_without_instance_type_serves_on_the_default_cpu_machine():
    cfg = load_platform_config({**STACK, f"{NS}:services": _services()}, "Pulumi.gcp-dev.yaml")
    assert cfg.services["fraud"].slots["blue"].instance_type == "n1-standard-4"
    assert (cfg.project, cfg.region) == ("mlops-demo-dev", "europe-west4")


def test_project_and_region_are_required_and_shaped():
    lines = _errors(**{"gcp:project": "", "gcp:region": "Europe West"})
    assert any("gcp:project: required when cloud is 'gcp'" in line for line in lines)
    assert any("gcp:region = 'Europe West': not a region the gcp SDK knows" in line for line in lines)


def test_a_sagemaker_instance_type_on_a_slot_names_the_key_and_the_syntax():
    lines = _errors(**{f"{NS}:services": _services(blue={"instanceType": "ml.m5.large"})})
    assert lines == ["Pulumi.gcp-dev.yaml: mlops-platform:services.fraud.slots.blue.instanceType = 'ml.m5.large': "
                     "expected <machine type>[+<accelerator>[x<count>]], e.g. n1-standard-4 or "
                     "n1-standard-8+nvidia-tesla-t4"]
    lines = _errors(**{f"{NS}:services": _services(blue={"instanceType": "n1-standard-5"})})
    assert lines == ["Pulumi.gcp-dev.yaml: mlops-platform:services.fraud.slots.blue.instanceType = 'n1-standard-5': "
                     "'n1-standard-5' is not a Vertex AI serving machine type (families: n1, n2, n2d, e2, c2, c2d, g2, "
                     "a2, a3; cloud.google.com/vertex-ai/docs/predictions/configure-compute)"]


def test_an_accelerator_the_machine_cannot_carry_is_refused():
    lines = _errors(**{f"{NS}:services": _services(green={"instanceType": "g2-standard-8+nvidia-tesla-t4"})})
    assert len(lines) == 1 and "slots.green.instanceType" in lines[0] and "takes nvidia-l4" in lines[0]


def test_prod_slots_with_traffic_run_two_replicas():
    lines = _errors(**{f"{NS}:environment": "prod", f"{NS}:services": _services()})
    assert lines == ["Pulumi.gcp-dev.yaml: mlops-platform:services.fraud.slots.blue.instanceCount = 1: a prod slot "
                     "with traffic runs at least 2 replicas (one is a single point of failure)"]


def test_gke_accelerators_come_from_the_gpu_catalog():
    assert any("mlops-platform:gpu: accelerator 'a10g' is not offered on gcp" in line
               for line in _errors(**{f"{NS}:gpu": '{"accelerator": "a10g"}'}))
    assert any("gpu.instanceType = 'g2-standard-8': not a GKE machine type that carries nvidia-tesla-t4" in line
               for line in _errors(**{f"{NS}:gpu": '{"accelerator": "t4", "instanceType": "g2-standard-8"}'}))


def test_tag_keys_gcp_refuses_as_labels_are_named():
    lines = _errors(**{f"{NS}:tags": '{"Team": "ml"}'})
    assert lines == ["Pulumi.gcp-dev.yaml: mlops-platform:tags.Team: label key name 'Team' does not match "
                     "^[a-z][a-z0-9_-]*$ (cloud.google.com/resource-manager/docs/labels-overview)"]


def test_the_plan_cli_exits_2_on_a_bad_gcp_stack_without_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    from infra.stackfile import PROJECT_ROOT

    text = (PROJECT_ROOT / "Pulumi.gcp-prod.yaml").read_text().replace(
        "instanceType: n1-standard-8+nvidia-tesla-t4", "instanceType: n1-standard-8+nvidia-l4", 1)
    path = tmp_path / "Pulumi.gcp-prod.yaml"
    path.write_text(text)
    result = subprocess.run([sys.executable, "-m", "infra", "plan", "gcp-prod", "--config-file", str(path)],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"{path}: mlops-platform:services.fraud-detector.slots.blue.instanceType = 'n1-standard-8+nvidia-l4': "
        "n1-standard-8 takes nvidia-tesla-t4, nvidia-tesla-v100, nvidia-tesla-p100, nvidia-tesla-p4, "
        "nvidia-tesla-k80, not nvidia-l4"]
