"""What a stack declares for its SageMaker endpoints, read from the stack's offline plan.

The plan records every input Pulumi would send, so it is the declaration. Three kinds of value in it
are not what a real deploy produces, and verify handles each on purpose:

- The account. The plan runs with a fake account id (`infra/plan/fakes.py`), which appears in bucket
  names and registry hosts. `Rewrite` puts in the account verify reads from.
- Content-hashed names of endpoint configurations and models (`Namer.versioned`). The hash covers
  the account, the stack's KMS key ARN and the digest of a built image, all fake offline, so a real
  deploy names them differently. verify never compares these names: it compares content, and finds
  the declared endpoint configuration among the live ones by its content (`compare.config_matches`).
- The digest of an image this checkout builds, unknown until it is pushed. The plan's model names
  the fake digest of the build; verify declares the build's repository and tag instead and asks ECR
  which digest that tag has.

`--stack-outputs` (the JSON of `pulumi stack output --json`) replaces every exported value the plan
computed (bucket, repository URLs, endpoint names, ...) with the deployed one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from components.aws.container_registry import ecr_repository_arn
from infra.plan.engine import Plan
from infra.plan.fakes import ACCOUNT_ID, Cloud, resource_outputs
from infra.stackfile import SECRET_PLACEHOLDER

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
SCALABLE_TARGET = "aws:appautoscaling/target:Target"
BUILT_IMAGE = "docker:index/image:Image"


@dataclass(frozen=True)
class ImageRef:
    """A container image: repository plus a tag and/or a digest."""

    repository: str
    tag: str | None = None
    digest: str | None = None
    """`sha256:<hex>`."""
    built: bool = False
    """Built and pushed by `pulumi up` with `tag`; its digest is not known offline."""

    @classmethod
    def parse(cls, uri: str) -> ImageRef:
        rest, _, digest = uri.partition("@")
        head, sep, tail = rest.rpartition(":")
        if sep and "/" not in tail:  # a tag, not a registry port
            return cls(head, tail, digest or None)
        return cls(rest, None, digest or None)

    def __str__(self) -> str:
        return self.repository + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def ecr(self) -> tuple[str, str, str] | None:
        """(account, region, repository name) when the image lives in ECR, else None."""
        try:
            arn = ecr_repository_arn(self.repository)
        except ValueError:
            return None
        _, _, _, region, account, resource = arn.split(":", 5)
        return account, region, resource.removeprefix("repository/")


@dataclass(frozen=True)
class DeclaredVariant:
    """One production variant as the stack declares it."""

    name: str
    weight: float
    """Share of the endpoint's traffic, percent (SageMaker weights are relative)."""
    instance_type: str
    instance_count: int
    """Initial instances, and the autoscaling floor."""
    max_instances: int
    """Autoscaling ceiling (= instance_count without autoscaling)."""
    model_version: str | None
    """The model's MODEL_VERSION environment variable."""
    image: ImageRef
    model_data_url: str


@dataclass(frozen=True)
class DeclaredEndpoint:
    """One service's SageMaker endpoint as the stack declares it."""

    service: str
    name: str
    variants: tuple[DeclaredVariant, ...]
    rollback_alarms: tuple[str, ...]


@dataclass(frozen=True)
class Rewrite:
    """Turns planned values into deployed ones: exported values first, then the account id."""

    account: str
    exported: tuple[tuple[str, str], ...] = ()
    """(planned, deployed) pairs, longest first; replaced where they stand as whole names."""

    def __call__(self, value: str) -> str:
        for planned, deployed in self.exported:
            value = re.sub(rf"(?<![\w-]){re.escape(planned)}(?![\w-])", lambda _, d=deployed: d, value)
        return value.replace(ACCOUNT_ID, self.account)


def rewrite_for(account: str, planned_outputs: dict[str, Any], stack_outputs: dict[str, Any] | None) -> Rewrite:
    """The rewrite for a stack deployed in `account`, with its exports when `stack_outputs` is given."""
    pairs = set(_exported_pairs(planned_outputs, stack_outputs or {}))
    return Rewrite(account, tuple(sorted(pairs, key=lambda p: (-len(p[0]), p))))


def _exported_pairs(planned: Any, deployed: Any) -> Iterator[tuple[str, str]]:
    if isinstance(planned, dict) and isinstance(deployed, dict):
        for key in sorted(planned.keys() & deployed.keys()):
            yield from _exported_pairs(planned[key], deployed[key])
    elif (isinstance(planned, str) and isinstance(deployed, str) and planned != deployed
          and SECRET_PLACEHOLDER not in (planned, deployed)):
        yield planned, deployed


def declared_endpoints(plan: Plan, rewrite: Rewrite) -> tuple[DeclaredEndpoint, ...]:
    """Every SageMaker endpoint the plan declares, with deployed names (sorted by service)."""
    configs = {r["inputs"]["name"]: r["inputs"] for r in plan.of_type(CONFIG)}
    models = {r["inputs"]["name"]: r["inputs"] for r in plan.of_type(MODEL)}
    targets = {r["inputs"]["resourceId"]: r["inputs"] for r in plan.of_type(SCALABLE_TARGET)}
    built = _built_images(plan)
    endpoints = []
    for resource in plan.of_type(ENDPOINT):
        inputs = resource["inputs"]
        config = configs.get(inputs["endpointConfigName"])
        if config is None:
            raise ValueError(f"plan: endpoint {inputs['name']} uses configuration {inputs['endpointConfigName']}, "
                             "which the plan does not declare")
        planned = config["productionVariants"]
        total = sum(float(v.get("initialVariantWeight", 1.0)) for v in planned) or 1.0
        variants = []
        for v in planned:
            container = models[v["modelName"]]["primaryContainer"]
            target = targets.get(f"endpoint/{inputs['name']}/variant/{v['variantName']}", {})
            image = built.get(container["image"]) or ImageRef.parse(container["image"])
            variants.append(DeclaredVariant(
                name=v["variantName"], weight=100 * float(v.get("initialVariantWeight", 1.0)) / total,
                instance_type=v["instanceType"], instance_count=int(v["initialInstanceCount"]),
                max_instances=int(target.get("maxCapacity", v["initialInstanceCount"])),
                model_version=container.get("environment", {}).get("MODEL_VERSION"),
                image=ImageRef(rewrite(image.repository), image.tag, image.digest, image.built),
                model_data_url=rewrite(container["modelDataUrl"])))
        alarms = inputs.get("deploymentConfig", {}).get("autoRollbackConfiguration", {}).get("alarms", [])
        endpoints.append(DeclaredEndpoint(
            service=inputs.get("tags", {}).get("service", inputs["name"]), name=rewrite(inputs["name"]),
            variants=tuple(variants), rollback_alarms=tuple(rewrite(a["alarmName"]) for a in alarms)))
    return tuple(sorted(endpoints, key=lambda e: e.service))


def _built_images(plan: Plan) -> dict[str, ImageRef]:
    """Planned (fake) digest URI of each image the stack builds -> the build's repository and tag."""
    built = {}
    for resource in plan.of_type(BUILT_IMAGE):
        _, outputs = resource_outputs(Cloud(), BUILT_IMAGE, resource["name"], resource["inputs"])
        pushed = ImageRef.parse(resource["inputs"]["imageName"])
        built[outputs["repoDigest"]] = ImageRef(pushed.repository, pushed.tag, built=True)
    return built
