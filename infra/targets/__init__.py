"""Composition per target cloud: plain Python that instantiates components and wires their outputs.

`compose(cfg)` returns the stack's exports. No resource is declared outside a component.
"""

from __future__ import annotations

import importlib
from typing import Any

import pulumi

from infra.config import PlatformConfig

IMPLEMENTED = ("aws",)
"""Targets with a composition today; the GCP, Azure and local issues add theirs."""


def compose(cfg: PlatformConfig) -> dict[str, Any]:
    if cfg.cloud not in IMPLEMENTED:
        raise pulumi.RunError(
            f"cloud {cfg.cloud!r} has no composition yet (implemented: {', '.join(IMPLEMENTED)}); "
            "set mlops-platform:cloud to one of those"
        )
    module = importlib.import_module(f"infra.targets.{cfg.cloud}")
    return module.compose(cfg)
