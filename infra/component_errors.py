"""Component argument errors, reported as config errors on the stack key a user changes.

Components check their own arguments (`GpuClusterArgs`, `ModelEndpointArgs`, ...) and name them in their
messages (`public_access_cidrs`, `rollout.strategy`, `slots.blue.instance_type`). A stack's user never wrote
those names: when a component refuses what the composition built from a validated config, the stack program
turns each problem into a `Problem` on the stack key it came from (`ARG_KEYS`), so the user sees the same
one-line `file: key = value: message` format (exit 2) as for any other bad input, never a component name or
a traceback. Config validation and the targets' preflights catch these cases first where they can; this is
the one place that maps what slips through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from infra.config import NAMESPACE
from infra.config_errors import ConfigError, Problem

_COMPONENTS = Path(__file__).resolve().parent.parent / "components"

ARG_KEYS: tuple[tuple[str, str], ...] = (
    # (component argument, as its messages start; stack key). {service} and {slot} are filled from the match.
    (r"services is empty", "services"),
    (r"public_access_cidrs", "network.publicApiCidrs"),
    (r"allow_public_endpoint", "network.publicApiCidrs"),
    (r"authorized_cidrs", "network.publicApiCidrs"),
    (r"cidr", "network.cidr"),
    (r"availability_zones", "network.availabilityZones"),
    (r"nat_gateways", "network.natGateways"),
    (r"gpu_min_nodes|min_nodes", "gpu.minNodes"),
    (r"gpu_max_nodes|max_nodes", "gpu.maxNodes"),
    (r"gpu_desired_nodes", "gpu.desiredNodes"),
    (r"gpu_disk_size_gb", "gpu.diskSizeGb"),
    (r"gpu_instance_type", "gpu.instanceType"),
    (r"log_retention_days|flow_log_retention_days|retention_days", "storage.retentionDays"),
    (r"noncurrent_version_days", "storage.noncurrentVersionDays"),
    (r"untagged_expiry_days", "registry.untaggedExpiryDays"),
    (r"keep_tagged_images", "registry.keepTaggedImages"),
    (r"alert_emails", "monitoring.alertEmails"),
    (r"data_capture\.sampling_percent", "monitoring.dataCapturePercent"),
    (r"rollout\.strategy: \w+ needs at least 2 instances in variant (?P<slot>blue|green)",
     "services.{service}.slots.{slot}.instanceCount"),
    (r"rollout\.strategy: \w+ is ignored for inf1 instances \(variant (?P<slot>blue|green)",
     "services.{service}.slots.{slot}.instanceType"),
    (r"rollout\.strategy", "rollout.strategy"),
    (r"rollout\.canary_percent", "rollout.canaryPercent"),
    (r"rollout\.step_percent", "rollout.stepPercent"),
    (r"rollout\.wait_seconds", "rollout.waitSeconds"),
    (r"rollout\.termination_wait_seconds", "rollout.terminationWaitSeconds"),
    (r"rollout", "rollout"),
    (r"rollback alarms", "rollout.autoRollback"),
    (r"autoscaling\.max_instances", "services.{service}.maxInstances"),
    (r"slots\.(?P<slot>blue|green)\.instance_type", "services.{service}.slots.{slot}.instanceType"),
    (r"slot (?P<slot>blue|green): .*instance", "services.{service}.slots.{slot}.instanceType"),
    (r"slot (?P<slot>blue|green)", "services.{service}.slots.{slot}"),
    (r"slots\.(?P<slot>blue|green)\.model_uri", "services.{service}.modelArtifactUri"),
    (r"endpoints\.(?P<service>[a-z0-9-]+): .*drift", "services.{service}.driftFeatures"),
    (r"image_tag|image_uri", "services.{service}.slots"),
)
"""Component argument -> stack key, most specific first; the first whose pattern starts a problem wins."""

_NAMES = {
    "public_access_cidrs": "publicApiCidrs", "gpu_min_nodes": "minNodes", "gpu_max_nodes": "maxNodes",
    "gpu_desired_nodes": "desiredNodes", "gpu_disk_size_gb": "diskSizeGb", "log_retention_days": "retentionDays",
    "flow_log_retention_days": "retentionDays", "availability_zones": "availabilityZones",
    "max_instances": "maxInstances", "instance_type": "instanceType", "canary_percent": "canaryPercent",
    "step_percent": "stepPercent", "wait_seconds": "waitSeconds", "termination_wait_seconds": "terminationWaitSeconds",
}
"""Argument names that may appear inside a message, as the stack file spells them."""


@dataclass(frozen=True)
class _Mapped:
    key: str
    message: str


def is_component_error(exc: BaseException) -> bool:
    """True for a ValueError raised by a component's own argument checks (components/ raised it)."""
    if not isinstance(exc, ValueError):
        return False
    tb: TracebackType | None = exc.__traceback__
    origin = None
    while tb is not None:
        origin = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return origin is not None and Path(origin).resolve().is_relative_to(_COMPONENTS)


def component_problems(exc: ValueError) -> list[Problem]:
    """One `Problem` per problem a component's argument error lists, on the stack key it came from."""
    service = getattr(exc, "service", None) or ""
    raw = getattr(exc, "problems", None) or str(exc).split("; ")
    return [_problem(_map(text.strip(), service)) for text in raw if text.strip()]


def component_config_error(exc: ValueError, source: str) -> ConfigError:
    """The `ConfigError` (stack file `source`) of a component's argument error."""
    return ConfigError(source, component_problems(exc))


def _map(text: str, service: str) -> _Mapped:
    for pattern, template in ARG_KEYS:
        match = re.match(pattern, text)
        if match:
            fields = {"service": service, **match.groupdict()}
            if "{service}" in template and not fields["service"]:
                template = "services"
            return _Mapped(template.format(**fields), _stack_words(text))
    return _Mapped("", _stack_words(text))


def _stack_words(text: str) -> str:
    return re.sub(r"\b(" + "|".join(sorted(_NAMES, key=len, reverse=True)) + r")\b",
                  lambda m: _NAMES[m.group(1)], text)


def _problem(mapped: _Mapped) -> Problem:
    return Problem(f"{NAMESPACE}:{mapped.key}" if mapped.key else NAMESPACE, mapped.message)
