"""Pure functions behind ModelEndpoint: variants, config content, volume keys, rollout plans, alarm specs."""

from __future__ import annotations

import pytest

from components.aws.endpoint_alarms import error_rate_alarm, latency_alarm, utilization_alarm
from components.aws.endpoint_rollout import deployment_plan, rollout_problems
from components.aws.endpoint_variants import (
    Variant,
    config_content,
    deployed_variants,
    sagemaker_slot_problems,
    volume_kms_supported,
)
from components.serving import RolloutSpec, SlotSpec


def slots(blue: int = 100, green: int = 0, instance_type: str = "ml.m5.large", **kw) -> dict[str, SlotSpec]:
    return {"blue": SlotSpec("img:1", "s3://b/models/x/1/model.tar.gz", "1", instance_type, weight=blue, **kw),
            "green": SlotSpec("img:2", "s3://b/models/x/2/model.tar.gz", "2", instance_type, weight=green, **kw)}


def test_both_weighted_slots_become_variants_named_after_them():
    variants = deployed_variants(slots(90, 10), "blue", keep_warm=False)
    assert [(v.name, v.weight) for v in variants] == [("blue", 90), ("green", 10)]


@pytest.mark.parametrize(("before", "after"), [((100, 0), (90, 10)), ((90, 10), (0, 100)), ((0, 100), (100, 0))])
def test_every_promotion_step_keeps_the_same_variant_names(before, after):
    """SageMaker: "the new endpoint configuration must have the same variant names as the current one" in a
    blue/green update with guardrails (docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-
    exclusions.html), and a variant registered with Application Auto Scaling cannot be removed ("remove the
    scaling policy and deregister the scalable target before updating", endpoint-auto-scaling-
    delete.html). Pulumi deletes the scalable target only after the endpoint update, so green 0 -> 10 must
    not add a variant and finishing at 0/100 must not remove one."""
    live = {(100, 0): "blue", (90, 10): "blue", (0, 100): "green"}
    names = [[v.name for v in deployed_variants(slots(*w), live[w], keep_warm=False)] for w in (before, after)]
    assert names[0] == names[1] == ["blue", "green"]


def test_idle_slot_runs_one_instance_unless_kept_warm():
    idle = deployed_variants(slots(100, 0, instance_count=2), "blue", keep_warm=False)[1]
    assert (idle.name, idle.weight, idle.instance_count) == ("green", 0, 1)
    warm = deployed_variants(slots(100, 0, instance_count=2), "blue", keep_warm=True)[1]
    assert warm.instance_count == 2


def test_weight_zero_slot_is_kept_when_warm():
    variants = deployed_variants(slots(100, 0), "blue", keep_warm=True)
    assert [(v.name, v.weight) for v in variants] == [("blue", 100), ("green", 0)]


def test_config_content_changes_with_weight():
    models = {"blue": "m-blue", "green": "m-green"}
    a = config_content(deployed_variants(slots(90, 10), "blue", False), models, {})
    b = config_content(deployed_variants(slots(80, 20), "blue", False), models, {})
    assert a != b


def test_config_content_is_stable_for_same_input():
    models = {"blue": "m-blue", "green": "m-green"}
    variants = deployed_variants(slots(90, 10), "blue", False)
    assert config_content(variants, models, {"k": 1}) == config_content(variants, dict(models), {"k": 1})


@pytest.mark.parametrize("instance_type", ["ml.g5.xlarge", "ml.g4dn.xlarge", "ml.p4d.24xlarge", "ml.m5d.large",
                                           "ml.g6.xlarge", "ml.p5.48xlarge"])
def test_instance_store_types_take_no_volume_key(instance_type):
    assert not volume_kms_supported(instance_type)


@pytest.mark.parametrize("instance_type", ["ml.m5.large", "ml.c5.xlarge", "ml.inf2.xlarge", "ml.p3.2xlarge"])
def test_ebs_types_take_a_volume_key(instance_type):
    assert volume_kms_supported(instance_type)


def test_valid_slots_have_no_problems():
    assert sagemaker_slot_problems(slots(90, 10)) == []


def test_unknown_instance_type_is_reported_with_family_hint():
    problems = sagemaker_slot_problems(slots(instance_type="ml.m5.huge"))
    assert any("ml.m5.huge" in p and "ml.m5.large" in p for p in problems)


def test_ec2_name_without_ml_prefix_is_rejected():
    assert any("g5.xlarge" in p for p in sagemaker_slot_problems(slots(instance_type="g5.xlarge")))


def test_model_outside_s3_is_rejected():
    bad = {**slots(), "green": SlotSpec("img:2", "gs://b/models/x/2/model.tar.gz", "2", "ml.m5.large")}
    assert sagemaker_slot_problems(bad) == ["slots.green.model_uri: 'gs://b/models/x/2/model.tar.gz' must be "
                                            "an s3:// URL"]


def test_all_at_once_plan():
    plan = deployment_plan(RolloutSpec())
    assert (plan.routing_type, plan.canary_percent, plan.step_percent) == ("ALL_AT_ONCE", None, None)


def test_canary_plan_carries_size_and_wait():
    plan = deployment_plan(RolloutSpec(strategy="canary", canary_percent=10, wait_seconds=900))
    assert (plan.routing_type, plan.canary_percent, plan.wait_seconds) == ("CANARY", 10, 900)


def test_linear_plan_carries_step():
    plan = deployment_plan(RolloutSpec(strategy="linear", step_percent=25))
    assert (plan.routing_type, plan.step_percent) == ("LINEAR", 25)


def test_execution_timeout_covers_every_wait():
    rollout = RolloutSpec(strategy="linear", step_percent=50, wait_seconds=300, termination_wait_seconds=300)
    plan = deployment_plan(rollout)
    assert plan.maximum_execution_timeout_seconds == 1800 + 2 * 300 + 300


def test_execution_timeout_respects_sagemaker_minimum():
    plan = deployment_plan(RolloutSpec(wait_seconds=0, termination_wait_seconds=0))
    assert 600 <= plan.maximum_execution_timeout_seconds <= 14400


def _variants(count: int = 2, instance_type: str = "ml.m5.large") -> list[Variant]:
    return [Variant("blue", 100, instance_type, count)]


def test_canary_above_half_is_rejected():
    assert any("canary_percent" in p for p in rollout_problems(RolloutSpec(strategy="canary", canary_percent=60),
                                                               _variants()))


def test_linear_step_below_ten_is_rejected():
    assert any("step_percent" in p for p in rollout_problems(RolloutSpec(strategy="linear", step_percent=5),
                                                             _variants()))


def test_wait_above_an_hour_is_rejected():
    assert any("wait_seconds" in p for p in rollout_problems(RolloutSpec(wait_seconds=3601), _variants()))


def test_waits_beyond_the_providers_wait_are_rejected():
    rollout = RolloutSpec(strategy="linear", step_percent=10, wait_seconds=3600)
    assert any("the provider waits" in p for p in rollout_problems(rollout, _variants()))


def test_canary_on_one_instance_is_rejected():
    assert any("at least 2 instances" in p for p in rollout_problems(RolloutSpec(strategy="canary"), _variants(1)))


def test_canary_on_inf1_is_rejected():
    problems = rollout_problems(RolloutSpec(strategy="canary"), _variants(2, "ml.inf1.xlarge"))
    assert any("inf1" in p for p in problems)


def test_error_rate_alarm_divides_errors_by_invocations():
    spec = error_rate_alarm("k", "n", "ep", "blue", status="5XX", threshold_percent=2)
    expression = next(q for q in spec.queries if q.expression)
    assert expression.return_data and "errors" in expression.expression and "invocations" in expression.expression
    assert spec.threshold == 2 and spec.treat_missing_data == "notBreaching"


def test_latency_alarm_threshold_is_in_microseconds():
    spec = latency_alarm("k", "n", "ep", "blue", p99_ms=250)
    assert (spec.metric_name, spec.extended_statistic, spec.threshold) == ("ModelLatency", "p99", 250_000)


def test_cpu_alarm_scales_with_cores():
    spec = utilization_alarm("k", "n", "ep", "blue", metric="CPUUtilization", threshold_percent=80, units=4)
    assert spec.threshold == 320 and spec.namespace == "/aws/sagemaker/Endpoints"
