"""One SageMaker endpoint serving images that already exist in ECR: no registry, no build.

    Encryption -> ArtifactStore -> ModelEndpoint (blue 90 / green 10 between two pinned images)

Your CI builds and pushes the image; this stack only pins what runs. The images are `ServiceImage`s with
`image_uri` set (the component's pin-only mode), and the endpoint's role may pull from their repository
only. Every resource is declared inside a component.
"""

from __future__ import annotations

import pulumi

from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.aws.container_registry import ecr_repository_arn
from components.aws.encryption import Encryption, EncryptionArgs
from components.aws.model_endpoint import DataCaptureArgs, ModelEndpoint, ModelEndpointArgs
from components.naming import Namer
from components.service_image import ServiceImage, ServiceImageArgs
from components.serving import SlotSpec

SERVICE = "ranker"
DEFAULT_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker@sha256:{digit}"


def repository_arn(image: str) -> str:
    """The ECR repository of a pinned image URI (the role's pull scope); RunError for anything else."""
    if ":" not in image.rsplit("/", 1)[-1] and "@" not in image:
        raise pulumi.RunError(f"image {image!r}: pin a :<tag> or @sha256:<digest>")
    try:
        return ecr_repository_arn(image)
    except ValueError as exc:
        raise pulumi.RunError(f"image: {exc}") from None


def main() -> None:
    config = pulumi.Config()
    environment = config.get("environment") or "dev"
    images = {"blue": config.get("blueImage") or DEFAULT_IMAGE.format(digit="1" * 64),
              "green": config.get("greenImage") or DEFAULT_IMAGE.format(digit="2" * 64)}
    repositories = {repository_arn(image) for image in images.values()}
    if len(repositories) != 1:
        raise pulumi.RunError(f"blueImage and greenImage must come from one repository, got {sorted(repositories)}")
    prod = environment == "prod"
    namer = Namer("byoi", environment)
    tags = {"environment": environment, "owner": "ml-platform", "cost-center": "ml-0000", "service": SERVICE}

    key = Encryption("encryption", EncryptionArgs(namer=namer, tags=tags, protect=prod))
    store = ArtifactStore("artifacts", ArtifactStoreArgs(namer=namer, kms_key_arn=key.key_arn, tags=tags,
                                                         protect=prod, access_logs=prod))
    model = pulumi.Output.concat("s3://", store.bucket_name, f"/models/{SERVICE}/1/model.tar.gz")
    slots = {}
    for slot, weight in (("blue", 90), ("green", 10)):
        pinned = ServiceImage(f"{SERVICE}-{slot}-image", ServiceImageArgs(service=SERVICE, image_uri=images[slot]))
        slots[slot] = SlotSpec(image=pinned.image_uri, model_uri=model, model_version="1", instance_type="ml.m5.large",
                               instance_count=2 if prod else 1, weight=weight)
    endpoint = ModelEndpoint(f"{SERVICE}-endpoint", ModelEndpointArgs(
        service=SERVICE, namer=namer, slots=slots, bucket_arn=store.bucket_arn, model_prefix=f"models/{SERVICE}",
        ecr_repository_arn=repositories.pop(), kms_key_arn=key.key_arn,
        data_capture=DataCaptureArgs(bucket_name=store.bucket_name), environment=environment, tags=tags))

    pulumi.export("endpoint", {"name": endpoint.endpoint_name, "invokeUrl": endpoint.invoke_url,
                               "weights": endpoint.variant_weights})
    pulumi.export("artifactBucket", store.bucket_name)


if __name__ == "__main__":
    main()
