"""The serving model every target shares: blue/green slots, their weights, and the traffic steps of a rollout.

Cloud-neutral and dependency-free (standard library only), so config validation, every target's endpoint
component and the policy pack (which runs with only its own requirements) read the same rules:

- A service has exactly two slots, `blue` and `green`; each pins an image, a model, capacity and a weight.
- Weights are whole percents that sum to 100; the `live` slot carries traffic (weight > 0).
- A slot at weight 0 is either *idle* (deployed, ready for an instant cut-over: `keep_warm`) or *not
  deployed*; `slot_state` is the one place that decides, and targets read it.
- A rollout moves traffic to a new version in steps: all-at-once `[100]`, canary 10 `[10, 100]`,
  linear 20 `[20, 40, 60, 80, 100]` (`traffic_steps`). How a cloud executes the steps (SageMaker's
  blue/green update policy, a Vertex traffic split, an Azure traffic map) lives in its package, with its
  own bounds.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, get_args

if TYPE_CHECKING:
    import pulumi

SlotName = Literal["blue", "green"]
SLOT_NAMES: tuple[str, ...] = get_args(SlotName)
TOTAL_WEIGHT = 100
"""Slot weights are percents of a service's traffic and sum to this."""

Strategy = Literal["all-at-once", "canary", "linear"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
MAX_STEP_PERCENT = 50
"""A canary or a linear step moves at most half the traffic (more is not a guarded rollout)."""

PROD_MIN_REPLICAS = 2
"""Replicas every slot that carries traffic runs in prod (one instance is a single point of failure)."""


@dataclass(frozen=True)
class SlotSpec:
    """One slot of a service: what it runs, on what capacity, and its share of traffic."""

    image: pulumi.Input[str]
    """Container image, pinned by tag or digest (`<registry>/<repository>:<tag>` or `...@sha256:<digest>`)."""
    model_uri: pulumi.Input[str]
    """The model artifact in the target's own scheme (`s3://...` on AWS, `gs://...` on GCP, ...)."""
    model_version: str
    """Model version this slot serves (passed to the container as MODEL_VERSION)."""
    instance_type: str
    """Machine per replica in the target's catalog (SageMaker `ml.*`, Vertex machine type, Azure SKU, ...)."""
    instance_count: int = 1
    """Replicas; also the autoscaling floor."""
    weight: int = 0
    """Share of traffic, percent (both slots sum to 100)."""


class Weighted(Protocol):
    """Anything with a slot's weight and replica count (a `SlotSpec`, a slot of the stack config)."""

    @property
    def weight(self) -> int: ...

    @property
    def instance_count(self) -> int: ...


class SlotState(enum.Enum):
    """What a target does with a slot."""

    SERVING = "serving"
    """Deployed and carrying traffic (weight > 0)."""
    IDLE = "idle"
    """Deployed at weight 0: ready for an instant cut-over, costs its replicas (`keep_warm`)."""
    NOT_DEPLOYED = "not-deployed"
    """Weight 0 and not kept warm: no replicas; bringing it back deploys it first."""


def takes_traffic(weight: float) -> bool:
    """True when a slot with this weight receives requests."""
    return weight > 0


def slot_state(name: str, weight: int, live: str, keep_warm: bool) -> SlotState:
    """Whether a slot is deployed: slots with traffic and the live slot always, weight-0 slots when kept warm."""
    if takes_traffic(weight):
        return SlotState.SERVING
    return SlotState.IDLE if keep_warm or name == live else SlotState.NOT_DEPLOYED


def deployed_slots(weights: Mapping[str, int], live: str, keep_warm: bool) -> tuple[str, ...]:
    """The slots a target deploys, blue before green (a stable order for content hashes)."""
    return tuple(name for name in SLOT_NAMES if name in weights
                 and slot_state(name, weights[name], live, keep_warm) is not SlotState.NOT_DEPLOYED)


def slot_problems(slots: Mapping[str, Weighted], live: str, max_instances: int) -> list[str]:
    """Everything wrong with a service's slots under the shared rules (empty when valid).

    `max_instances` is the service's autoscaling ceiling: no slot may start above it.
    """
    problems = []
    missing = [s for s in SLOT_NAMES if s not in slots]
    unknown = sorted(set(slots) - set(SLOT_NAMES))
    if missing:
        problems.append(f"slots must define both blue and green; missing {', '.join(missing)}")
    if unknown:
        problems.append(f"only blue and green slots exist; got {', '.join(unknown)}")
    if live not in SLOT_NAMES:
        problems.append(f"live must be blue or green, got {live!r}")
    for name, slot in sorted(slots.items()):
        if not 0 <= slot.weight <= TOTAL_WEIGHT:
            problems.append(f"slot {name}: weight {slot.weight} must be 0..{TOTAL_WEIGHT}")
        if not 1 <= slot.instance_count <= max_instances:
            problems.append(f"slot {name}: instance count {slot.instance_count} must be 1..{max_instances} "
                            "(the autoscaling ceiling, maxInstances)")
    total = sum(slot.weight for slot in slots.values())
    if not missing and total != TOTAL_WEIGHT:
        problems.append(f"slot weights must sum to {TOTAL_WEIGHT}, got {total} (blue + green)")
    if live in slots and not takes_traffic(slots[live].weight):
        problems.append(f"the live slot {live!r} has weight 0; give it traffic or switch `live`")
    return problems


@dataclass(frozen=True)
class RolloutSpec:
    """How traffic moves to a new version: the strategy, its step, the bake time and rollback."""

    strategy: Strategy = "all-at-once"
    """all-at-once (dev), canary (a slice first, then the rest) or linear (equal steps)."""
    canary_percent: int = 10
    """Canary share of traffic, percent (1..50)."""
    step_percent: int = 20
    """Linear step, percent (1..50; SageMaker needs 10..50)."""
    wait_seconds: int = 600
    """Bake time after each traffic step, watched by the rollback alarms."""
    termination_wait_seconds: int = 600
    """Old fleet kept after the last step, ready for rollback."""
    auto_rollback: bool = True
    """Roll back automatically when a rollback alarm fires during the rollout."""

    @property
    def steps(self) -> tuple[int, ...]:
        """The traffic schedule; see `traffic_steps`."""
        return traffic_steps(self.strategy, self.canary_percent, self.step_percent)


def traffic_steps(strategy: str, canary_percent: int = 10, step_percent: int = 20) -> tuple[int, ...]:
    """Percent of traffic on the new version after each step; the last step is always 100.

    all-at-once -> (100,); canary 10 -> (10, 100); linear 20 -> (20, 40, 60, 80, 100); linear 30 ->
    (30, 60, 90, 100). Raises ValueError for an unknown strategy or a step outside 1..50.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"rollout strategy {strategy!r}: expected one of {', '.join(STRATEGIES)}")
    if strategy == "all-at-once":
        return (TOTAL_WEIGHT,)
    step = canary_percent if strategy == "canary" else step_percent
    if not 1 <= step <= MAX_STEP_PERCENT:
        raise ValueError(f"rollout {strategy} step {step}% must be 1..{MAX_STEP_PERCENT}")
    if strategy == "canary":
        return (step, TOTAL_WEIGHT)
    return tuple(min(step * n, TOTAL_WEIGHT) for n in range(1, math.ceil(TOTAL_WEIGHT / step) + 1))
