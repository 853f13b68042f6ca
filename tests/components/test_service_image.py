"""ServiceImage: build + push with the credentials a registry hands in (ECR's token here), or pin; never `latest`."""

from __future__ import annotations

import pulumi
import pytest

from components.aws.container_registry import ContainerRegistry, ContainerRegistryArgs
from components.naming import Namer
from components.service_image import RegistryCredentials, ServiceImage, ServiceImageArgs
from infra.plan.engine import plan_program

IMAGE = "docker:index/image:Image"
PINNED = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-fraud:2024.06.1"
LOGIN = RegistryCredentials(username="u", password="p")


def _build() -> None:
    registry = ContainerRegistry("reg", ContainerRegistryArgs(namer=Namer("mlops", "dev"), services=("fraud",),
                                                              kms_key_arn="arn:aws:kms:us-east-1:1:key/k"))
    image = ServiceImage("fraud", ServiceImageArgs(service="fraud", image_tag="3f2c1ab",
                                                   repository_url=registry.repository_urls["fraud"],
                                                   credentials=registry.push_credentials()))
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
        ServiceImageArgs(service="fraud", image_tag="latest", repository_url="r", credentials=LOGIN)


def test_pinned_latest_is_refused():
    with pytest.raises(ValueError, match="`latest` moves"):
        ServiceImageArgs(service="fraud", image_uri=PINNED.rsplit(":", 1)[0] + ":latest")


def test_missing_tag_names_the_fix():
    with pytest.raises(ValueError, match="image_tag is empty"):
        ServiceImageArgs(service="fraud", repository_url="r", credentials=LOGIN)


def test_pin_and_build_together_are_rejected():
    with pytest.raises(ValueError, match="leave image_tag and repository_url unset"):
        ServiceImageArgs(service="fraud", image_uri=PINNED, image_tag="1.0")


def test_build_without_credentials_names_the_fix():
    with pytest.raises(ValueError, match=r"credentials are required .* ContainerRegistry.push_credentials\(\)"):
        ServiceImageArgs(service="fraud", image_tag="1.0", repository_url="r")


def test_any_registry_can_hand_in_its_login():
    def build() -> None:
        ServiceImage("fraud", ServiceImageArgs(
            service="fraud", image_tag="1.0", repository_url="europe-docker.pkg.dev/p/repo/fraud",
            credentials=RegistryCredentials(username="oauth2accesstoken", password="token",
                                            server="europe-docker.pkg.dev")))

    registry = plan_program(build, stack="dev").of_type(IMAGE)[0]["inputs"]["registry"]
    assert registry == {"server": "europe-docker.pkg.dev", "username": "oauth2accesstoken", "password": "[secret]"}


def test_renamed_type_keeps_the_old_urn_through_an_alias(built):
    """Pulumi matches a resource by URN, which includes its type and its parents' types: without the alias a
    `pulumi up` after the move to `mlops:images:ServiceImage` would create a new image and delete the old one.
    The child image needs no alias of its own: "the engine combines a parent's aliases with each child's own name
    and type when computing the child's identity" (pulumi.com/docs/iac/concepts/resources/options/aliases)."""
    component = built.of_type("mlops:images:ServiceImage")[0]
    assert component["aliases"] == [{"parentUrn": "", "type": "mlops:aws:ServiceImage"}]  # same name and parent
    image = built.of_type(IMAGE)[0]
    assert image["parent"] == component["urn"]
    assert image["aliases"] == [{"parentUrn": "", "type": "docker:image:Image"}]  # pulumi_docker's own, unchanged
