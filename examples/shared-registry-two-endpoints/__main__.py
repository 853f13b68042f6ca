"""One registry and one bucket shared by two SageMaker endpoints that roll out differently.

Composes mlops-platform's AWS components in a shape the main stack (infra/targets/aws/) does not:

    Encryption (one KMS key)
      -> ArtifactStore (one bucket) + ContainerRegistry (one repository per service)
      -> ServiceImage per service (built from services/model_server, pushed to its repository)
      -> ModelEndpoint per service: `fraud` canaries 10% first, `churn` shifts 20% at a time
      -> Monitoring (one alert topic and dashboard, alarms and drift checks for both endpoints)

No Network and no GpuCluster: see `endpoint()` for why the endpoints run without a VPC.
Plain Python: every resource is declared inside a component; this file only maps config to args.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pulumi

from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.aws.container_registry import ContainerRegistry, ContainerRegistryArgs
from components.aws.encryption import Encryption, EncryptionArgs
from components.aws.model_endpoint import DataCaptureArgs, ModelEndpoint, ModelEndpointArgs
from components.aws.monitoring import MonitoredEndpoint, MonitoredVariant, Monitoring, MonitoringArgs
from components.monitoring import DriftSpec
from components.naming import Namer
from components.service_image import ServiceImage, ServiceImageArgs
from components.serving import RolloutSpec, SlotSpec

ENVIRONMENTS = ("dev", "staging", "prod")
MODEL_SERVER = Path(__file__).resolve().parents[2] / "services" / "model_server"


@dataclass(frozen=True)
class ExampleConfig:
    """This stack's config (`Pulumi.<stack>.yaml`); every key has a default, so it plans without one."""

    environment: str = "dev"
    """dev, staging or prod; prod protects the key, bucket and repositories."""
    owner: str = "ml-platform"
    """Tag `owner` on every resource."""
    cost_center: str = "ml-0000"
    """Tag `cost-center` on every resource."""
    alert_emails: tuple[str, ...] = ()
    """Addresses subscribed to the alert topic (each confirms by email)."""

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise pulumi.RunError(f"environment {self.environment!r}: expected one of {', '.join(ENVIRONMENTS)}")

    @classmethod
    def load(cls) -> ExampleConfig:
        config = pulumi.Config()
        return cls(environment=config.get("environment") or cls.environment,
                   owner=config.get("owner") or cls.owner,
                   cost_center=config.get("costCenter") or cls.cost_center,
                   alert_emails=tuple(config.get_object("alertEmails") or ()))

    @property
    def tags(self) -> dict[str, str]:
        return {"environment": self.environment, "owner": self.owner, "cost-center": self.cost_center,
                "managed-by": "pulumi"}


@dataclass(frozen=True)
class Service:
    """One model service: what it runs and how a new version reaches its traffic."""

    name: str
    image_tag: str
    """Tag built from services/model_server and pushed to the service's repository (never `latest`)."""
    model_version: str
    """Folder under `models/<name>/` in the bucket: model.tar.gz plus the drift baselines."""
    rollout: RolloutSpec
    drift_features: tuple[str, ...]


# Guarded rollouts (canary, linear) need at least two instances in every variant with traffic.
SERVICES = (
    Service("fraud", image_tag="1.5.0", model_version="8",
            rollout=RolloutSpec(strategy="canary", canary_percent=10, wait_seconds=600, auto_rollback=True),
            drift_features=("mean radius", "mean texture", "worst area")),
    Service("churn", image_tag="2.1.0", model_version="3",
            rollout=RolloutSpec(strategy="linear", step_percent=20, wait_seconds=180, auto_rollback=True),
            drift_features=("tenure", "monthly charges")),
)


def model_uri(bucket: pulumi.Output[str], svc: Service, file: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("s3://", bucket, f"/models/{svc.name}/{svc.model_version}/{file}")


def endpoint(svc: Service, cfg: ExampleConfig, namer: Namer, key: Encryption, store: ArtifactStore,
             registry: ContainerRegistry) -> ModelEndpoint:
    """Build the service's image and serve it from the `blue` slot; `green` stays idle (weight 0, not deployed)."""
    tags = {**cfg.tags, "service": svc.name}
    image = ServiceImage(f"{svc.name}-image", ServiceImageArgs(
        service=svc.name, image_tag=svc.image_tag, repository_url=registry.repository_urls[svc.name],
        credentials=registry.push_credentials(),
        # Paths relative to where the program runs (this folder under `pulumi up`, the repo root in tests).
        context=os.path.relpath(MODEL_SERVER), dockerfile=os.path.relpath(MODEL_SERVER / "Dockerfile")))
    model = model_uri(store.bucket_name, svc, "model.tar.gz")
    slots = {slot: SlotSpec(image=image.image_uri, model_uri=model, model_version=svc.model_version,
                            instance_type="ml.m5.large", instance_count=2, weight=weight)
             for slot, weight in (("blue", 100), ("green", 0))}
    return ModelEndpoint(f"{svc.name}-endpoint", ModelEndpointArgs(
        service=svc.name, namer=namer, slots=slots, live="blue", rollout=svc.rollout,
        bucket_arn=store.bucket_arn, model_prefix=f"models/{svc.name}",
        ecr_repository_arn=registry.repository_arns[svc.name], kms_key_arn=key.key_arn,
        data_capture=DataCaptureArgs(bucket_name=store.bucket_name),
        # No VpcArgs, deliberately. ModelEndpoint has no allow_* flag for it because nothing is relaxed: the
        # containers keep network isolation (allow_network_access=False, the default), so they reach no network
        # with or without a VPC; SageMaker fetches the image and model.tar.gz itself with the scoped role, and
        # callers reach the endpoint through the IAM-authenticated, TLS-only SageMaker runtime API. Add a
        # Network and `vpc=VpcArgs(...)` when callers must stay on private endpoints (as the main stack does).
        environment=cfg.environment, tags=tags))


def main() -> None:
    cfg = ExampleConfig.load()
    namer = Namer("shop", cfg.environment)
    prod = cfg.environment == "prod"
    platform_tags = {**cfg.tags, "service": "platform"}

    key = Encryption("encryption", EncryptionArgs(namer=namer, tags=platform_tags, protect=prod))
    store = ArtifactStore("artifacts", ArtifactStoreArgs(namer=namer, kms_key_arn=key.key_arn, tags=platform_tags,
                                                         protect=prod, access_logs=prod))
    registry = ContainerRegistry("registry", ContainerRegistryArgs(
        namer=namer, services=[svc.name for svc in SERVICES], kms_key_arn=key.key_arn, tags=platform_tags,
        protect=prod))
    endpoints = {svc.name: endpoint(svc, cfg, namer, key, store, registry) for svc in SERVICES}

    monitoring = Monitoring("monitoring", MonitoringArgs(
        namer=namer, kms_key_arn=key.key_arn, bucket_name=store.bucket_name, bucket_arn=store.bucket_arn,
        endpoints=tuple(MonitoredEndpoint(
            service=svc.name, endpoint_name=endpoints[svc.name].endpoint_name,
            variants=tuple(MonitoredVariant(v) for v in sorted(endpoints[svc.name].variant_weights)),
            baseline_statistics_uri=model_uri(store.bucket_name, svc, "statistics.json"),
            baseline_constraints_uri=model_uri(store.bucket_name, svc, "constraints.json"),
            drift=DriftSpec(features=svc.drift_features)) for svc in SERVICES),
        alert_emails=cfg.alert_emails, environment=cfg.environment, tags=platform_tags))

    pulumi.export("kmsKeyArn", key.key_arn)
    pulumi.export("artifactBucket", store.bucket_name)
    pulumi.export("repositoryUrls", registry.repository_urls)
    pulumi.export("endpoints", {svc.name: {"name": endpoints[svc.name].endpoint_name,
                                           "invokeUrl": endpoints[svc.name].invoke_url,
                                           "rollout": svc.rollout.strategy} for svc in SERVICES})
    pulumi.export("alertTopicArn", monitoring.topic_arn)
    pulumi.export("dashboardUrl", monitoring.dashboard_url)


if __name__ == "__main__":
    main()
