"""Differences between a declared SageMaker endpoint and the live one, one line each (pure functions).

What counts as agreement: the endpoint is InService with no failure reason, it runs an endpoint
configuration whose content is the declared one (variants, instance types and counts, weights, model
versions, images, model artifacts), its current weights and instance counts are the declared ones
(counts anywhere between the declared floor and the autoscaling ceiling), the images SageMaker
resolved are the declared digests, and every rollback alarm exists and is not in ALARM.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC

from infra.verify.declared import DeclaredEndpoint, DeclaredVariant, ImageRef
from infra.verify.live import AlarmState, ConfigVariant, LiveConfig, LiveEndpoint

IN_SERVICE = "InService"
TRANSIENT = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
WEIGHT_TOLERANCE = 0.05
"""Percent; shares are computed from SageMaker's relative float weights."""

DigestOf = Callable[[ImageRef], str | None]
"""The digest ECR has for an image's tag (None: no such tag)."""


@dataclass(frozen=True)
class Observed:
    """What verify read for one declared endpoint."""

    endpoint: LiveEndpoint | None
    declared_config: LiveConfig | None
    """The live endpoint configuration whose content is the declared one, if any exists."""
    alarms: Mapping[str, AlarmState]


def _pct(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0") + "%"


def image_difference(declared: ImageRef, live: str, digest_of: DigestOf) -> str | None:
    """None when the live image reference is the declared image, else what differs."""
    got = ImageRef.parse(live)
    expected = declared.digest
    if got.repository != declared.repository:
        same = False
    elif declared.digest:
        same = got.digest == declared.digest
    elif got.digest:  # a built image is deployed by digest: the declared tag must point at it
        expected = digest_of(declared)
        if expected is None:
            return f"image: live {live}, declared {declared}, a tag ECR does not have"
        same = got.digest == expected
    else:
        same = got.tag == declared.tag
    return None if same else f"image: live {live}, declared {declared}" + (f" ({expected})" if expected else "")


def variant_differences(declared: DeclaredVariant, weight: float, instances: int | None,
                        config: ConfigVariant | None, digest_of: DigestOf) -> list[str]:
    """What differs in one variant: its share, its instance count and (with its configuration) its content."""
    lines = []
    if abs(weight - declared.weight) >= WEIGHT_TOLERANCE:
        lines.append(f"weight: live {_pct(weight)}, declared {_pct(declared.weight)}")
    if instances is not None and not declared.instance_count <= instances <= declared.max_instances:
        bounds = (str(declared.instance_count) if declared.instance_count == declared.max_instances
                  else f"{declared.instance_count}..{declared.max_instances} (autoscaling)")
        lines.append(f"instances: live {instances}, declared {bounds}")
    if config is not None:
        if config.instance_type != declared.instance_type:
            lines.append(f"instance type: live {config.instance_type}, declared {declared.instance_type}")
        model = config.model
        if model is None:
            lines.append(f"model {config.model_name} no longer exists")
        else:
            if model.model_version != declared.model_version:
                lines.append(f"model version: live {model.model_version}, declared {declared.model_version}")
            if (image := image_difference(declared.image, model.image, digest_of)) is not None:
                lines.append(image)
            if model.model_data_url != declared.model_data_url:
                lines.append(f"model artifact: live {model.model_data_url}, declared {declared.model_data_url}")
    return [f"variant {declared.name} {line}" for line in lines]


def config_matches(declared: DeclaredEndpoint, config: LiveConfig, digest_of: DigestOf) -> bool:
    """True when `config` has the declared content (its hashed name is never compared: see declared.py)."""
    variants = {v.name: v for v in config.variants}
    if set(variants) != {v.name for v in declared.variants}:
        return False
    return not any(variant_differences(v, variants[v.name].weight, variants[v.name].instance_count,
                                       variants[v.name], digest_of) for v in declared.variants)


def endpoint_differences(declared: DeclaredEndpoint, observed: Observed, digest_of: DigestOf) -> list[str]:
    """Every difference between the declared endpoint and what runs, one line each (empty: they agree)."""
    live = observed.endpoint
    if live is None:
        return [f"endpoint {declared.name} does not exist (not deployed yet, or deleted): run pulumi up"]
    alarms = _alarms(declared, observed.alarms)
    if live.status != IN_SERVICE:
        return [_status(declared, live, observed), *alarms]
    failed = []
    if live.failure_reason:  # a failed update can leave the endpoint InService (terraform-provider-aws#39099)
        failed.append(f"the last update of endpoint {declared.name} failed: {live.failure_reason}")
    return [*failed, *_configuration(live, observed), *_variants(declared, live, digest_of), *alarms]


def _status(declared: DeclaredEndpoint, live: LiveEndpoint, observed: Observed) -> str:
    text = f"endpoint {declared.name} is {live.status}" + (f": {live.failure_reason}" if live.failure_reason else "")
    if live.pending_config:
        ours = observed.declared_config is not None and observed.declared_config.name == live.pending_config
        since = f" since {live.pending_since.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if live.pending_since else ""
        text += (f"; deploying config {live.pending_config}" + (" (the declared content)" if ours else "") + since)
    hint = "run verify again when it is InService" if live.status in TRANSIENT else "see docs/runbooks/rollback.md"
    return f"{text}; {hint}"


def _configuration(live: LiveEndpoint, observed: Observed) -> list[str]:
    declared_config = observed.declared_config
    if declared_config is not None and declared_config.name == live.config_name:
        return []
    if declared_config is not None:
        lines = [f"the endpoint rolled back: live config {live.config_name}, declared {declared_config.name}"]
    else:
        lines = [f"live config {live.config_name} is not the declared one, and no endpoint configuration "
                 "has the declared content: run pulumi up"]
    if live.config is None:
        lines.append(f"live config {live.config_name} no longer exists: pulumi up deleted it as replaced although "
                     "the endpoint still runs it (terraform-provider-aws#48997); see docs/runbooks/rollback.md")
    return lines


def _variants(declared: DeclaredEndpoint, live: LiveEndpoint, digest_of: DigestOf) -> list[str]:
    running = {v.name: v for v in live.variants}
    configured = {v.name: v for v in live.config.variants} if live.config else {}
    lines = []
    for want in declared.variants:
        have = running.get(want.name)
        if have is None:
            lines.append(f"variant {want.name}: declared, not deployed")
            continue
        lines += variant_differences(want, have.weight, have.instances, configured.get(want.name), digest_of)
        if not have.resolved_images:  # DeployedImages: what SageMaker pulled, by digest
            continue
        expected = want.image.digest or digest_of(want.image)
        if expected and not any(i.endswith(f"@{expected}") for i in have.resolved_images):
            lines.append(f"variant {want.name} runs image {', '.join(have.resolved_images)}, declared {want.image} "
                         f"({expected})")
    lines += [f"variant {name}: deployed with weight {_pct(v.weight)}, not declared"
              for name, v in running.items() if name not in {w.name for w in declared.variants}]
    return lines


def _alarms(declared: DeclaredEndpoint, alarms: Mapping[str, AlarmState]) -> list[str]:
    lines = []
    for name in declared.rollback_alarms:
        state = alarms.get(name)
        if state is None:
            lines.append(f"rollback alarm {name} does not exist: SageMaker cannot roll back on it")
        elif state.state == "ALARM":
            lines.append(f"rollback alarm {name} is in ALARM: {state.reason}")
    return lines
