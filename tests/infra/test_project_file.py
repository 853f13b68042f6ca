"""Pulumi.yaml is valid for the real CLI and agrees with the typed config model."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import jsonschema
import pytest
import yaml

from infra.config import NAMESPACE, PlatformConfig
from infra.stackfile import PROJECT_ROOT, read_project, stack_names

SCHEMA = PROJECT_ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"
PROJECT = read_project()


@pytest.mark.skipif(not SCHEMA.is_file(), reason="Pulumi's project schema lives in ../shared/schemas")
def test_pulumi_yaml_validates_against_pulumis_project_schema():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(PROJECT, schema)


def test_project_identity_and_runtime():
    assert PROJECT["name"] == "mlops-platform"
    assert PROJECT["main"] == "infra/"
    assert PROJECT["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert (PROJECT_ROOT / "infra" / "__main__.py").is_file()


def test_typed_keys_are_in_the_project_namespace():
    # Pulumi rejects `type`/`default` on keys outside the project's own namespace (project.go Validate).
    for key, decl in PROJECT["config"].items():
        if isinstance(decl, dict) and ("type" in decl or "default" in decl):
            assert ":" not in key or key.startswith(f"{NAMESPACE}:"), key


def test_declared_keys_match_the_config_model():
    fields = {f.alias: f for f in PlatformConfig.model_fields.values()}
    for key, decl in PROJECT["config"].items():
        field = fields[key]
        assert decl["description"] == field.description, key
        annotation = field.annotation
        expected = "string" if annotation is str or typing.get_origin(annotation) is typing.Literal else None
        assert decl["type"] == expected, key
        if field.is_required():
            assert "default" not in decl, f"{key} is required by the model but has a default in Pulumi.yaml"
        else:
            assert decl["default"] == field.default, key


def test_every_required_scalar_is_declared_so_the_cli_checks_it_early():
    required = {f.alias for f in PlatformConfig.model_fields.values() if f.is_required()}
    assert required <= set(PROJECT["config"])


@pytest.mark.parametrize("stack", stack_names())
def test_stack_files_only_use_known_namespaces(stack):
    doc = yaml.safe_load(Path(PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    namespaces = {key.split(":")[0] for key in doc["config"]}
    assert namespaces <= {NAMESPACE, "aws", "gcp", "azure-native", "kubernetes"}


def test_requirements_are_pinned_and_install_the_project():
    lines = [line.strip() for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines()]
    packages = [line for line in lines if line and not line.startswith("#")]
    assert "-e ." in packages
    assert all("==" in line for line in packages if line != "-e .")
