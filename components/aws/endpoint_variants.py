"""Which slots of a service become SageMaker production variants, and with what.

Pure functions, no resources: `deployed_variants` decides the variants (names `blue` / `green`, weights,
instance types and counts), `config_content` is the canonical JSON a versioned endpoint-config name
hashes (so the name changes exactly when the content does), `volume_kms_supported` says whether
SageMaker accepts a KMS key for an instance type's storage volume, and `slot_problems` validates slots
against botocore's SageMaker model.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

SLOT_NAMES: tuple[str, ...] = ("blue", "green")


@dataclass(frozen=True)
class SlotArgs:
    """One slot of a service: what it runs and how much traffic it gets."""

    image_uri: pulumi.Input[str]
    """Container image (ECR URI, pinned tag or digest) serving the model."""
    model_data_url: pulumi.Input[str]
    """`s3://<bucket>/<model prefix>/.../model.tar.gz` SageMaker downloads to /opt/ml/model."""
    model_version: str
    """Model version this slot serves (passed to the container as MODEL_VERSION)."""
    instance_type: str = "ml.m5.large"
    """SageMaker hosting instance type (`ml.*`, checked against botocore's ProductionVariantInstanceType)."""
    instance_count: int = 1
    """Initial instances; also the autoscaling minimum."""
    weight: int = 0
    """Share of traffic, percent (both slots sum to 100)."""


@dataclass(frozen=True)
class Variant:
    """One production variant of the endpoint configuration (named after its slot)."""

    name: str
    weight: int
    instance_type: str
    instance_count: int


@functools.cache
def sagemaker_instance_types() -> frozenset[str]:
    """Every hosting instance type botocore's SageMaker model knows (ProductionVariantInstanceType)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for("ProductionVariantInstanceType").enum)


# Families whose instances carry NVMe instance storage instead of an EBS ML storage volume.
# CreateEndpointConfig fails when KmsKeyId is set and any variant uses one of them (the local
# disks are encrypted by the instance's hardware module instead). The SageMaker Python SDK's rule
# is "a `d` in the family, or g5"; the newer GPU/Trainium families below also ship NVMe storage.
_INSTANCE_STORE_PREFIXES: tuple[str, ...] = ("g5", "g6", "g7", "p5", "p6", "trn1", "trn2")


def volume_kms_supported(instance_type: str) -> bool:
    """True when SageMaker accepts a customer KMS key for this instance type's storage volume."""
    parts = instance_type.split(".")
    family = parts[1] if len(parts) == 3 and parts[0] == "ml" else parts[0]
    return "d" not in family and not family.startswith(_INSTANCE_STORE_PREFIXES)


def deployed_variants(slots: Mapping[str, SlotArgs], live: str, keep_warm: bool) -> tuple[Variant, ...]:
    """The production variants: every slot with traffic, plus weight-0 slots when kept warm.

    The live slot is always deployed; the order is blue then green so the content hash is stable.
    """
    variants = []
    for name in SLOT_NAMES:
        slot = slots.get(name)
        if slot is None or (slot.weight == 0 and not keep_warm and name != live):
            continue
        variants.append(Variant(name, slot.weight, slot.instance_type, slot.instance_count))
    return tuple(variants)


def config_content(variants: Sequence[Variant], model_names: Mapping[str, str], extra: Mapping[str, Any]) -> str:
    """Canonical JSON of an endpoint configuration's content (variants, their models, capture, keys)."""
    body = {
        "variants": [
            {"name": v.name, "model": model_names[v.name], "weight": v.weight, "instance_type": v.instance_type,
             "instance_count": v.instance_count}
            for v in variants
        ],
        **extra,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def slot_problems(slots: Mapping[str, SlotArgs], live: str, keep_warm: bool, max_instances: int) -> list[str]:
    """Everything wrong with a service's slots (empty when deployable)."""
    problems = []
    missing = [s for s in SLOT_NAMES if s not in slots]
    unknown = sorted(set(slots) - set(SLOT_NAMES))
    if missing:
        problems.append(f"slots: define both blue and green (missing {', '.join(missing)})")
    if unknown:
        problems.append(f"slots: only blue and green exist (got {', '.join(unknown)})")
    if live not in SLOT_NAMES:
        problems.append(f"live: expected blue or green, got {live!r}")
    known = sagemaker_instance_types()
    for name, slot in sorted(slots.items()):
        if slot.instance_type not in known:
            close = sorted(t for t in known if t.split(".")[1:2] == slot.instance_type.split(".")[1:2])[:6]
            hint = f"; same family: {', '.join(close)}" if close else "; SageMaker types look like ml.m5.large"
            problems.append(f"slots.{name}.instance_type: {slot.instance_type!r} is not a SageMaker hosting "
                            f"instance type (botocore ProductionVariantInstanceType){hint}")
        if not 1 <= slot.instance_count <= max_instances:
            problems.append(f"slots.{name}.instance_count: {slot.instance_count} must be 1..{max_instances} "
                            "(the autoscaling maximum)")
        if not 0 <= slot.weight <= 100:
            problems.append(f"slots.{name}.weight: {slot.weight} must be 0..100")
        if isinstance(slot.model_data_url, str) and not slot.model_data_url.startswith("s3://"):
            problems.append(f"slots.{name}.model_data_url: {slot.model_data_url!r} must be an s3:// URL")
    if not missing and sum(s.weight for s in slots.values()) != 100:
        problems.append(f"slots: weights must sum to 100, got {sum(s.weight for s in slots.values())}")
    if live in slots and slots[live].weight == 0:
        problems.append(f"live: the live slot {live!r} has weight 0; give it traffic or switch live")
    if not keep_warm and not missing and all(s.weight == 0 for s in slots.values()):
        problems.append("slots: no slot has traffic")
    return problems
