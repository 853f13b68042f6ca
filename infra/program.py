"""The stack program: typed config -> composition for the target cloud -> exports."""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from infra.config import PlatformConfig
from infra.config_errors import ConfigError
from infra.targets import compose, load_platform_config


def engine_config() -> dict[str, str]:
    """The stack's whole config map, as the engine handed it to this process."""
    values = {**get_config_env(), **CONFIG.get()}
    # Older engines pass `namespace:config:key`; normalise to `namespace:key`.
    return {key.replace(":config:", ":", 1): value for key, value in values.items()}


def stack_config() -> PlatformConfig:
    """Validate this stack's config, or stop the program before any resource is declared."""
    source = f"Pulumi.{pulumi.get_stack()}.yaml"
    try:
        return load_platform_config(engine_config(), source)
    except ConfigError as exc:
        raise pulumi.RunError("invalid stack config:\n" + "\n".join(exc.lines())) from None


def run() -> None:
    cfg = stack_config()
    for name, value in sorted(compose(cfg).outputs().items()):
        pulumi.export(name, value)
