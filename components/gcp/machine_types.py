"""Vertex AI serving machines: a slot's `instanceType` on GCP, and the catalogs it is checked against.

Syntax of a slot's instance type on GCP: `<machine type>` or `<machine type>+<accelerator>[x<count>]`, e.g.
`n1-standard-4`, `n1-standard-8+nvidia-tesla-t4`, `a2-highgpu-2g+nvidia-tesla-a100x2`. The accelerator is
written as GKE names it (lowercase, hyphens) and maps to Vertex's `AcceleratorType` enum
(`nvidia-tesla-t4` -> `NVIDIA_TESLA_T4`).

`ACCELERATOR_TYPES` is a compact copy of `google.cloud.aiplatform_v1.types.AcceleratorType` (importing the
SDK costs about a second of plan time); tests/components/gcp/test_machine_types.py keeps it in step with
the installed SDK. Machine families and which accelerator each takes follow Vertex AI's "Configure compute
resources for inference" page (cloud.google.com/vertex-ai/docs/predictions/configure-compute).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_SERVING_TYPE = "n1-standard-4"
"""A slot that names no instance type serves on this CPU machine."""

ACCELERATOR_TYPES: tuple[str, ...] = (
    "NVIDIA_TESLA_K80", "NVIDIA_TESLA_P100", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_P4", "NVIDIA_TESLA_T4",
    "NVIDIA_TESLA_A100", "NVIDIA_A100_80GB", "NVIDIA_L4", "NVIDIA_H100_80GB", "NVIDIA_H100_MEGA_80GB",
    "NVIDIA_H200_141GB", "NVIDIA_B200", "NVIDIA_GB200", "NVIDIA_RTX_PRO_6000", "TPU_V2", "TPU_V3", "TPU_V4_POD",
    "TPU_V5_LITEPOD",
)
"""google.cloud.aiplatform_v1.types.AcceleratorType, less ACCELERATOR_TYPE_UNSPECIFIED."""

VERTEX_REGIONS: frozenset[str] = frozenset({
    "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
    "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2", "australia-southeast1",
    "australia-southeast2", "europe-central2", "europe-north1", "europe-north2", "europe-southwest1",
    "europe-west1", "europe-west12", "europe-west2", "europe-west3", "europe-west4", "europe-west6",
    "europe-west8", "europe-west9", "me-central1", "me-central2", "me-west1", "northamerica-northeast1",
    "northamerica-northeast2", "southamerica-east1", "southamerica-west1", "us-central1", "us-east1", "us-east4",
    "us-east5", "us-east7", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4", "us-west8",
})
"""google.cloud.aiplatform.constants.base.SUPPORTED_REGIONS less `global`: where a stack's Vertex endpoints can live."""

# machine family -> (machine type pattern, accelerators it takes; empty: CPU only)
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "n1": (r"n1-(standard|highmem|highcpu)-(2|4|8|16|32|64|96)",
           ("NVIDIA_TESLA_T4", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_P100", "NVIDIA_TESLA_P4", "NVIDIA_TESLA_K80")),
    "n2": (r"n2-(standard|highmem|highcpu)-(2|4|8|16|32|48|64|80)", ()),
    "n2d": (r"n2d-(standard|highmem|highcpu)-(2|4|8|16|32|48|64|80|96|128|224)", ()),
    "e2": (r"e2-(standard|highmem|highcpu)-(2|4|8|16|32)", ()),
    "c2": (r"c2-standard-(4|8|16|30|60)", ()),
    "c2d": (r"c2d-(standard|highmem|highcpu)-(2|4|8|16|32|56|112)", ()),
    "g2": (r"g2-standard-(4|8|12|16|24|32|48|96)", ("NVIDIA_L4",)),
    "a2": (r"a2-(highgpu-(1|2|4|8)g|megagpu-16g|ultragpu-(1|2|4|8)g)", ("NVIDIA_TESLA_A100", "NVIDIA_A100_80GB")),
    "a3": (r"a3-(highgpu|megagpu)-8g", ("NVIDIA_H100_80GB", "NVIDIA_H100_MEGA_80GB")),
}
_SLOT_TYPE = re.compile(r"(?P<machine>[a-z0-9-]+?)(\+(?P<accelerator>[a-z0-9-]+?)(x(?P<count>[1-8]))?)?")


@dataclass(frozen=True)
class VertexMachine:
    """What a deployed model runs on: Vertex's `MachineSpec`."""

    machine_type: str
    accelerator_type: str | None = None
    """A Vertex `AcceleratorType` name (e.g. NVIDIA_TESLA_T4), or None for CPU."""
    accelerator_count: int = 0

    @property
    def gpu(self) -> bool:
        return self.accelerator_type is not None


def accelerator_enum(name: str) -> str:
    """`nvidia-tesla-t4` -> `NVIDIA_TESLA_T4` (GKE's spelling to Vertex's enum)."""
    return name.upper().replace("-", "_")


def parse_instance_type(value: str) -> VertexMachine:
    """A slot's GCP instance type as a `VertexMachine`; ValueError naming the problem and the fix."""
    match = _SLOT_TYPE.fullmatch(value)
    if not match:
        raise ValueError("expected <machine type>[+<accelerator>[x<count>]], e.g. n1-standard-4 or "
                         "n1-standard-8+nvidia-tesla-t4")
    machine = match["machine"]
    family = next((f for f, (pattern, _) in FAMILIES.items() if re.fullmatch(pattern, machine)), None)
    if family is None:
        raise ValueError(f"{machine!r} is not a Vertex AI serving machine type (families: "
                         f"{', '.join(FAMILIES)}; cloud.google.com/vertex-ai/docs/predictions/configure-compute)")
    if not match["accelerator"]:
        return VertexMachine(machine)
    accelerator = accelerator_enum(match["accelerator"])
    if accelerator not in ACCELERATOR_TYPES:
        gpus = ", ".join(a.lower().replace("_", "-") for a in ACCELERATOR_TYPES if a.startswith("NVIDIA"))
        raise ValueError(f"{match['accelerator']!r} is not a Vertex AI accelerator (AcceleratorType: {gpus})")
    allowed = FAMILIES[family][1]
    if accelerator not in allowed:
        fits = ", ".join(a.lower().replace("_", "-") for a in allowed) or "none (CPU only)"
        raise ValueError(f"{machine} takes {fits}, not {match['accelerator']}")
    return VertexMachine(machine, accelerator, int(match["count"] or 1))
