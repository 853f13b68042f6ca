"""How SageMaker replaces an endpoint's fleet: the blue/green update policy, from the rollout args.

`deployment_plan` turns the shared `RolloutSpec` (components/serving.py) into the numbers the endpoint's
`deployment_config` needs (traffic routing type, canary/linear step, bake and termination waits, the
maximum execution timeout). `rollout_problems` checks the spec against the constraints of SageMaker's
DeploymentConfig (botocore `sagemaker` shapes TrafficRoutingConfig, BlueGreenUpdatePolicy, CapacitySize and
the deployment-guardrails docs) and against what the provider can wait for:

- terraform-provider-aws waits a fixed 60 minutes for the endpoint to be `InService` after CreateEndpoint /
  UpdateEndpoint (PR #39090 raised it from 10); the resource has no `timeouts` block, so Pulumi's
  `custom_timeouts` are ignored (issue #39040). A rollout that takes longer fails `pulumi up` while
  SageMaker goes on updating. So the whole update (provisioning, every bake, the termination wait) must fit.
- The provider validates `maximum_execution_timeout_in_seconds` as 600..14400 (IntBetween in
  internal/service/sagemaker/endpoint.go), narrower than the API's 28800.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from components.aws.endpoint_variants import Variant
from components.serving import STRATEGIES, RolloutSpec

# SageMaker's bounds (botocore: WaitIntervalInSeconds, TerminationWaitInSeconds, MaximumExecutionTimeoutInSeconds).
WAIT_BOUNDS = (0, 3600)
TERMINATION_BOUNDS = (0, 3600)
EXECUTION_TIMEOUT_BOUNDS = (600, 14400)  # the provider's validation; the API accepts up to 28800
PROVIDER_WAIT_SECONDS = 3600
"""How long the provider waits for InService after an endpoint create/update (fixed; custom timeouts ignored)."""
CANARY_BOUNDS = (1, 50)  # canary size <= 50% of the new fleet
LINEAR_BOUNDS = (10, 50)  # linear step 10-50% of the new fleet
# Time to provision and health-check the new fleet before traffic moves (large GPU images take a while).
PROVISIONING_ALLOWANCE_SECONDS = 1800


@dataclass(frozen=True)
class DeploymentPlan:
    """The resolved blue/green update policy."""

    routing_type: str
    """ALL_AT_ONCE, CANARY or LINEAR."""
    wait_seconds: int
    canary_percent: int | None
    step_percent: int | None
    termination_wait_seconds: int
    maximum_execution_timeout_seconds: int
    """The planned duration (at least SageMaker's 600 s): SageMaker gives up and rolls back before the provider."""


def traffic_shifts(rollout: RolloutSpec) -> int:
    """How many baked traffic shifts a deployment makes (each followed by `wait_seconds`): its traffic steps."""
    return len(rollout.steps)


def rollout_seconds(rollout: RolloutSpec) -> int:
    """How long one blue/green update takes: provisioning, a bake after every shift, the termination wait."""
    return (PROVISIONING_ALLOWANCE_SECONDS + traffic_shifts(rollout) * rollout.wait_seconds
            + rollout.termination_wait_seconds)


def duration_problem(rollout: RolloutSpec) -> str | None:
    """The arithmetic of a rollout longer than the provider waits for, with the largest bake that fits; else None."""
    total = rollout_seconds(rollout)
    if total <= PROVIDER_WAIT_SECONDS:
        return None
    shifts = traffic_shifts(rollout)
    fits = max(0, (PROVIDER_WAIT_SECONDS - PROVISIONING_ALLOWANCE_SECONDS - rollout.termination_wait_seconds)
               // shifts)
    return (f"{PROVISIONING_ALLOWANCE_SECONDS}s provisioning + {shifts} traffic shift(s) x waitSeconds "
            f"{rollout.wait_seconds}s + terminationWaitSeconds {rollout.termination_wait_seconds}s = {total}s, "
            f"more than the {PROVIDER_WAIT_SECONDS}s the provider waits for the endpoint to be InService "
            "(terraform-provider-aws PR #39090; custom timeouts are ignored, #39040): `pulumi up` would fail "
            f"while SageMaker goes on updating. Set waitSeconds <= {fits}, shorten terminationWaitSeconds, "
            "or use fewer steps (a larger stepPercent, or canary)")


def deployment_plan(rollout: RolloutSpec) -> DeploymentPlan:
    """The update policy for `rollout` (call `rollout_problems` first; this assumes valid args)."""
    low, high = EXECUTION_TIMEOUT_BOUNDS
    execution = min(high, max(low, rollout_seconds(rollout)))
    return DeploymentPlan(
        routing_type={"all-at-once": "ALL_AT_ONCE", "canary": "CANARY", "linear": "LINEAR"}[rollout.strategy],
        wait_seconds=rollout.wait_seconds,
        canary_percent=rollout.canary_percent if rollout.strategy == "canary" else None,
        step_percent=rollout.step_percent if rollout.strategy == "linear" else None,
        termination_wait_seconds=rollout.termination_wait_seconds,
        maximum_execution_timeout_seconds=execution,
    )


def _outside(value: int, bounds: tuple[int, int]) -> bool:
    return not bounds[0] <= value <= bounds[1]


def rollout_problems(rollout: RolloutSpec, variants: Sequence[Variant]) -> list[str]:
    """Everything SageMaker would reject (or silently ignore) about this rollout for these variants."""
    problems = []
    if rollout.strategy not in STRATEGIES:
        return [f"rollout.strategy: expected one of {', '.join(STRATEGIES)}, got {rollout.strategy!r}"]
    if _outside(rollout.wait_seconds, WAIT_BOUNDS):
        problems.append(f"rollout.wait_seconds: {rollout.wait_seconds} must be {WAIT_BOUNDS[0]}..{WAIT_BOUNDS[1]}")
    if _outside(rollout.termination_wait_seconds, TERMINATION_BOUNDS):
        problems.append(f"rollout.termination_wait_seconds: {rollout.termination_wait_seconds} must be "
                        f"{TERMINATION_BOUNDS[0]}..{TERMINATION_BOUNDS[1]}")
    if rollout.strategy == "canary" and _outside(rollout.canary_percent, CANARY_BOUNDS):
        problems.append(f"rollout.canary_percent: {rollout.canary_percent} must be "
                        f"{CANARY_BOUNDS[0]}..{CANARY_BOUNDS[1]} (SageMaker: canary size <= 50% of the new fleet)")
    if rollout.strategy == "linear" and _outside(rollout.step_percent, LINEAR_BOUNDS):
        problems.append(f"rollout.step_percent: {rollout.step_percent} must be {LINEAR_BOUNDS[0]}..{LINEAR_BOUNDS[1]} "
                        "(SageMaker: linear step 10-50% of the new fleet)")
    if not problems and (too_long := duration_problem(rollout)):
        problems.append(f"rollout: {too_long}")
    if rollout.strategy != "all-at-once":
        for v in variants:
            if v.instance_type.startswith("ml.inf1."):
                problems.append(f"rollout.strategy: {rollout.strategy} is ignored for inf1 instances (variant "
                                f"{v.name}); SageMaker falls back to all-at-once without baking, so say so: "
                                "strategy all-at-once")
            elif v.weight > 0 and v.instance_count < 2:
                problems.append(f"rollout.strategy: {rollout.strategy} needs at least 2 instances in variant "
                                f"{v.name} (a step must be <= 50% of the new fleet; one instance cannot be split)")
    return problems
