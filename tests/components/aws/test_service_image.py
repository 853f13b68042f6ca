"""ServiceImage: build + push to ECR with the registry token, or pin an existing image; never `latest`."""

from __future__ import annotations

import pulumi
import pytest

from components.aws.container_registry import ContainerRegistry, ContainerRegistryArgs
from components.aws.service_image import ServiceImage, ServiceImageArgs
from components.naming import Namer
from infra.plan.engine import plan_program

IMAGE = "docker:index/image:Image"
PINNED = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-fraud:2024.06.1"


def _build() -> None:
    registry = ContainerRegistry("reg", ContainerRegistryArgs(namer=Namer("mlops", "dev"), services=("fraud",),
                                                              kms_key_arn="arn:aws:kms:us-east-1:1:key/k"))
    image = ServiceImage("fraud", ServiceImageArgs(service="fraud", image_tag="3f2c1ab",
                                                   repository_url=registry.repository_urls["fraud"],
                                                   registry_id=registry.registry_id))
    pulumi.export("image_uri", image.image_uri)


@pytest.fixture(scope="module")
def built():
    return plan_program(_build, stack="dev")


def test_builds_the_model_server_dockerfile_from_the_repository_root(built):
    build = built.of_type(IMAGE)[0]["inputs"]["build"]
    assert build == {"context": "services/model_server", "dockerfile": "services/model_server/Dockerfile",
                     "platform": "linux/amd64"}


def test_pushes_the_configured_tag_to_the_services_repository(built):
    name = built.of_type(IMAGE)[0]["inputs"]["imageName"]
    assert name == "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-fraud:3f2c1ab"


def test_registry_password_is_secret(built):
    registry = built.of_type(IMAGE)[0]["inputs"]["registry"]
    assert registry["password"] == "[secret]" and registry["username"] == "AWS"


def test_image_uri_is_digest_pinned(built):
    assert "@sha256:" in built.outputs["image_uri"]


def test_pinned_image_builds_nothing():
    def build() -> None:
        pulumi.export("image_uri", ServiceImage("fraud", ServiceImageArgs(service="fraud", image_uri=PINNED)).image_uri)

    plan = plan_program(build, stack="prod")
    assert not plan.of_type(IMAGE) and plan.outputs["image_uri"] == PINNED


def test_latest_tag_is_refused():
    with pytest.raises(ValueError, match="'latest' is refused"):
        ServiceImageArgs(service="fraud", image_tag="latest", repository_url="r", registry_id="1")


def test_pinned_latest_is_refused():
    with pytest.raises(ValueError, match="`latest` moves"):
        ServiceImageArgs(service="fraud", image_uri=PINNED.rsplit(":", 1)[0] + ":latest")


def test_missing_tag_names_the_fix():
    with pytest.raises(ValueError, match="image_tag is empty"):
        ServiceImageArgs(service="fraud", repository_url="r", registry_id="1")


def test_pin_and_build_together_are_rejected():
    with pytest.raises(ValueError, match="leave image_tag and repository_url unset"):
        ServiceImageArgs(service="fraud", image_uri=PINNED, image_tag="1.0")
