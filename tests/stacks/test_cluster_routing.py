"""Weighted routing on every cluster (issue 13: "a change of weights is a plan diff of the route alone")."""

from __future__ import annotations

import pytest

from infra.plan.diff import diff_plans
from infra.plan.engine import plan_stack
from infra.stackfile import PROJECT_ROOT

ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"


@pytest.mark.parametrize("stack", ["eks-dev", "gke-dev", "aks-dev"])
def test_a_weight_change_is_a_plan_diff_of_the_route_alone(stack_plan, tmp_path, stack):
    text = (PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    assert text.count("weight: 80") == 1 and text.count("weight: 20") == 1
    moved = tmp_path / f"Pulumi.{stack}.yaml"
    moved.write_text(text.replace("weight: 80", "weight: 50").replace("weight: 20", "weight: 50"), encoding="utf-8")
    diff = diff_plans(stack_plan(stack), plan_stack(stack, config_file=moved))
    assert (diff.added, diff.removed) == ([], [])
    assert [(c.type, c.action) for c in diff.changed] == [(ROUTE, "update")]
    assert {v.path for v in diff.changed[0].values} == {"inputs.spec.rules[0].backendRefs[0].weight",
                                                        "inputs.spec.rules[0].backendRefs[1].weight"}
