"""The shared serving rules: slot names and weights, what a weight-0 slot means, traffic schedules."""

from __future__ import annotations

import pytest

from components.serving import (
    RolloutSpec,
    SlotSpec,
    SlotState,
    deployed_slots,
    slot_problems,
    slot_state,
    traffic_steps,
)


def slots(blue: int = 100, green: int = 0, count: int = 1) -> dict[str, SlotSpec]:
    return {name: SlotSpec(f"repo:{name}", f"s3://b/models/x/{name}/model.tar.gz", "1", "ml.m5.large", count, weight)
            for name, weight in (("blue", blue), ("green", green))}


def test_valid_slots_have_no_problems():
    assert slot_problems(slots(90, 10), "blue", max_instances=4) == []


def test_weights_must_sum_to_100():
    assert slot_problems(slots(70, 10), "blue", 4) == ["slot weights must sum to 100, got 80 (blue + green)"]


def test_live_slot_must_carry_traffic():
    assert slot_problems(slots(100, 0), "green", 4) == [
        "the live slot 'green' has weight 0; give it traffic or switch `live`"]


def test_both_slots_and_only_blue_and_green():
    problems = slot_problems({"blue": slots()["blue"], "red": slots()["green"]}, "purple", 4)
    assert problems == ["slots must define both blue and green; missing green",
                        "only blue and green slots exist; got red",
                        "live must be blue or green, got 'purple'"]


def test_every_problem_is_collected():
    problems = slot_problems(slots(70, 10, count=9), "green", 4)
    assert [p for p in problems if "instance count 9 must be 1..4" in p] == [
        "slot blue: instance count 9 must be 1..4 (the autoscaling ceiling, maxInstances)",
        "slot green: instance count 9 must be 1..4 (the autoscaling ceiling, maxInstances)"]
    assert "slot weights must sum to 100, got 80 (blue + green)" in problems


def test_weight_outside_percent_is_rejected():
    assert "slot green: weight -5 must be 0..100" in slot_problems(slots(105, -5), "blue", 4)


@pytest.mark.parametrize(("name", "weight", "live", "keep_warm", "state"), [
    ("blue", 90, "blue", False, SlotState.SERVING),
    ("green", 10, "blue", False, SlotState.SERVING),
    ("green", 0, "blue", False, SlotState.NOT_DEPLOYED),
    ("green", 0, "blue", True, SlotState.IDLE),
])
def test_weight_zero_slot_is_idle_only_when_kept_warm(name, weight, live, keep_warm, state):
    assert slot_state(name, weight, live, keep_warm) is state


def test_deployed_slots_are_blue_then_green_and_skip_cold_weight_zero():
    assert deployed_slots({"green": 10, "blue": 90}, "blue", keep_warm=False) == ("blue", "green")
    assert deployed_slots({"blue": 100, "green": 0}, "blue", keep_warm=False) == ("blue",)
    assert deployed_slots({"blue": 0, "green": 100}, "green", keep_warm=True) == ("blue", "green")


@pytest.mark.parametrize(("strategy", "canary", "step", "expected"), [
    ("all-at-once", 10, 20, (100,)),
    ("canary", 10, 20, (10, 100)),
    ("canary", 50, 20, (50, 100)),
    ("linear", 10, 20, (20, 40, 60, 80, 100)),
    ("linear", 10, 30, (30, 60, 90, 100)),
    ("linear", 10, 50, (50, 100)),
])
def test_traffic_steps_end_at_100(strategy, canary, step, expected):
    assert traffic_steps(strategy, canary, step) == expected
    assert RolloutSpec(strategy=strategy, canary_percent=canary, step_percent=step).steps == expected


@pytest.mark.parametrize(("strategy", "canary", "step", "message"), [
    ("blue-green", 10, 20, "expected one of all-at-once, canary, linear"),
    ("canary", 60, 20, "canary step 60% must be 1..50"),
    ("linear", 10, 0, "linear step 0% must be 1..50"),
])
def test_traffic_steps_refuse_what_is_not_a_guarded_rollout(strategy, canary, step, message):
    with pytest.raises(ValueError, match=message):
        traffic_steps(strategy, canary, step)
