"""Every stack plans; the committed snapshots are current; planning is deterministic."""

from __future__ import annotations

import pytest

from infra.plan.engine import plan_stack
from infra.plan.sdk import unknown_inputs
from infra.stackfile import PROJECT_ROOT, stack_names

STACKS = stack_names()


def test_dev_and_prod_exist():
    assert {"dev", "prod"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot_is_current(stack, stack_plan):
    committed = PROJECT_ROOT / "plans" / f"{stack}.json"
    assert committed.is_file(), f"plans/{stack}.json is missing: run `python3 tasks.py plans`"
    assert committed.read_text(encoding="utf-8") == stack_plan(stack).to_json(), (
        f"plans/{stack}.json is stale: run `python3 tasks.py plans` and commit the diff")


@pytest.mark.parametrize("stack", STACKS)
def test_planning_twice_is_byte_identical(stack, stack_plan):
    assert plan_stack(stack).to_json() == stack_plan(stack).to_json()


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_belongs_to_a_component(stack, stack_plan):
    plan = stack_plan(stack)
    root = plan.of_type("pulumi:pulumi:Stack")[0]["urn"]
    at_root = [r["name"] for r in plan.resources if r["parent"] == root and r["custom"]]
    assert at_root == [], "resources are declared inside components only"
    components = [r for r in plan.resources if not r["custom"] and r["type"] != "pulumi:pulumi:Stack"]
    assert all(r["type"].startswith("mlops:") for r in components)


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_leaks_into_the_plan(stack, stack_plan):
    plan = stack_plan(stack)
    assert plan.outputs.get("kubeconfig", "[secret]") == "[secret]"  # a stack without a cluster exports none
    assert plan.outputs.get("grafanaAdminPassword", "[secret]") == "[secret]"
    assert "plan-token" not in plan.to_json()


@pytest.mark.parametrize("stack", STACKS)
def test_every_input_is_a_property_the_provider_knows(stack, stack_plan):
    """Top-level input names of every planned resource are arguments of its provider SDK class."""
    unknown = [f"{res['type']}.{name}" for res in stack_plan(stack).resources if res["custom"]
               for name in unknown_inputs(res["type"], res["inputs"])]
    assert unknown == []
