"""Checks any target's preflight may share: what only a cloud's catalog can tell, run during config validation.

A target registers its own preflight (e.g. `infra/targets/aws/preflight.py`: botocore's instance types and
name rules) and calls these for the rules every cloud has, so a wrong value fails in seconds, not mid-deploy.
"""

from __future__ import annotations

from components.gpu_catalog import GpuCatalogError, resolve_gpu
from infra.config import NAMESPACE, PlatformConfig
from infra.config_errors import Problem


def check_gpu_catalog(cfg: PlatformConfig, cloud: str) -> list[Problem]:
    """The accelerator and count must exist on that cloud unless a machine type is explicit."""
    if cfg.gpu.instance_type:
        return []
    try:
        resolve_gpu(cfg.gpu.accelerator, cfg.gpu.count, cloud)
    except GpuCatalogError as exc:
        return [Problem(f"{NAMESPACE}:gpu", str(exc))]
    return []
