"""The plan benchmark's floor must register what the plan registers, or its ratio compares different work."""

from __future__ import annotations

import importlib.util
import json

import pytest

from infra.plan.preview import Plan, plan_program
from infra.stackfile import PROJECT_ROOT, stack_names


def _floor_module():
    spec = importlib.util.spec_from_file_location("floor", PROJECT_ROOT / "benchmarks" / "floor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("stack", stack_names())
def test_the_floor_registers_the_same_resources_as_the_plan(stack: str):
    plan = Plan.from_dict(json.loads((PROJECT_ROOT / "plans" / f"{stack}.json").read_text()))
    floor = plan_program(_floor_module().floor_program(plan), stack=stack, project=plan.project)
    assert sorted((r["urn"], r["type"]) for r in floor.resources) == sorted(
        (r["urn"], r["type"]) for r in plan.resources)
