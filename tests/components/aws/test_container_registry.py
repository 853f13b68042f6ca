"""ContainerRegistry: one immutable, scanned, KMS-encrypted ECR repository per service."""

from __future__ import annotations

import fnmatch
import json
import re

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


def _expired(policy: str, pushed: list[str]) -> set[str]:
    """ECR's documented evaluation (LifecyclePolicies.html, "Lifecycle policy evaluation rules") of count rules on
    single-tag images pushed oldest first: rules apply lowest priority first; an image matching a higher-priority
    rule's tag filter is never expired by a lower one, yet still counts towards the lower rule's N."""
    claimed: set[str] = set()
    expired: set[str] = set()
    for rule in sorted(json.loads(policy)["rules"], key=lambda r: r["rulePriority"]):
        selection = rule["selection"]
        if selection["tagStatus"] != "tagged":
            continue
        matched = [t for t in pushed if all(fnmatch.fnmatchcase(t, p) for p in selection["tagPatternList"])]
        beyond = list(reversed(matched))[selection["countNumber"]:]  # newest first, beyond the N kept
        expired |= {t for t in beyond if t not in claimed}
        claimed |= set(matched)
    return expired


def test_a_pinned_tag_outside_the_newest_n_is_never_expired():
    """Prod blue pins `1.4.0`; 30 newer tags pushed after it would expire it under the count rule alone, and every
    new SageMaker instance would then fail to pull (CannotPullContainerError)."""
    pushed = ["1.4.0", *(f"1.4.{i}" for i in range(1, 31)), "1.5.0"]
    assert _expired(lifecycle_policy(7, 30), pushed) == {"1.4.0", "1.4.1"}  # the count rule alone
    # Kept: 1.4.0 stays; the oldest unpinned tag still goes (kept images count among the N).
    assert _expired(lifecycle_policy(7, 30, ["1.5.0", "1.4.0"]), pushed) == {"1.4.1"}


def test_kept_tag_rules_come_first_with_exact_patterns_and_valid_counts():
    """ECR validates the policy text on PutLifecyclePolicy (botocore has no schema for it): unique priorities,
    `tagged` rules need a pattern list and `untagged` none, at most four `*` per pattern, countNumber >= 1
    (lifecycle_policy_parameters.html). Several patterns in one list select images carrying all of them, so each
    kept tag has its own rule."""
    rules = json.loads(lifecycle_policy(7, 30, ["1.5.0", "1.4.0", "1.4.0"]))["rules"]
    priorities = [r["rulePriority"] for r in rules]
    assert len(set(priorities)) == len(priorities) and all(p >= 1 for p in priorities)
    # Listed in ascending priority: ECR returns them sorted, and an unsorted policy text shows a diff on every
    # update (pulumi.com/registry/packages/aws/api-docs/ecr/lifecyclepolicy, note on rulePriority order).
    assert priorities == sorted(priorities)
    by_priority = sorted(rules, key=lambda r: r["rulePriority"])
    kept = [r["selection"]["tagPatternList"] for r in by_priority[:2]]
    assert kept == [["1.4.0"], ["1.5.0"]]
    assert [r["selection"]["tagStatus"] for r in by_priority[2:]] == ["untagged", "tagged"]
    assert by_priority[-1]["selection"]["tagPatternList"] == ["*"]
    for rule in rules:
        selection = rule["selection"]
        assert rule["action"] == {"type": "expire"} and selection["countNumber"] >= 1
        assert ("tagPatternList" in selection) == (selection["tagStatus"] == "tagged")
        assert all(p.count("*") <= 4 for p in selection.get("tagPatternList", []))
        assert (selection["countType"] == "sinceImagePushed") == ("countUnit" in selection)


def test_each_repository_gets_its_own_kept_tags():
    plan = plan_program(lambda: _build(_args(kept_tags={"fraud": ("1.4.0", "1.5.0")})), stack="dev")
    policies = {p["inputs"]["repository"]: p["inputs"]["policy"]
                for p in plan.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")}
    assert policies == {"mlops-dev-fraud": lifecycle_policy(7, 30, ["1.4.0", "1.5.0"]),
                        "mlops-dev-churn": lifecycle_policy(7, 30)}


@pytest.mark.parametrize(("kept", "message"), [
    ({"scoring": ["1.0"]}, "kept_tags names 'scoring', which has no repository"),
    ({"fraud": ["1.*"]}, "kept_tags['fraud'] has '1.*': not a Docker tag"),
    ({"fraud": [f"{'v' * 120}{i:04d}" for i in range(300)]}, "exceeds ECR's 30720 characters"),
])
def test_kept_tags_ecr_would_refuse_are_named(kept, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        _args(kept_tags=kept)
