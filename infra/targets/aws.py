"""The AWS stack: KMS, network, artifact store, registries, images, EKS, SageMaker endpoints, monitoring.

Plain Python: `PlatformConfig` in, components instantiated and wired, exports out. Every resource is
declared inside a component; this module only maps config to component args.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.alert_topic import AlertTopic, AlertTopicArgs
from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.aws.container_registry import ContainerRegistry, ContainerRegistryArgs, ecr_repository_arn
from components.aws.encryption import Encryption, EncryptionArgs
from components.aws.endpoint_autoscaling import AutoscalingArgs
from components.aws.gpu_cluster import GpuCluster, GpuClusterArgs
from components.aws.instance_shapes import instance_shape
from components.aws.model_endpoint import (
    DataCaptureArgs,
    ModelEndpoint,
    ModelEndpointArgs,
    VpcArgs,
)
from components.aws.monitoring import AlarmThresholds, MonitoredEndpoint, MonitoredVariant, Monitoring, MonitoringArgs
from components.aws.network import Network, NetworkArgs
from components.aws.service_image import ServiceImage, ServiceImageArgs
from components.monitoring import AlertThresholds, DriftSpec
from components.naming import Namer
from components.serving import RolloutSpec, SlotSpec
from infra.config import PlatformConfig
from infra.config_sections import ServiceConfig


def model_prefix(name: str, svc: ServiceConfig) -> str:
    """Key prefix of a service's model versions in the artifact bucket."""
    return svc.model_artifact_uri or f"models/{name}"


def external_repository_arn(path: str) -> str:
    """ARN of an external ECR repository given as `<account>.dkr.ecr.<region>.amazonaws.com/<name>`."""
    try:
        return ecr_repository_arn(path)
    except ValueError as exc:
        raise pulumi.RunError(f"imageRepository: {exc}") from None


def compose(cfg: PlatformConfig) -> dict[str, Any]:
    namer = Namer(cfg.name_prefix, cfg.environment)
    prod = cfg.environment == "prod"
    # Region from config, account asked once: components would otherwise each ask the provider.
    account_id = aws.get_caller_identity().account_id
    platform_tags = {**cfg.stack_tags, "service": "platform"}

    where = {"region": cfg.region, "account_id": account_id}
    key = Encryption("encryption", EncryptionArgs(namer=namer, tags=platform_tags, protect=prod, **where))
    network = Network("network", NetworkArgs(
        namer=namer, kms_key_arn=key.key_arn, availability_zones=cfg.network.availability_zones or 2,
        cidr=cfg.network.cidr, nat_gateways=cfg.network.nat_gateways or "single", flow_logs=cfg.network.flow_logs,
        flow_log_retention_days=cfg.storage.retention_days, tags=platform_tags, **where))
    store = ArtifactStore("artifacts", ArtifactStoreArgs(
        namer=namer, kms_key_arn=key.key_arn, tags=platform_tags, protect=prod,
        retention_days=cfg.storage.retention_days, noncurrent_version_days=cfg.storage.noncurrent_version_days,
        access_logs=bool(cfg.storage.access_logs), **where))
    in_registry = [name for name, svc in cfg.services.items() if not _external(svc)]
    registry = ContainerRegistry("registry", ContainerRegistryArgs(
        namer=namer, services=[_repository(name, cfg.services[name]) for name in in_registry],
        kms_key_arn=key.key_arn, tags=platform_tags, protect=prod,
        untagged_expiry_days=cfg.registry.untagged_expiry_days, keep_tagged_images=cfg.registry.keep_tagged_images))
    cluster = GpuCluster("gpu", GpuClusterArgs(
        namer=namer, subnet_ids=network.private_subnet_ids, kms_key_arn=key.key_arn, tags=platform_tags,
        protect=prod, allow_public_endpoint=not prod and bool(cfg.network.public_api_cidrs),
        public_access_cidrs=cfg.network.public_api_cidrs, accelerator=cfg.gpu.accelerator,
        gpu_count=cfg.gpu.count, gpu_instance_type=cfg.gpu.instance_type, gpu_min_nodes=cfg.gpu.min_nodes,
        gpu_max_nodes=cfg.gpu.max_nodes, gpu_desired_nodes=cfg.gpu.desired_nodes, spot=cfg.gpu.spot,
        gpu_disk_size_gb=cfg.gpu.disk_size_gb, log_retention_days=cfg.storage.retention_days, region=cfg.region))

    # First, so rollback alarms (created with the endpoints) and Monitoring's alarms notify the same topic.
    alerts = AlertTopic("alerts", AlertTopicArgs(namer=namer, kms_key_arn=key.key_arn,
                                                 alert_emails=cfg.monitoring.alert_emails, tags=platform_tags, **where))
    vpc = VpcArgs(subnet_ids=network.private_subnet_ids, security_group_ids=[network.workload_security_group_id])
    endpoints: dict[str, ModelEndpoint] = {}
    monitored: list[MonitoredEndpoint] = []
    for name, svc in cfg.services.items():
        tags = {**cfg.stack_tags, "service": name}
        images = _slot_images(name, svc, registry, tags)
        prefix = model_prefix(name, svc)
        slots = {
            slot_name: SlotSpec(
                image=images[slot_name],
                model_uri=store.bucket_name.apply(
                    lambda bucket, p=prefix, v=slot.model_version: f"s3://{bucket}/{p}/{v}/model.tar.gz"),
                model_version=slot.model_version, instance_type=slot.instance_type,
                instance_count=slot.instance_count, weight=slot.weight)
            for slot_name, slot in svc.slots.items()
        }
        repository_arn = (external_repository_arn(svc.image_repository) if _external(svc)
                          else registry.repository_arns[_repository(name, svc)])
        endpoint = ModelEndpoint(f"{name}-endpoint", ModelEndpointArgs(
            service=name, namer=namer, slots=slots, bucket_arn=store.bucket_arn, model_prefix=prefix,
            ecr_repository_arn=repository_arn, kms_key_arn=key.key_arn,
            data_capture=DataCaptureArgs(bucket_name=store.bucket_name,
                                         sampling_percent=round(cfg.monitoring.data_capture_percent or 0)),
            live=svc.live, keep_warm=svc.keep_warm, autoscaling=AutoscalingArgs(max_instances=svc.max_instances),
            rollout=RolloutSpec(
                strategy=cfg.rollout.strategy, canary_percent=cfg.rollout.canary_percent,
                step_percent=cfg.rollout.step_percent, wait_seconds=cfg.rollout.wait_seconds,
                termination_wait_seconds=cfg.rollout.termination_wait_seconds,
                auto_rollback=cfg.rollout.auto_rollback),
            rollback_alarms=AlertThresholds(error_rate_percent=cfg.monitoring.error_rate_percent,
                                            p99_latency_ms=cfg.monitoring.p99_latency_ms),
            alarm_topic_arn=alerts.topic_arn, vpc=vpc, environment=cfg.environment, tags=tags, **where))
        endpoints[name] = endpoint
        live_version = svc.slots[svc.live].model_version
        baseline = store.bucket_name.apply(lambda b, p=prefix, v=live_version: f"s3://{b}/{p}/{v}")
        monitored.append(MonitoredEndpoint(
            service=name, endpoint_name=endpoint.endpoint_name,
            variants=tuple(_monitored_variant(v, svc) for v in sorted(endpoint.variant_weights)),
            baseline_statistics_uri=baseline.apply(lambda base: f"{base}/statistics.json"),
            baseline_constraints_uri=baseline.apply(lambda base: f"{base}/constraints.json"),
            baseline_prefix=prefix, model_monitor=cfg.monitoring.model_monitor,
            drift=DriftSpec(features=svc.drift_features, threshold_psi=cfg.monitoring.drift_threshold,
                            schedule=cfg.monitoring.drift_schedule)))

    monitoring = Monitoring("monitoring", MonitoringArgs(
        namer=namer, kms_key_arn=key.key_arn, bucket_name=store.bucket_name, bucket_arn=store.bucket_arn,
        endpoints=tuple(monitored), topic_arn=alerts.topic_arn,
        thresholds=AlarmThresholds(error_rate_percent=cfg.monitoring.error_rate_percent,
                                   p99_latency_ms=cfg.monitoring.p99_latency_ms),
        vpc=vpc, environment=cfg.environment, **where,
        tags=platform_tags))

    return {
        "region": cfg.region,
        "kmsKeyArn": key.key_arn,
        "vpcId": network.vpc_id,
        "artifactBucket": store.bucket_name,
        "repositoryUrls": {name: registry.repository_urls[_repository(name, cfg.services[name])]
                           for name in in_registry},
        "clusterName": cluster.cluster_name,
        "kubeconfig": cluster.kubeconfig,
        "endpoints": {name: {"name": ep.endpoint_name, "invokeUrl": ep.invoke_url, "arn": ep.endpoint_arn,
                             "weights": ep.variant_weights}
                      for name, ep in endpoints.items()},
        "alertTopicArn": alerts.topic_arn,
        "dashboardUrl": monitoring.dashboard_url,
    }


def _external(svc: ServiceConfig) -> bool:
    return svc.image_repository is not None and ("/" in svc.image_repository or "." in svc.image_repository)


def _repository(name: str, svc: ServiceConfig) -> str:
    return svc.image_repository or name


def _slot_images(name: str, svc: ServiceConfig, registry: ContainerRegistry,
                 tags: dict[str, str]) -> dict[str, pulumi.Input[str]]:
    """Image URI per slot: the digest of this checkout's build for the build tag, else `<repo>:<tag>`."""
    if _external(svc):
        return {slot: f"{svc.image_repository}:{cfg.image_tag}" for slot, cfg in svc.slots.items()}
    repository_url = registry.repository_urls[_repository(name, svc)]
    built = None
    if svc.build_tag:
        built = ServiceImage(f"{name}-image", ServiceImageArgs(
            service=name, image_tag=svc.build_tag, repository_url=repository_url, registry_id=registry.registry_id))
    return {slot: built.image_uri if built is not None and cfg.image_tag == svc.build_tag
            else pulumi.Output.concat(repository_url, ":", cfg.image_tag)
            for slot, cfg in svc.slots.items()}


def _monitored_variant(variant: str, svc: ServiceConfig) -> MonitoredVariant:
    shape = instance_shape(svc.slots[variant].instance_type)  # type: ignore[index]
    return MonitoredVariant(name=variant, cpus=shape.vcpus, gpus=shape.gpus)
