"""ContainerRegistry: one immutable, scanned, KMS-encrypted ECR repository per service."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.aws.container_registry import (
    ContainerRegistry,
    ContainerRegistryArgs,
    ecr_repository_arn,
    lifecycle_policy,
)
from components.aws.iam import policy_document
from components.aws.naming import check_aws_name
from components.naming import Namer
from infra.plan.engine import plan_program

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/stack"
REPO = "aws:ecr/repository:Repository"


def _args(env: str = "dev", **overrides) -> ContainerRegistryArgs:
    return ContainerRegistryArgs(**{"namer": Namer("mlops", env), "services": ("fraud", "churn"),
                                    "kms_key_arn": KEY_ARN, **overrides})


def _build(args: ContainerRegistryArgs) -> None:
    registry = ContainerRegistry("reg", args)
    pulumi.export("pull", policy_document(registry.grant_pull("fraud")))


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: _build(_args(allow_force_delete=True)), stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(lambda: _build(_args("prod", protect=True)), stack="prod")


def _repos(plan) -> dict[str, dict]:
    return {r["inputs"]["name"]: r for r in plan.of_type(REPO)}


def test_one_repository_per_service_with_valid_names(dev):
    names = sorted(_repos(dev))
    assert names == ["mlops-dev-churn", "mlops-dev-fraud"]
    assert all(check_aws_name("ecr-repository", n) is None for n in names)


def test_tags_are_immutable(dev):
    assert {r["inputs"]["imageTagMutability"] for r in dev.of_type(REPO)} == {"IMMUTABLE"}


def test_images_are_scanned_on_push(dev):
    assert all(r["inputs"]["imageScanningConfiguration"] == {"scanOnPush": True} for r in dev.of_type(REPO))


def test_repositories_use_the_stack_key(dev):
    assert all(r["inputs"]["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]
               for r in dev.of_type(REPO))


def test_every_repository_has_the_lifecycle_policy(dev):
    policies = dev.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert sorted(p["inputs"]["repository"] for p in policies) == ["mlops-dev-churn", "mlops-dev-fraud"]
    assert {p["inputs"]["policy"] for p in policies} == {lifecycle_policy(7, 30)}


def test_lifecycle_expires_untagged_after_n_days():
    untagged = json.loads(lifecycle_policy(5, 20))["rules"][0]["selection"]
    assert untagged == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                        "countNumber": 5}


def test_lifecycle_keeps_the_newest_tagged_images_with_a_tag_pattern():
    tagged = json.loads(lifecycle_policy(5, 20))["rules"][1]["selection"]
    assert tagged == {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                      "countNumber": 20}


def test_dev_may_force_delete_and_is_not_protected(dev):
    assert all(r["inputs"]["forceDelete"] and not r["protect"] for r in dev.of_type(REPO))


def test_prod_protects_retains_and_never_force_deletes(prod):
    assert all(r["protect"] and r["retainOnDelete"] and not r["inputs"]["forceDelete"] for r in prod.of_type(REPO))


def test_grant_pull_is_scoped_to_the_services_repository(dev):
    statements = {s["Sid"]: s for s in json.loads(dev.outputs["pull"])["Statement"]}
    assert statements["PullFraud"]["Resource"] == "arn:aws:ecr:us-east-1:123456789012:repository/mlops-dev-fraud"
    assert statements["EcrAuthorizationToken"]["Action"] == ["ecr:GetAuthorizationToken"]


def test_grant_pull_has_no_push_actions(dev):
    actions = {a for s in json.loads(dev.outputs["pull"])["Statement"] for a in s["Action"]}
    assert not {a for a in actions if a.startswith(("ecr:Put", "ecr:Upload", "ecr:Complete", "ecr:Initiate"))}


def test_force_delete_conflicts_with_protect():
    with pytest.raises(ValueError, match="allow_force_delete=True with protect=True"):
        _args(protect=True, allow_force_delete=True)


def test_duplicate_services_are_rejected():
    with pytest.raises(ValueError, match="duplicates"):
        _args(services=("fraud", "fraud"))


@pytest.mark.parametrize(("image", "arn"), [
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/ranker",
     "arn:aws:ecr:eu-west-1:123456789012:repository/team/ranker"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:1.2.0",
     "arn:aws:ecr:us-east-1:123456789012:repository/ranker"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker@sha256:" + "a" * 64,
     "arn:aws:ecr:us-east-1:123456789012:repository/ranker"),
])
def test_ecr_repository_arn_of_an_image(image, arn):
    assert ecr_repository_arn(image) == arn


def test_a_non_ecr_image_is_refused():
    with pytest.raises(ValueError, match="SageMaker pulls from ECR only"):
        ecr_repository_arn("ghcr.io/acme/ranker:1.2.0")
