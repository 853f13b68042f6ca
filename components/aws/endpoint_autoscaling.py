"""Application Auto Scaling for SageMaker production variants (target tracking on invocations).

One scalable target per variant (`endpoint/<endpoint>/variant/<variant>`, dimension
`sagemaker:variant:DesiredInstanceCount`, min = the slot's instance count, max from args) and one
target-tracking policy on `SageMakerVariantInvocationsPerInstance` (invocations per instance per minute).

Caveat (SageMaker): an endpoint update that changes the instance type of a variant registered with
Application Auto Scaling fails; change instance types in two steps (see docs/sagemaker-serving.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.endpoint_variants import Variant

SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_PER_INSTANCE = "SageMakerVariantInvocationsPerInstance"


@dataclass(frozen=True)
class AutoscalingArgs:
    """Target tracking for every deployed variant."""

    max_instances: int = 4
    """Ceiling per variant (the floor is the slot's instance count)."""
    invocations_per_instance: int = 100
    """Target invocations per instance per minute; more scales out."""
    scale_in_cooldown_seconds: int = 300
    """Wait after a scale-in before the next (slow: avoid flapping)."""
    scale_out_cooldown_seconds: int = 60
    """Wait after a scale-out before the next (fast: follow load)."""
    enabled: bool = True
    """Register the variants with Application Auto Scaling."""


def resource_id(endpoint_name: str, variant: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{variant}"


def autoscaling_problems(args: AutoscalingArgs, variants: Sequence[Variant]) -> list[str]:
    problems = []
    if args.invocations_per_instance < 1:
        problems.append("autoscaling.invocations_per_instance must be at least 1")
    for v in variants:
        if args.enabled and v.instance_count > args.max_instances:
            problems.append(f"autoscaling.max_instances ({args.max_instances}) is below variant {v.name}'s "
                            f"instance count ({v.instance_count})")
    return problems


def scale_variants(name: str, endpoint_name: pulumi.Output[str], variants: Sequence[Variant],
                   args: AutoscalingArgs, tags: dict[str, str], parent: pulumi.Resource,
                   ) -> list[aws.appautoscaling.Target]:
    """A scalable target and a target-tracking policy per variant, children of `parent`."""
    targets = []
    for v in variants:
        target = aws.appautoscaling.Target(
            f"{name}-{v.name}-scaling",
            service_namespace="sagemaker",
            resource_id=endpoint_name.apply(lambda n, variant=v.name: resource_id(n, variant)),
            scalable_dimension=SCALABLE_DIMENSION,
            min_capacity=v.instance_count,
            max_capacity=args.max_instances,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        aws.appautoscaling.Policy(
            f"{name}-{v.name}-invocations",
            name=endpoint_name.apply(lambda n, variant=v.name: f"{n}-{variant}-invocations-per-instance"),
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(args.invocations_per_instance),
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type=INVOCATIONS_PER_INSTANCE,
                ),
                scale_in_cooldown=args.scale_in_cooldown_seconds,
                scale_out_cooldown=args.scale_out_cooldown_seconds,
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        targets.append(target)
    return targets
