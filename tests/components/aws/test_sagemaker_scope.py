from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from components.aws import sagemaker_iam


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"), ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
])
def test_partition_follows_the_region(region, partition):
    assert sagemaker_iam.partition_of(region) == partition


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
