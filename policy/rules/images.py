"""Immutable, scanned images and no ``:latest`` anywhere an image is referenced."""

from __future__ import annotations

from collections.abc import Iterator

from policy.model import Resource, ResourceRule
from policy.rules.kubernetes import POD_SPEC_PATHS, containers, pod_spec
from policy.values import UNKNOWN, as_list, get, is_true


def ecr_immutable_scanned(r: Resource) -> Iterator[str]:
    """ECR repositories use immutable tags and scan on push."""
    mutability = r.props.get("imageTagMutability") or "MUTABLE"
    if mutability is not UNKNOWN and not str(mutability).startswith("IMMUTABLE"):
        yield f"imageTagMutability is {mutability!r}; use 'IMMUTABLE' so a tag always means the same image"
    if not is_true(get(r.props, "imageScanningConfiguration", "scanOnPush", default=False)):
        yield "imageScanningConfiguration.scanOnPush is not true"


def artifact_registry_immutable_scanned(r: Resource) -> Iterator[str]:
    """Docker repositories in Artifact Registry use immutable tags and vulnerability scanning."""
    if r.props.get("format") not in (None, "DOCKER", "docker", UNKNOWN):
        return
    if not is_true(get(r.props, "dockerConfig", "immutableTags", default=False)):
        yield "dockerConfig.immutableTags is not true"
    if get(r.props, "vulnerabilityScanningConfig", "enablementConfig") == "DISABLED":
        yield "vulnerabilityScanningConfig.enablementConfig is DISABLED"


IMMUTABLE_SCANNED = ResourceRule(
    name="immutable-scanned-images",
    description="Container registries keep tags immutable and scan images for vulnerabilities.",
    checks={
        "aws:ecr/repository:Repository": ecr_immutable_scanned,
        "gcp:artifactregistry/repository:Repository": artifact_registry_immutable_scanned,
    },
)


def image_tag_problem(image: object) -> str | None:
    """Why an image reference is not pinned (``:latest`` or no tag), or None if it is fine."""
    if not isinstance(image, str) or not image or image is UNKNOWN:
        return None
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (means :latest)"
    if last.rsplit(":", 1)[-1] == "latest":
        return f"image {image!r} uses the mutable tag :latest"
    return None


def _report(images: list[object]) -> Iterator[str]:
    for image in images:
        problem = image_tag_problem(image)
        if problem:
            yield problem + "; pin a version tag or digest"


def workload_images(r: Resource) -> Iterator[str]:
    """Kubernetes containers pin their image."""
    yield from _report([c.get("image") for c in containers(pod_spec(r))])


def sagemaker_model_images(r: Resource) -> Iterator[str]:
    """SageMaker models pin their inference image."""
    images = [get(r.props, "primaryContainer", "image")]
    images += [get(c, "image") for c in as_list(r.props.get("containers"))]
    yield from _report(images)


def docker_images(r: Resource) -> Iterator[str]:
    """Docker containers and built images pin their tag."""
    yield from _report([r.props.get("image"), r.props.get("imageName")])


def pulled_images(r: Resource) -> Iterator[str]:
    """Images pulled onto the local platform pin their tag."""
    yield from _report([r.props.get("name")])


NO_LATEST = ResourceRule(
    name="no-latest-image-tag",
    description="Workloads and models reference images by version tag or digest, never ':latest'.",
    checks={
        **{t: workload_images for t in POD_SPEC_PATHS},
        "aws:sagemaker/model:Model": sagemaker_model_images,
        "docker:index/container:Container": docker_images,
        "docker:index/image:Image": docker_images,
        "docker:index/remoteImage:RemoteImage": pulled_images,
    },
)

RULES = [IMMUTABLE_SCANNED, NO_LATEST]
