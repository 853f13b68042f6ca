from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from components.aws import sagemaker_iam
from components.aws.scope import partition_of


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"), ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
])
def test_partition_follows_the_region(region, partition):
    assert partition_of(region) == partition


def test_known_region_and_account_need_no_provider_call(plan_component, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("blocking invoke")

    monkeypatch.setattr(aws, "get_region", refuse)
    monkeypatch.setattr(aws, "get_caller_identity", refuse)
    scopes = []

    def program() -> None:
        parent = pulumi.ComponentResource("mlops:test:Parent", "p")
        scopes.append(sagemaker_iam.resolve_scope("eu-west-1", "210987654321", parent))

    plan_component(program)
    assert scopes == [sagemaker_iam.Scope("aws", "eu-west-1", "210987654321")]


def test_missing_values_come_from_the_provider(plan_component):
    scopes = []

    def program() -> None:
        parent = pulumi.ComponentResource("mlops:test:Parent", "p")
        scopes.append(sagemaker_iam.resolve_scope(None, None, parent))

    plan_component(program)
    assert scopes == [sagemaker_iam.Scope("aws", "us-east-1", "123456789012")]


def test_a_stack_asks_the_provider_for_its_account_once(monkeypatch):
    from collections import Counter

    from infra.plan.engine import plan_stack

    asked: Counter[str] = Counter()
    for fn in ("get_region", "get_region_output", "get_partition", "get_partition_output", "get_caller_identity",
               "get_caller_identity_output"):
        real = getattr(aws, fn)

        def counting(*args, _real=real, _fn=fn, **kwargs):
            asked[_fn] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(aws, fn, counting)
    plan_stack("dev")
    assert asked == Counter({"get_caller_identity": 1})
