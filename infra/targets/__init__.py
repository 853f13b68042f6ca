"""The target registry: everything the platform knows about one cloud, registered by that cloud in one place.

Each module (or package) in this folder is one target, named after the `mlops-platform:cloud` value it
serves, and registers itself when imported:

    # infra/targets/gcp.py
    TARGET = register(Target(cloud="gcp", provider_keys=("gcp:project", "gcp:region"), region_key="gcp:region",
                             project_key="gcp:project", preflight=check_gcp, compose=compose))

`load_platform_config` validates a stack's config for its target: the shared structure (infra/config.py),
the target's provider keys, then its preflight checks; every problem at once, as one `ConfigError` (the
plan CLI exits 2). A cloud without a registered target is a config error naming `mlops-platform:cloud`.
`compose` runs the target's composition, which returns the shared `StackExports` (infra/exports.py).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from infra.config import CLOUDS, NAMESPACE, PlatformConfig, parse_platform_config, with_slot_defaults
from infra.config_errors import ConfigError, Problem, did_you_mean
from infra.exports import StackExports


def _no_checks(cfg: PlatformConfig) -> list[Problem]:
    return []


@dataclass(frozen=True)
class Target:
    """One cloud as the platform sees it."""

    cloud: str
    """The `mlops-platform:cloud` value this target serves (also its module's name in infra/targets/)."""
    compose: Callable[[PlatformConfig], StackExports]
    """Plain Python that instantiates the cloud's components for a validated config and returns the exports."""
    provider_keys: tuple[str, ...] = ()
    """Provider config keys a stack of this cloud must set (e.g. `aws:region`); read by the provider too."""
    region_key: str | None = None
    """The provider key holding the region / location; becomes `PlatformConfig.region`."""
    project_key: str | None = None
    """The provider key holding a project id (GCP); becomes `PlatformConfig.project`."""
    preflight: Callable[[PlatformConfig], list[Problem]] = _no_checks
    """Checks only the cloud's own catalog can make (instance types, regions, name rules)."""
    regions: Callable[[], frozenset[str]] | None = None
    """Every region / location the cloud's own SDK data knows (None: not checked); `region_key` must be one."""
    default_instance_type: str | None = None
    """Instance type of a slot that names none (`services.<svc>.slots.<slot>.instanceType`); None: required."""
    secret_keys: tuple[str, ...] = ()
    """Optional keys the target's composition reads itself as secrets (`pulumi config set --secret KEY VALUE`),
    e.g. `mlops-platform:artifactStorePassword` on local; the shared structure does not list them."""
    serving_toggle: bool = False
    mirrors: bool = False
    """The composition mirrors live traffic to the idle slot (`services.<svc>.mirrorPercent`); others refuse it."""
    """The composition honours `serving: false` (declares no endpoints); others refuse the setting."""
    kubernetes: bool = False
    """The composition serves `services.<svc>.target: kubernetes | both` on the stack's GPU cluster (through
    `infra.kubernetes_serving`, with the cloud's ClusterAccess); False: `target` must be `endpoint`."""

    def __post_init__(self) -> None:
        undeclared = [k for k in (self.region_key, self.project_key) if k and k not in self.provider_keys]
        if undeclared:
            raise ValueError(f"target {self.cloud!r}: {', '.join(undeclared)} must be among provider_keys")

    def provider_problems(self, values: Mapping[str, Any]) -> list[Problem]:
        return [Problem(key, f"required when cloud is {self.cloud!r}; set it with `pulumi config set {key} <value>`")
                for key in self.provider_keys if not values.get(key)]

    def region_problems(self, values: Mapping[str, Any]) -> list[Problem]:
        """A region the cloud does not have (`us-eats-1`) fails here, before any other advice about it."""
        region = values.get(self.region_key) if self.region_key else None
        if not region or self.regions is None:
            return []
        known = self.regions()
        if region in known:
            return []
        hint = did_you_mean(str(region), sorted(known)) or f"; known: {', '.join(sorted(known))}"
        return [Problem(str(self.region_key), f"not a region the {self.cloud} SDK knows{hint}", region)]

    def derived(self, values: Mapping[str, Any]) -> dict[str, str]:
        """The config fields this target reads from its provider's keys (`infra.config.DERIVED_KEYS`)."""
        keys = {"region": self.region_key, "project": self.project_key}
        return {field: str(values.get(key) or "") for field, key in keys.items() if key}


_REGISTRY: dict[str, Target] = {}


def register(target: Target) -> Target:
    """Add a target (called by the target's own module when it is imported)."""
    if target.cloud not in CLOUDS:
        raise ValueError(f"target {target.cloud!r}: mlops-platform:cloud accepts only {', '.join(CLOUDS)}")
    _REGISTRY[target.cloud] = target
    return target


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def target_for(cloud: str) -> Target | None:
    """The registered target of `cloud`, importing its module on first use; None when there is none."""
    if cloud not in _REGISTRY and cloud in _modules():
        importlib.import_module(f"{__name__}.{cloud}")
    return _REGISTRY.get(cloud)


def registered() -> tuple[str, ...]:
    """Every cloud with a registered target (imports each target module)."""
    for module in _modules():
        target_for(module)
    return tuple(sorted(_REGISTRY))


def load_platform_config(values: Mapping[str, Any], source: str, stack: str = "",
                         secret_keys: Collection[str] = ()) -> PlatformConfig:
    """Validate a flat Pulumi config map for its target into a `PlatformConfig`, or raise `ConfigError`.

    `source` names the stack file in messages (e.g. `Pulumi.dev.yaml`); `stack` is the stack's name;
    `secret_keys` the keys the engine marks secret.
    """
    cloud = values.get(f"{NAMESPACE}:cloud")
    target = target_for(cloud) if isinstance(cloud, str) else None
    problems: list[Problem] = []
    if target is None and cloud in CLOUDS:
        problems.append(Problem(f"{NAMESPACE}:cloud", f"no target is registered for this cloud yet (registered: "
                                f"{', '.join(registered())}); set it to one of those", cloud))
    if target is not None:
        problems += target.provider_problems(values) + target.region_problems(values)
    shared = {key: value for key, value in values.items() if target is None or key not in target.secret_keys}
    derived = {**(target.derived(values) if target else {}), "stack": stack}
    cfg, structural = parse_platform_config(shared, derived, secret_keys)
    problems += structural
    if cfg is not None and target is not None:
        cfg = with_slot_defaults(cfg, target.default_instance_type)
        problems += [Problem(f"{NAMESPACE}:services.{name}.slots.{slot_name}.instanceType",
                             f"required on {target.cloud} (no default instance type there)")
                     for name, svc in cfg.services.items() for slot_name, slot in svc.slots.items()
                     if not slot.instance_type]
    if cfg is not None and target is not None and not target.mirrors:
        problems += [Problem(f"{NAMESPACE}:services.{name}.mirrorPercent", f"{target.cloud} does not mirror traffic "
                             "yet (Azure ML does); remove the key", svc.mirror_percent)
                     for name, svc in cfg.services.items() if svc.mirror_percent]
    if cfg is not None and target is not None and not cfg.serving and not target.serving_toggle:
        problems.append(Problem(f"{NAMESPACE}:serving", f"only a target that can hold back its endpoints accepts "
                                f"false, and {target.cloud!r} cannot yet; remove the key", False))
    if cfg is not None and target is not None:
        problems += _kubernetes_problems(cfg, target)
        # A region the cloud does not have is reported once, by `region_problems`; the preflight's own
        # region-dependent advice (AWS Model Monitor's regions, Azure's location shape) would only repeat it.
        unknown_region = any(p.key == target.region_key for p in problems)
        problems += [p for p in target.preflight(cfg) if not (unknown_region and p.key == target.region_key)]
    if problems or cfg is None:
        raise ConfigError(source, problems)
    return cfg


def _kubernetes_problems(cfg: PlatformConfig, target: Target) -> list[Problem]:
    if target.kubernetes:
        if not any(svc.target != "endpoint" for svc in cfg.services.values()):
            return []
        from infra.kubernetes_serving import config_problems  # the Kubernetes SDK only for stacks that serve there

        return config_problems(cfg)
    return [Problem(f"{NAMESPACE}:services.{name}.target", f"{target.cloud} has no Kubernetes serving wired yet; "
                    "set it to `endpoint`", svc.target)
            for name, svc in cfg.services.items() if svc.target != "endpoint"]


def compose(cfg: PlatformConfig) -> StackExports:
    """The stack of a validated config: its target's composition."""
    return _REGISTRY[cfg.cloud].compose(cfg)
