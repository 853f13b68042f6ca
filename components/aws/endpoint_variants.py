"""Which slots of a service become SageMaker production variants, and with what.

Pure functions, no resources: `deployed_variants` turns both slots into variants named `blue` / `green`
(always both: a weight-0 slot is an idle variant, see its docstring), `config_content` is the
canonical JSON a versioned endpoint-config name hashes (so the name changes exactly when the content
does), `volume_kms_supported` says whether SageMaker accepts a KMS key for an instance type's storage
volume, and `sagemaker_slot_problems` checks slots against what only SageMaker requires (botocore's
hosting instance types, `s3://` model data).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.aws import catalog
from components.serving import SLOT_NAMES, SlotSpec, SlotState, slot_state


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
    return catalog.enum("sagemaker", "ProductionVariantInstanceType")


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


IDLE_INSTANCES = 1
"""Instances of a weight-0 variant that is not kept warm: SageMaker's minimum for an instance-based variant."""


def deployed_variants(slots: Mapping[str, SlotSpec], live: str, keep_warm: bool) -> tuple[Variant, ...]:
    """The production variants: always both slots, blue then green, so the variant set never changes.

    SageMaker requires the same variant names across a blue/green update, and refuses to remove a variant
    still registered with Application Auto Scaling (Pulumi deregisters it only after the endpoint update);
    so a slot at weight 0 stays as an idle variant. Kept warm (`keep_warm`), it keeps its instance count;
    otherwise it runs `IDLE_INSTANCES`. The shared `slot_state` still says which slots take traffic.
    """
    variants = []
    for name in SLOT_NAMES:
        if name not in slots:
            continue
        slot = slots[name]
        state = slot_state(name, slot.weight, live, keep_warm)
        count = slot.instance_count if state is not SlotState.NOT_DEPLOYED else IDLE_INSTANCES
        variants.append(Variant(name, slot.weight, slot.instance_type, count))
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


def sagemaker_slot_problems(slots: Mapping[str, SlotSpec]) -> list[str]:
    """What SageMaker alone rejects about slots (the shared rules are `components.serving.slot_problems`)."""
    problems = []
    known = sagemaker_instance_types()
    for name, slot in sorted(slots.items()):
        if slot.instance_type not in known:
            close = sorted(t for t in known if t.split(".")[1:2] == slot.instance_type.split(".")[1:2])[:6]
            hint = f"; same family: {', '.join(close)}" if close else "; SageMaker types look like ml.m5.large"
            problems.append(f"slots.{name}.instance_type: {slot.instance_type!r} is not a SageMaker hosting "
                            f"instance type (botocore ProductionVariantInstanceType){hint}")
        if isinstance(slot.model_uri, str) and not slot.model_uri.startswith("s3://"):
            problems.append(f"slots.{name}.model_uri: {slot.model_uri!r} must be an s3:// URL")
    return problems
