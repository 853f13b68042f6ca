"""Every class of bad stack config fails before any resource is declared, with a line that says why."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config_errors import ConfigError
from infra.stackfile import read_stack_config
from infra.targets import load_platform_config

NS = "mlops-platform"

GOOD: dict[str, Any] = {
    "config": {
        "aws:region": "us-east-1",
        f"{NS}:environment": "dev",
        f"{NS}:cloud": "aws",
        f"{NS}:owner": "ml-platform",
        f"{NS}:costCenter": "ml-1234",
        f"{NS}:gpu": {"accelerator": "a10g", "minNodes": 0, "maxNodes": 2},
        f"{NS}:services": {
            "fraud": {
                "driftFeatures": ["mean radius"],
                "slots": {
                    "blue": {"imageTag": "1.0.0", "modelVersion": "1", "weight": 100},
                    "green": {"imageTag": "1.1.0", "modelVersion": "2", "weight": 0},
                }
            }
        },
    }
}


def _load(tmp_path: Path, document: Any, name: str = "Pulumi.dev.yaml"):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document), encoding="utf-8")
    stack = read_stack_config("dev", config_file=path)
    return load_platform_config(stack.values, stack.source)


def _errors(tmp_path: Path, document: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, document)
    return [line.replace(f"{tmp_path}/", "") for line in info.value.lines()]


def _with(path: str, value: Any) -> dict[str, Any]:
    """GOOD with one key (a dotted path under `config`) replaced; value None deletes it."""
    doc = copy.deepcopy(GOOD)
    node = doc["config"]
    key = path
    if path.startswith(f"{NS}:") and "." in path:
        key, sub = path.split(".", 1)
        node = node[key]
        *parents, leaf = sub.split(".")
        for part in parents:
            node = node[part]
        key = leaf
    if value is None:
        del node[key]
    else:
        node[key] = value
    return doc


def test_good_config_loads_with_environment_defaults(tmp_path):
    cfg = _load(tmp_path, GOOD)
    assert cfg.environment == "dev" and cfg.region == "us-east-1"
    assert cfg.network.availability_zones == 2 and cfg.network.nat_gateways == "single"
    assert cfg.monitoring.data_capture_percent == 100 and cfg.monitoring.drift_schedule == "daily"


def _prod():
    doc = _with(f"{NS}:environment", "prod")
    doc["config"][f"{NS}:gpu"]["clusterAdmins"] = ["ml-platform-operators"]  # required in prod on AWS
    return doc


def test_prod_defaults_are_stricter(tmp_path):
    cfg = _load(tmp_path, _prod())
    assert cfg.network.availability_zones == 3 and cfg.network.nat_gateways == "per-zone"
    assert cfg.storage.access_logs is True and cfg.monitoring.drift_schedule == "hourly"


def test_explicit_value_beats_environment_default(tmp_path):
    doc = _prod()
    doc["config"][f"{NS}:network"] = {"availabilityZones": 2}
    assert _load(tmp_path, doc).network.availability_zones == 2


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # unknown key, with a suggestion for a typo
        (f"{NS}:enviroment", "dev",
         f"Pulumi.dev.yaml: {NS}:enviroment = 'dev': unknown key; did you mean 'environment'?"),
        (f"{NS}:gpu.minNode", 1, f"{NS}:gpu.minNode = 1: unknown key; did you mean 'minNodes'?"),
        (f"{NS}:services.fraud.slots.blue.wieght", 5, "did you mean 'weight'?"),
        # wrong type
        (f"{NS}:gpu.maxNodes", "lots", f"{NS}:gpu.maxNodes = 'lots': expected a whole number"),
        (f"{NS}:gpu.spot", "maybe", f"{NS}:gpu.spot = 'maybe': expected true or false"),
        (f"{NS}:services", ["fraud"], f"{NS}:services = [\"fraud\"]: expected a mapping"),
        # negative count
        (f"{NS}:services.fraud.slots.blue.instanceCount", -1, "instanceCount = -1: must be >= 1"),
        (f"{NS}:gpu.minNodes", -2, f"{NS}:gpu.minNodes = -2: must be >= 0"),
        # percent outside 0..100
        (f"{NS}:services.fraud.slots.blue.weight", 120, "weight = 120: must be <= 100"),
        (f"{NS}:monitoring", {"dataCapturePercent": 150}, "dataCapturePercent = 150: must be <= 100"),
        # unknown environment / cloud
        (f"{NS}:environment", "production", "environment = 'production': expected 'dev', 'staging' or 'prod'"),
        (f"{NS}:cloud", "amazon", "cloud = 'amazon': expected 'aws', 'gcp', 'azure' or 'local'"),
        (f"{NS}:cloud", "awz", "did you mean 'aws'?"),
        # missing required keys
        (f"{NS}:owner", None, f"{NS}:owner: required key is missing"),
        ("aws:region", None, "aws:region: required when cloud is 'aws'"),
        (f"{NS}:services.fraud.slots.green.modelVersion", None, "modelVersion: required key is missing"),
    ],
)
def test_bad_value_names_file_key_value_and_expectation(tmp_path, path, value, expected):
    lines = _errors(tmp_path, _with(path, value))
    assert any(expected in line for line in lines), lines
    assert all(line.startswith("Pulumi.dev.yaml: ") for line in lines)


def test_min_greater_than_max_is_rejected(tmp_path):
    doc = _with(f"{NS}:gpu.minNodes", 5)
    assert _errors(tmp_path, doc) == [f"Pulumi.dev.yaml: {NS}:gpu: minNodes (5) must be <= maxNodes (2)"]


def test_slot_weights_must_sum_to_100(tmp_path):
    lines = _errors(tmp_path, _with(f"{NS}:services.fraud.slots.green.weight", 20))
    assert lines == [f"Pulumi.dev.yaml: {NS}:services.fraud: slot weights must sum to 100, got 120 (blue + green)"]


def test_live_slot_needs_traffic(tmp_path):
    lines = _errors(tmp_path, _with(f"{NS}:services.fraud.live", "green"))
    assert "the live slot 'green' has weight 0" in lines[0]


def test_latest_tag_is_refused(tmp_path):
    lines = _errors(tmp_path, _with(f"{NS}:services.fraud.slots.blue.imageTag", "latest"))
    assert "`latest` is mutable" in lines[0]


def test_every_problem_is_reported_at_once(tmp_path):
    doc = _with(f"{NS}:gpu.maxNodes", "x")
    doc["config"][f"{NS}:enviroment"] = "dev"
    doc["config"][f"{NS}:cloud"] = "awz"
    assert len(_errors(tmp_path, doc)) == 3


def test_unqualified_key_suggests_namespace(tmp_path):
    doc = copy.deepcopy(GOOD)
    doc["config"]["owner"] = "x"
    assert _errors(tmp_path, doc) == [
        "Pulumi.dev.yaml: owner = 'x': config keys are namespaced; did you mean 'mlops-platform:owner'?"]


def test_misspelled_namespace_is_caught(tmp_path):
    doc = copy.deepcopy(GOOD)
    doc["config"]["mlops:owner"] = "x"
    assert "unknown config namespace 'mlops'; did you mean 'mlops-platform'?" in _errors(tmp_path, doc)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config:\n  aws:region: us-east-1\n   mlops-platform:cloud: aws\n", "invalid YAML at line 3, column"),
        ("config: [unclosed\n", "invalid YAML at line 2"),
        ("- just\n- a list\n", "expected a mapping with a `config:` key"),
        ("confg:\n  aws:region: x\n", "confg: unknown top-level key; did you mean 'config'?"),
    ],
)
def test_broken_yaml_names_the_line(tmp_path, text, expected):
    lines = _errors(tmp_path, text)
    assert len(lines) == 1 and expected in lines[0], lines


def test_missing_stack_file_lists_known_stacks():
    with pytest.raises(ConfigError) as info:
        read_stack_config("dve")
    assert "stack file not found; did you mean 'dev'?" in info.value.lines()[0]


def test_unknown_sagemaker_instance_type_fails_preflight(tmp_path):
    lines = _errors(tmp_path, _with(f"{NS}:services.fraud.slots.blue.instanceType", "ml.g5.xlarg"))
    assert lines == [f"Pulumi.dev.yaml: {NS}:services.fraud.slots.blue.instanceType = 'ml.g5.xlarg': not a SageMaker "
                     "hosting instance type (botocore ProductionVariantInstanceType); did you mean 'ml.g5.xlarge'?"]


def test_unknown_ec2_gpu_instance_type_fails_preflight(tmp_path):
    lines = _errors(tmp_path, _with(f"{NS}:gpu.instanceType", "g5.huge"))
    assert "gpu.instanceType = 'g5.huge': not an EC2 instance type" in lines[0]


def test_longest_allowed_names_fit_aws_limits(tmp_path):
    doc = copy.deepcopy(GOOD)
    services = doc["config"][f"{NS}:services"]
    services["a-very-long-service-name-for-sm1"] = services.pop("fraud")
    doc["config"][f"{NS}:namePrefix"] = "platformteam"
    doc["config"][f"{NS}:environment"] = "staging"
    assert list(_load(tmp_path, doc).services) == ["a-very-long-service-name-for-sm1"]


def test_service_name_longer_than_32_is_rejected(tmp_path):
    doc = copy.deepcopy(GOOD)
    services = doc["config"][f"{NS}:services"]
    services["a-very-long-service-name-for-sagemaker"] = services.pop("fraud")
    assert "service name 'a-very-long-service-name-for-sagemaker' must be 2-32 characters" in _errors(tmp_path, doc)[0]


def test_secure_values_become_secret_placeholders(tmp_path):
    path = tmp_path / "Pulumi.dev.yaml"
    doc = copy.deepcopy(GOOD)
    doc["config"][f"{NS}:tags"] = {"team-token": {"secure": "v1:abc"}}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    stack = read_stack_config("dev", config_file=path)
    assert stack.secret_keys == [f"{NS}:tags"]
    assert stack.values[f"{NS}:tags"] == '{"team-token":"[secret]"}'


def test_project_defaults_apply_when_stack_omits_them(tmp_path):
    assert _load(tmp_path, GOOD).name_prefix == "mlops"


def test_model_monitor_needs_drift_features_unless_turned_off(tmp_path):
    lines = _errors(tmp_path, _with(f"{NS}:services.fraud.driftFeatures", None))
    assert lines == [f"Pulumi.dev.yaml: {NS}:services.fraud.driftFeatures: required while monitoring.modelMonitor "
                     "is true: list the features whose drift should raise an alarm (names as in the training "
                     "baseline), or set monitoring.modelMonitor: false"]
    doc = _with(f"{NS}:services.fraud.driftFeatures", None)
    doc["config"][f"{NS}:monitoring"] = {"modelMonitor": False}
    assert _load(tmp_path, doc).monitoring.model_monitor is False


def test_model_monitor_region_must_have_an_analyzer_image(tmp_path):
    lines = _errors(tmp_path, _with("aws:region", "af-south-1"))
    assert lines[0].startswith("Pulumi.dev.yaml: aws:region = 'af-south-1': SageMaker Model Monitor has no analyzer")


def test_drift_threshold_is_a_psi_the_monitor_can_reach(tmp_path):
    lines = _errors(tmp_path, _with(f"{NS}:monitoring", {"driftThreshold": 9}))
    assert lines == [f"Pulumi.dev.yaml: {NS}:monitoring.driftThreshold = 9: a PSI over 10 baseline-quantile bins "
                     "never exceeds 8.28 (all traffic in one bin); pick a smaller threshold"]
