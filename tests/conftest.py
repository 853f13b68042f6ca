"""Shared fixtures: plan a stack or a single component under the Pulumi SDK's mocks.

    def test_bucket_is_versioned(plan_component):
        plan = plan_component(lambda: ArtifactStore("art", ArtifactStoreArgs(...)))
        versioning = plan.of_type("aws:s3/bucketVersioning:BucketVersioning")

    def test_prod_protects_bucket(stack_plan):
        plan = stack_plan("prod")

Every call runs in a fresh Pulumi runtime state, so tests are isolated and run in any order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.plan.engine import Plan, plan_program, plan_stack
from infra.plan.fakes import Cloud

_STACK_PLANS: dict[str, Plan] = {}


@pytest.fixture
def plan_component() -> Callable[..., Plan]:
    """Run `build()` as a Pulumi program (a preview under mocks) and return what it registered."""

    def run(build: Callable[[], Any], *, stack: str = "dev", config: dict[str, str] | None = None,
            cloud: Cloud | None = None) -> Plan:
        return plan_program(build, stack=stack, config=config, cloud=cloud)

    return run


@pytest.fixture
def stack_plan() -> Callable[[str], Plan]:
    """The plan of a committed stack (computed once per test session; treat it as read-only)."""

    def get(stack: str) -> Plan:
        if stack not in _STACK_PLANS:
            _STACK_PLANS[stack] = plan_stack(stack)
        return _STACK_PLANS[stack]

    return get
