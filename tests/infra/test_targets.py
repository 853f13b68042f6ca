"""The target registry: each cloud registers its provider keys, region key, preflight and composition once."""

from __future__ import annotations

import pkgutil

import pytest

import infra.targets
from infra.config_errors import ConfigError, Problem
from infra.exports import StackExports
from infra.targets import Target, load_platform_config, register, registered, target_for

NS = "mlops-platform"
STACK = {f"{NS}:environment": "dev", f"{NS}:owner": "ml", f"{NS}:costCenter": "1", f"{NS}:monitoring":
         '{"modelMonitor": false}', f"{NS}:services": '{"fraud": {"slots": {"blue": {"imageTag": "1.0", '
         '"modelVersion": "1", "instanceType": "ml.m5.large", "weight": 100}, "green": {"imageTag": "1.0", '
         '"modelVersion": "1", "instanceType": "ml.m5.large", "weight": 0}}}}'}


def _exports(cfg) -> StackExports:
    return StackExports(region=cfg.region, artifact_bucket="b", repository_urls={}, cluster_name="c",
                        kubeconfig="k", endpoints={}, dashboard_url="d", alert_destination="a")


@pytest.fixture
def fake_local():
    """A stand-in `local` target for one test (the real one, infra/targets/local/, is restored after)."""
    def preflight(cfg):
        return [Problem(f"{NS}:gpu", "no GPU on this laptop")] if cfg.gpu.instance_type else []

    real = target_for("local")
    target = register(Target(cloud="local", provider_keys=("docker:host",), region_key="docker:host",
                             preflight=preflight, compose=_exports))
    yield target
    if real is not None:
        register(real)


@pytest.fixture
def unregistered_local(monkeypatch):
    """`local` as a cloud no target has registered (the registry as it was before infra/targets/local/)."""
    real = target_for("local")
    modules = infra.targets._modules()
    monkeypatch.setattr(infra.targets, "_modules", lambda: [m for m in modules if m != "local"])
    infra.targets._REGISTRY.pop("local", None)
    yield
    if real is not None:
        register(real)


def _load(**values: str):
    return load_platform_config({**STACK, **values}, "Pulumi.test.yaml")


def _errors(**values: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        _load(**values)
    return info.value.lines()


def test_every_target_module_registers_the_cloud_it_is_named_after():
    modules = [m.name for m in pkgutil.iter_modules(infra.targets.__path__) if not m.name.startswith("_")]
    assert {"aws", "azure"} <= set(modules)
    assert registered() == tuple(modules) and all(target_for(m).cloud == m for m in modules)  # type: ignore[union-attr]


def test_aws_needs_its_region_key():
    assert _errors(**{f"{NS}:cloud": "aws"}) == [
        "Pulumi.test.yaml: aws:region: required when cloud is 'aws'; set it with `pulumi config set aws:region "
        "<value>`"]


def test_registered_target_supplies_provider_keys_region_and_preflight(fake_local):
    assert _errors(**{f"{NS}:cloud": "local"}) == [
        "Pulumi.test.yaml: docker:host: required when cloud is 'local'; set it with `pulumi config set docker:host "
        "<value>`"]
    assert _load(**{f"{NS}:cloud": "local", "docker:host": "unix:///run/docker.sock"}).region == (
        "unix:///run/docker.sock")
    assert _errors(**{f"{NS}:cloud": "local", "docker:host": "h", f"{NS}:gpu": '{"instanceType": "x"}'}) == [
        "Pulumi.test.yaml: mlops-platform:gpu: no GPU on this laptop"]


def test_unregistered_cloud_is_a_config_error_naming_the_registered_ones(unregistered_local):
    others = ", ".join(registered())
    assert "local" not in others
    assert _errors(**{f"{NS}:cloud": "local"}) == [
        "Pulumi.test.yaml: mlops-platform:cloud = 'local': no target is registered for this cloud yet "
        f"(registered: {others}); set it to one of those"]


def test_unknown_cloud_stays_a_structural_error():
    assert _errors(**{f"{NS}:cloud": "oci"}) == [
        "Pulumi.test.yaml: mlops-platform:cloud = 'oci': expected 'aws', 'gcp', 'azure' or 'local'"]


def test_provider_and_structural_problems_are_reported_together():
    lines = _errors(**{f"{NS}:cloud": "aws", f"{NS}:environment": "qa"})
    assert len(lines) == 2 and "aws:region: required" in lines[0] and "environment = 'qa'" in lines[1]


def test_target_declares_its_region_among_its_provider_keys():
    with pytest.raises(ValueError, match="gcp:region must be among provider_keys"):
        Target(cloud="gcp", provider_keys=("gcp:project",), region_key="gcp:region", compose=_exports)


def test_only_clouds_the_config_accepts_can_register():
    with pytest.raises(ValueError, match="accepts only aws, gcp, azure, local"):
        register(Target(cloud="oci", compose=_exports))


def test_config_module_no_longer_imports_the_cloud_checks():
    """infra/config.py keeps structural validation only: the import circle with the preflight module is gone."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(infra.targets.__file__).parents[1].joinpath("config.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m and (m.startswith("infra.targets") or m == "infra.preflight")}


SERVICE = ('{"fraud": {"live": "blue", "slots": {"blue": {"imageTag": "1.0", "modelVersion": "1", "weight": 100}, '
           '"green": {"imageTag": "1.0", "modelVersion": "1", "instanceType": "custom-4", "weight": 0}}}}')


def test_a_slot_without_an_instance_type_gets_the_targets_default(fake_local):
    register(Target(cloud="local", provider_keys=("docker:host",), compose=_exports,
                    default_instance_type="laptop-small"))
    cfg = _load(**{f"{NS}:cloud": "local", "docker:host": "unix:///var/run/docker.sock", f"{NS}:services": SERVICE})
    slots = cfg.services["fraud"].slots
    assert (slots["blue"].instance_type, slots["green"].instance_type) == ("laptop-small", "custom-4")


def test_a_target_without_a_default_instance_type_requires_one_per_slot(fake_local):
    lines = _errors(**{f"{NS}:cloud": "local", "docker:host": "unix:///var/run/docker.sock", f"{NS}:services": SERVICE})
    assert lines == ["Pulumi.test.yaml: mlops-platform:services.fraud.slots.blue.instanceType: required on local "
                     "(no default instance type there)"]


def test_a_targets_secret_keys_are_its_own_and_unknown_elsewhere():
    """local reads `artifactStorePassword` itself (a secret); on a cloud that declares no such key it stays a typo."""
    password = {f"{NS}:artifactStorePassword": "[secret]"}
    container_slots = STACK[f"{NS}:services"].replace('"instanceType": "ml.m5.large", ', "")
    assert _load(**{f"{NS}:cloud": "local", f"{NS}:services": container_slots, **password}).cloud == "local"
    lines = _errors(**{f"{NS}:cloud": "aws", "aws:region": "us-east-1", **password})
    assert len(lines) == 1 and "mlops-platform:artifactStorePassword" in lines[0] and "unknown key" in lines[0]


@pytest.mark.parametrize("cloud", ["aws", "gcp", "local"])
def test_mirror_traffic_is_refused_where_the_target_does_not_mirror(cloud):
    """Only Azure ML mirrors traffic; elsewhere `mirrorPercent` would be accepted and silently do nothing."""
    mirrored = STACK[f"{NS}:services"].replace('"fraud": {', '"fraud": {"keepWarm": true, "mirrorPercent": 10, ', 1)
    if cloud == "local":
        mirrored = mirrored.replace('"instanceType": "ml.m5.large", ', "")
    provider = {"aws": {"aws:region": "us-east-1"}, "gcp": {"gcp:project": "mlops-demo", "gcp:region": "europe-west4"},
                "local": {}}[cloud]
    if cloud == "gcp":
        mirrored = mirrored.replace("ml.m5.large", "n1-standard-4")
    lines = _errors(**{f"{NS}:cloud": cloud, f"{NS}:services": mirrored, **provider})
    assert [line for line in lines if "mirrorPercent" in line] == [
        f"Pulumi.test.yaml: {NS}:services.fraud.mirrorPercent = 10: {cloud} does not mirror traffic yet (Azure ML "
        "does); remove the key"]
