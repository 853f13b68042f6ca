"""One table from a cloud-neutral GPU request to each cloud's machine types.

`GpuSpec(accelerator="a10g", count=1)` is what a platform team asks for; `resolve_gpu` turns it into
the EC2 / SageMaker instance type on AWS, the machine type + accelerator type on GCP and the VM size on
Azure. An explicit instance type always wins (the escape hatch); it is validated elsewhere against the
cloud's own catalog (botocore's service models for AWS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Accelerator = Literal["t4", "a10g", "l4", "a100", "h100"]
Cloud = Literal["aws", "gcp", "azure", "local"]

ACCELERATORS: tuple[str, ...] = ("t4", "a10g", "l4", "a100", "h100")


@dataclass(frozen=True)
class GpuMachine:
    """What one cloud needs to get `count` GPUs of one kind on one node."""

    instance_type: str
    """EC2 instance type, GCP machine type or Azure VM size."""
    gpu_type: str
    """The cloud's name for the GPU (GCP accelerator type, Kubernetes label value elsewhere)."""
    gpus: int
    """GPUs on one node of this type (may exceed the request when no exact size exists)."""


# accelerator -> cloud -> GPUs per node -> machine. The smallest machine with at least `count` GPUs wins.
_CATALOG: dict[str, dict[str, dict[int, tuple[str, str]]]] = {
    "t4": {
        "aws": {1: ("g4dn.xlarge", "nvidia-t4"), 4: ("g4dn.12xlarge", "nvidia-t4"), 8: ("g4dn.metal", "nvidia-t4")},
        "gcp": {1: ("n1-standard-8", "nvidia-tesla-t4"), 2: ("n1-standard-16", "nvidia-tesla-t4"),
                4: ("n1-standard-32", "nvidia-tesla-t4")},
        "azure": {1: ("Standard_NC4as_T4_v3", "nvidia-t4"), 4: ("Standard_NC64as_T4_v3", "nvidia-t4")},
    },
    "a10g": {
        "aws": {1: ("g5.xlarge", "nvidia-a10g"), 4: ("g5.12xlarge", "nvidia-a10g"),
                8: ("g5.48xlarge", "nvidia-a10g")},
        "azure": {1: ("Standard_NV36ads_A10_v5", "nvidia-a10"), 2: ("Standard_NV72ads_A10_v5", "nvidia-a10")},
    },
    "l4": {
        "aws": {1: ("g6.xlarge", "nvidia-l4"), 4: ("g6.12xlarge", "nvidia-l4"), 8: ("g6.48xlarge", "nvidia-l4")},
        "gcp": {1: ("g2-standard-8", "nvidia-l4"), 2: ("g2-standard-24", "nvidia-l4"),
                4: ("g2-standard-48", "nvidia-l4"), 8: ("g2-standard-96", "nvidia-l4")},
    },
    "a100": {
        "aws": {8: ("p4d.24xlarge", "nvidia-a100")},
        "gcp": {1: ("a2-highgpu-1g", "nvidia-tesla-a100"), 2: ("a2-highgpu-2g", "nvidia-tesla-a100"),
                4: ("a2-highgpu-4g", "nvidia-tesla-a100"), 8: ("a2-highgpu-8g", "nvidia-tesla-a100")},
        "azure": {1: ("Standard_NC24ads_A100_v4", "nvidia-a100"), 2: ("Standard_NC48ads_A100_v4", "nvidia-a100"),
                  4: ("Standard_NC96ads_A100_v4", "nvidia-a100"), 8: ("Standard_ND96asr_v4", "nvidia-a100")},
    },
    "h100": {
        "aws": {8: ("p5.48xlarge", "nvidia-h100")},
        "gcp": {8: ("a3-highgpu-8g", "nvidia-h100-80gb")},
        "azure": {1: ("Standard_NC40ads_H100_v5", "nvidia-h100"), 2: ("Standard_NC80adis_H100_v5", "nvidia-h100"),
                  8: ("Standard_ND96isr_H100_v5", "nvidia-h100")},
    },
}


class GpuCatalogError(ValueError):
    """The accelerator / count pair has no machine on the requested cloud."""


def resolve_gpu(accelerator: str, count: int, cloud: str) -> GpuMachine:
    """The smallest machine on `cloud` with at least `count` GPUs of kind `accelerator`.

    Raises GpuCatalogError naming the alternatives when the cloud has no such machine.
    """
    if accelerator not in _CATALOG:
        raise GpuCatalogError(f"unknown accelerator {accelerator!r}; expected one of {', '.join(ACCELERATORS)}")
    sizes = _CATALOG[accelerator].get(cloud)
    if not sizes:
        offered = [a for a in ACCELERATORS if _CATALOG[a].get(cloud)]
        raise GpuCatalogError(
            f"accelerator {accelerator!r} is not offered on {cloud}; use one of {', '.join(offered)} "
            "or set an explicit instance type"
        )
    for gpus in sorted(sizes):
        if gpus >= count:
            instance_type, gpu_type = sizes[gpus]
            return GpuMachine(instance_type=instance_type, gpu_type=gpu_type, gpus=gpus)
    raise GpuCatalogError(
        f"no {cloud} machine has {count} x {accelerator}; at most {max(sizes)} per node "
        f"({sizes[max(sizes)][0]}); lower the count or set an explicit instance type"
    )

