"""The stack program: typed config -> composition for the target cloud -> exports."""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env, get_config_secret_keys_env, is_config_secret

from infra.component_errors import component_config_error, is_component_error
from infra.config import PlatformConfig
from infra.config_errors import ConfigError
from infra.targets import compose, load_platform_config


def engine_config() -> dict[str, str]:
    """The stack's whole config map, as the engine handed it to this process."""
    values = {**get_config_env(), **CONFIG.get()}
    # Older engines pass `namespace:config:key`; normalise to `namespace:key`.
    return {key.replace(":config:", ":", 1): value for key, value in values.items()}


class InvalidStackConfig(pulumi.RunError):
    """The program stopped on a config problem; `error` holds its lines (the plan CLI exits 2 with them)."""

    def __init__(self, error: ConfigError):
        self.error = error
        super().__init__("invalid stack config:\n" + "\n".join(error.lines()))


def engine_secret_keys(values: dict[str, str]) -> set[str]:
    """Config keys the engine marks secret (`secure:` values, at any depth of an object)."""
    marked = {key.replace(":config:", ":", 1) for key in get_config_secret_keys_env()}
    return marked | {key for key in values if is_config_secret(key)}


def stack_source() -> str:
    return f"Pulumi.{pulumi.get_stack()}.yaml"


def stack_config() -> PlatformConfig:
    """Validate this stack's config, or stop the program before any resource is declared."""
    try:
        values = engine_config()
        return load_platform_config(values, stack_source(), pulumi.get_stack(), engine_secret_keys(values))
    except ConfigError as exc:
        raise InvalidStackConfig(exc) from None


def run() -> None:
    cfg = stack_config()
    try:
        exports = compose(cfg)
    except ValueError as exc:
        # A component refused an argument built from the config: report it on the stack key, not the argument.
        if not is_component_error(exc):
            raise
        raise InvalidStackConfig(component_config_error(exc, stack_source())) from None
    for name, value in sorted(exports.outputs().items()):
        pulumi.export(name, value)
