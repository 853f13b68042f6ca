"""What verify takes as declared: the plan's inputs, with deployed names put in where the plan cannot know them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.plan.engine import Plan
from infra.verify.declared import ImageRef, Rewrite, declared_endpoints, rewrite_for

ACCOUNT = "210987654321"
REPOSITORY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-fraud-detector"


@pytest.mark.parametrize(("uri", "expected"), [
    ("r.example/repo:1.4.0", ImageRef("r.example/repo", "1.4.0")),
    ("r.example:5000/team/repo", ImageRef("r.example:5000/team/repo")),
    ("r.example:5000/repo:2", ImageRef("r.example:5000/repo", "2")),
    ("r.example/repo@sha256:" + "a" * 64, ImageRef("r.example/repo", None, "sha256:" + "a" * 64)),
    ("r.example/repo:1@sha256:" + "b" * 64, ImageRef("r.example/repo", "1", "sha256:" + "b" * 64)),
])
def test_image_references_split_into_repository_tag_and_digest(uri: str, expected: ImageRef) -> None:
    assert ImageRef.parse(uri) == expected
    assert str(ImageRef.parse(uri)) == uri


def test_ecr_images_name_their_account_region_and_repository() -> None:
    assert ImageRef(REPOSITORY, "1").ecr() == (ACCOUNT, "us-east-1", "mlops-dev-fraud-detector")
    assert ImageRef("ghcr.io/acme/model", "1").ecr() is None


def test_dev_declares_a_pinned_blue_and_the_built_green(stack_plan: Callable[[str], Plan]) -> None:
    plan = stack_plan("dev")
    (endpoint,) = declared_endpoints(plan, rewrite_for(ACCOUNT, plan.outputs, None))

    assert (endpoint.service, endpoint.name) == ("fraud-detector", "mlops-dev-fraud-detector")
    blue, green = endpoint.variants
    assert (blue.name, blue.weight, blue.instance_count, blue.max_instances, blue.model_version) == (
        "blue", 90.0, 1, 4, "7")
    assert blue.image == ImageRef(REPOSITORY, "1.4.0")
    assert blue.model_data_url == f"s3://mlops-dev-artifacts-{ACCOUNT}-us-east-1/models/fraud-detector/7/model.tar.gz"
    # The plan's green model names a fake digest of the build: declared is what the build pushes.
    assert (green.weight, green.model_version, green.image) == (10.0, "8", ImageRef(REPOSITORY, "1.6.0", built=True))
    assert endpoint.rollback_alarms == tuple(f"mlops-dev-fraud-detector-{v}-{k}-rollback"
                                             for v in ("blue", "green") for k in ("5xx", "p99"))


def test_prod_declares_its_idle_slot_as_a_weight_0_variant(stack_plan: Callable[[str], Plan]) -> None:
    plan = stack_plan("prod")
    (endpoint,) = declared_endpoints(plan, rewrite_for(ACCOUNT, plan.outputs, None))

    assert [(v.name, v.weight, v.instance_type, v.instance_count, v.max_instances) for v in endpoint.variants] == [
        ("blue", 100.0, "ml.g5.xlarge", 2, 8), ("green", 0.0, "ml.g5.xlarge", 1, 8)]


def test_the_account_is_replaced_inside_names_and_exported_values_only_as_whole_names() -> None:
    planned = {"artifactBucket": "mlops-dev-artifacts-123456789012-us-east-1", "kubeconfig": "[secret]",
               "endpoints": {"svc": {"name": "mlops-dev-svc", "weights": {"blue": 100}}}}
    deployed = {"artifactBucket": "acme-models", "kubeconfig": "[secret]",
                "endpoints": {"svc": {"name": "acme-svc", "weights": {"blue": 100}}}}
    rewrite = rewrite_for(ACCOUNT, planned, deployed)

    assert rewrite.exported == (("mlops-dev-artifacts-123456789012-us-east-1", "acme-models"),
                                ("mlops-dev-svc", "acme-svc"))
    assert rewrite("s3://mlops-dev-artifacts-123456789012-us-east-1/models/7") == "s3://acme-models/models/7"
    assert rewrite("mlops-dev-svc") == "acme-svc"
    assert rewrite("mlops-dev-svc-blue-5xx-rollback") == "mlops-dev-svc-blue-5xx-rollback"
    assert Rewrite(ACCOUNT)("123456789012.dkr.ecr.us-east-1.amazonaws.com/r") == f"{REPOSITORY.split('/')[0]}/r"
