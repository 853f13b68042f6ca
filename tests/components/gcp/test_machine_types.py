"""A slot's GCP instance type: the syntax, and the compact catalog kept in step with google-cloud-aiplatform."""

from __future__ import annotations

import pytest

from components.gcp.machine_types import ACCELERATOR_TYPES, VERTEX_REGIONS, VertexMachine, parse_instance_type


def test_the_accelerator_catalog_is_the_installed_sdks_enum():
    """ACCELERATOR_TYPES is copied so plans need not import the SDK (about a second); it must not go stale."""
    from google.cloud.aiplatform_v1.types import AcceleratorType

    assert tuple(a.name for a in AcceleratorType if a.name != "ACCELERATOR_TYPE_UNSPECIFIED") == ACCELERATOR_TYPES


@pytest.mark.parametrize(("value", "machine"), [
    ("n1-standard-4", VertexMachine("n1-standard-4")),
    ("n1-standard-8+nvidia-tesla-t4", VertexMachine("n1-standard-8", "NVIDIA_TESLA_T4", 1)),
    ("a2-highgpu-2g+nvidia-tesla-a100x2", VertexMachine("a2-highgpu-2g", "NVIDIA_TESLA_A100", 2)),
    ("g2-standard-8+nvidia-l4", VertexMachine("g2-standard-8", "NVIDIA_L4", 1)),
])
def test_machine_and_accelerator_syntax(value, machine):
    assert parse_instance_type(value) == machine


@pytest.mark.parametrize(("value", "problem"), [
    ("ml.m5.large", "expected <machine type>"),
    ("n1-standard-5", "not a Vertex AI serving machine type"),
    ("n1-standard-8+nvidia-a10g", "not a Vertex AI accelerator"),
    ("g2-standard-8+nvidia-tesla-t4", "g2-standard-8 takes nvidia-l4, not nvidia-tesla-t4"),
    ("e2-standard-4+nvidia-tesla-t4", r"takes none \(CPU only\)"),
    ("Standard_DS3_v2", "expected <machine type>"),
])
def test_types_vertex_would_refuse_are_named_with_the_fix(value, problem):
    with pytest.raises(ValueError, match=problem):
        parse_instance_type(value)


def test_the_vertex_regions_copy_matches_the_installed_sdk():
    """`gcp:region` is checked against this copy (issue 10: regions from the SDK's own data), kept in step here."""
    from google.cloud.aiplatform.constants import base

    assert base.SUPPORTED_REGIONS - {"global"} == VERTEX_REGIONS
