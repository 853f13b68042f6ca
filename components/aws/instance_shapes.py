"""vCPUs and GPUs of an EC2 / SageMaker instance type, for alarm thresholds that scale with the machine.

botocore's models carry the names of instance types but not their sizes; EC2's size suffixes follow
one rule for vCPUs (`large` = 2, `xlarge` = 4, `Nxlarge` = 4N), and GPU counts come from the GPU
families' published sizes (the same machines as components/gpu_catalog.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GPUS: dict[str, dict[str, int]] = {
    "g4dn": {"12xlarge": 4, "metal": 8},
    "g5": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6e": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "p3": {"8xlarge": 4, "16xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
}
_SIZES = {"nano": 2, "micro": 2, "small": 2, "medium": 1, "large": 2, "xlarge": 4}
_BURSTABLE_MEDIUM = 2  # t2/t3/t4g.medium have 2 vCPUs; other families' medium (e.g. m6g) have 1
_METAL_VCPUS = {"g4dn": 96}


@dataclass(frozen=True)
class InstanceShape:
    vcpus: int
    gpus: int


def instance_shape(instance_type: str) -> InstanceShape:
    """vCPUs and GPUs of `ml.g5.xlarge` / `g5.xlarge` style names. Raises ValueError for other names."""
    match = re.fullmatch(r"(?:ml\.)?([a-z][a-z0-9-]*)\.([0-9]*)(nano|micro|small|medium|large|xlarge|metal)",
                         instance_type)
    if not match:
        raise ValueError(f"cannot read the size of instance type {instance_type!r}")
    family, multiplier, size = match.groups()
    if size == "metal":
        vcpus = _METAL_VCPUS.get(family, 96)
    elif size == "medium" and family.startswith("t"):
        vcpus = _BURSTABLE_MEDIUM
    else:
        vcpus = _SIZES[size] * int(multiplier or 1)
    gpu_sizes = _GPUS.get(family)
    gpus = 0 if gpu_sizes is None else gpu_sizes.get(f"{multiplier}{size}", 1)
    return InstanceShape(vcpus=vcpus, gpus=gpus)
