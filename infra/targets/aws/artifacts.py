"""`python -m infra artifacts STACK`: before `pulumi up`, does every slot's model and image exist in AWS?

SageMaker's CreateModel refuses a `model.tar.gz` that is not in S3, and endpoint creation fails on an
image tag that was never pushed; both fail half-way through `pulumi up`. This check asks S3
(HeadObject on `<bucket>/<model prefix>/<modelVersion>/model.tar.gz`) and ECR (DescribeImages on the
slot's tag) first, and names the stack key of each slot that points at something missing. A slot
whose tag is the service's `buildTag` is skipped: `pulumi up` builds and pushes it before the model.

An image that exists but whose manifest is OCI (an image index, e.g. a BuildKit build with provenance
attestations, or an OCI image manifest) is reported too: CreateModel refuses it ("Unsupported manifest
media type application/vnd.oci.image.index.v1+json", aws/amazon-sagemaker-feedback#180); rebuild it
with `--provenance=false --output type=docker` (Docker v2 schema 2).

Exit codes: 0 everything exists (or `serving: false`: the lines are printed, nothing is declared
that needs them yet); 4 something is missing (one line each on stdout); 5 no usable AWS
credentials; 2 invalid stack config. The bucket and repositories come from the stack's plan (with
the caller's account) or, with `--stack-outputs`, from the deployed stack.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from infra.composition import plan_services
from infra.config import NAMESPACE, PlatformConfig
from infra.plan.engine import Plan, plan_stack
from infra.stackfile import read_project, read_stack_config
from infra.targets import load_platform_config
from infra.verify.command import EXIT_DIFFERENT, EXIT_OK, NoCredentials, caller_account, read_stack_outputs
from infra.verify.declared import ImageRef, Rewrite, rewrite_for
from infra.verify.live import AwsReader

RUNBOOK = "docs/runbooks/first-deploy.md"


@dataclass(frozen=True)
class SlotArtifacts:
    """What one slot needs in AWS before its SageMaker model can be created."""

    key: str
    """The slot's stack key, e.g. `mlops-platform:services.fraud-detector.slots.blue`."""
    bucket: str
    model_key: str
    image: ImageRef | None
    """None when `pulumi up` builds the image, or it is not in ECR (nothing to ask)."""


def slot_artifacts(cfg: PlatformConfig, outputs: dict, rewrite: Rewrite) -> list[SlotArtifacts]:
    """Every slot of every service, with its bucket key and image (deployed names)."""
    bucket = rewrite(str(outputs["artifactBucket"]))
    repositories = outputs.get("repositoryUrls", {})
    found = []
    for plan in plan_services(cfg):
        for slot_name, slot in sorted(plan.slots.items()):
            image = None
            if plan.external:
                ref = ImageRef(plan.repository, slot.image_tag)
                image = ref if ref.ecr() else None
            elif not slot.built:
                image = ImageRef(rewrite(str(repositories[plan.name])), slot.image_tag)
            found.append(SlotArtifacts(f"{NAMESPACE}:services.{plan.name}.slots.{slot_name}", bucket,
                                       slot.model_key, image))
    return found


OCI_MEDIA_TYPES = frozenset({"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"})
"""Manifest media types SageMaker's CreateModel refuses (it takes Docker v2 schema 2 images)."""


def manifest_media_type(session: boto3.session.Session, image: ImageRef) -> str | None:
    """ECR's `imageManifestMediaType` of a pushed image (DescribeImages); None when ECR does not say."""
    location = image.ecr()
    if location is None or image.tag is None:
        return None
    account, _, repository = location
    found = session.client("ecr").describe_images(registryId=account, repositoryName=repository,
                                                  imageIds=[{"imageTag": image.tag}])
    return found["imageDetails"][0].get("imageManifestMediaType")


def missing_artifacts(session: boto3.session.Session, slots: list[SlotArtifacts]) -> list[str]:
    """One line per slot whose model or image does not exist, naming the stack key to fix."""
    s3, reader = session.client("s3"), AwsReader(session)
    lines = []
    for slot in slots:
        try:
            s3.head_object(Bucket=slot.bucket, Key=slot.model_key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
                raise
            lines.append(f"{slot.key}.modelVersion: s3://{slot.bucket}/{slot.model_key} does not exist (S3 "
                         f"HeadObject): train and upload it ({RUNBOOK}, step 2) or pin a modelVersion that exists")
        if slot.image is None:
            continue
        if reader.image_digest(slot.image) is None:
            lines.append(f"{slot.key}.imageTag: {slot.image} is not in ECR (DescribeImages): push it "
                         f"({RUNBOOK}, step 3) or pin an imageTag that was pushed")
        elif (media_type := manifest_media_type(session, slot.image)) in OCI_MEDIA_TYPES:
            lines.append(f"{slot.key}.imageTag: {slot.image} has an OCI manifest ({media_type}), which SageMaker's "
                         f"CreateModel refuses: push it again as a Docker v2 image (docker buildx build "
                         f"--provenance=false --output type=docker, {RUNBOOK}, step 3) under a new tag")
    return lines


def check_artifacts(stack: str, stack_outputs: Path | None = None, *, plan: Plan | None = None) -> int:
    """Check every slot's model and image of `stack`; print the result; return the exit code."""
    project = read_project()
    stack_config = read_stack_config(stack, project=project)
    cfg = load_platform_config(stack_config.values, stack_config.source)
    if cfg.cloud != "aws":
        print(f"{stack}: deploys to {cfg.cloud}; the artifacts check reads S3 and ECR, nothing was checked",
              file=sys.stderr)
        return EXIT_OK
    deployed = read_stack_outputs(stack_outputs) if stack_outputs else None
    plan = plan or plan_stack(stack)
    session = boto3.session.Session(region_name=cfg.region)
    try:
        account = caller_account(AwsReader(session))
    except NoCredentials as exc:
        print(f"error: {exc}; then run `python -m infra artifacts {stack}` again", file=sys.stderr)
        return exc.exit_code
    outputs = {**plan.outputs, **(deployed or {})}
    slots = slot_artifacts(cfg, outputs, rewrite_for(account, plan.outputs, deployed))
    lines = missing_artifacts(session, slots)
    for line in lines:
        print(f"{stack_config.source}: {line}")
    if lines and not cfg.serving:
        print(f"{stack}: {len(lines)} artifact(s) missing in account {account}; fine while "
              f"`{NAMESPACE}:serving` is false, needed before it is true ({RUNBOOK})", file=sys.stderr)
        return EXIT_OK
    if lines:
        print(f"{stack}: {len(lines)} artifact(s) missing in account {account}; `pulumi up` would fail at "
              f"CreateModel / endpoint creation. Keep `{NAMESPACE}:serving: false` until they exist ({RUNBOOK})",
              file=sys.stderr)
        return EXIT_DIFFERENT
    print(f"{stack}: the model and image of every slot exist in account {account} ({len(slots)} slot(s))")
    return EXIT_OK
