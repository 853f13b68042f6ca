"""The AWS stack: KMS, network, artifact store, registries, images, EKS, SageMaker endpoints, monitoring.

Plain Python: `PlatformConfig` in, components instantiated and wired, `StackExports` out. What every cloud
plans the same way (repositories, which image a slot runs, model and baseline keys, drift spec, tags) comes
from `infra.composition`; this module maps it onto the AWS components and turns store keys into `s3://`
URIs. Every resource is declared inside a component.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.aws.alert_topic import AlertTopic, AlertTopicArgs
from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.aws.container_registry import ContainerRegistry, ContainerRegistryArgs, ecr_repository_arn
from components.aws.encryption import Encryption, EncryptionArgs
from components.aws.endpoint_autoscaling import AutoscalingArgs
from components.aws.gpu_cluster import GpuCluster, GpuClusterArgs
from components.aws.instance_shapes import instance_shape
from components.aws.model_endpoint import DataCaptureArgs, ModelEndpoint, ModelEndpointArgs, VpcArgs
from components.aws.monitoring import AlarmThresholds, MonitoredEndpoint, MonitoredVariant, Monitoring, MonitoringArgs
from components.aws.network import Network, NetworkArgs
from infra.composition import (
    ON_ENDPOINT,
    ServicePlan,
    alert_thresholds,
    alert_webhook,
    build_job_images,
    on_kubernetes,
    pinned_tags,
    plan_job_images,
    plan_services,
    registry_repositories,
    repository_exports,
    rollout_spec,
    serves_on,
    slot_images,
    stack_namer,
)
from infra.config import PlatformConfig
from infra.exports import EndpointExport, StackExports


def external_repository_arn(path: str) -> str:
    """ARN of an external ECR repository given as `<account>.dkr.ecr.<region>.amazonaws.com/<name>`."""
    try:
        return ecr_repository_arn(path)
    except ValueError as exc:
        raise pulumi.RunError(f"imageRepository: {exc}") from None


def cluster_admin_arns(admins: tuple[str, ...], account_id: str, partition: str = "aws") -> tuple[str, ...]:
    """Role ARNs of `gpu.clusterAdmins` (a name becomes a role of the stack's account), in config order.

    The set depends on the stack file only, never on who runs `pulumi up`: an entry left out for "the
    caller" would be deleted (and another created) the first time a different identity runs the update,
    and re-creating an entry for the principal EKS bootstrapped as the cluster's creator fails with
    ResourceInUseException. The creating identity is admin through that bootstrap entry, so it is not
    listed (docs/runbooks/deploy.md, "Cluster access").
    """
    arns = [a if a.startswith("arn:") else f"arn:{partition}:iam::{account_id}:role/{a}" for a in admins]
    return tuple(dict.fromkeys(arns))


def s3_uri(bucket: pulumi.Output[str], key: str) -> pulumi.Output[str]:
    """`s3://<bucket>/<key>` for a key relative to the artifact store."""
    return bucket.apply(lambda b: f"s3://{b}/{key}")


def compose(cfg: PlatformConfig) -> StackExports:
    namer = stack_namer(cfg)
    prod = cfg.environment == "prod"
    # Region from config, account asked once: components would otherwise each ask the provider.
    caller = aws.get_caller_identity()
    account_id = caller.account_id
    platform_tags = {**cfg.stack_tags, "service": "platform"}
    services = plan_services(cfg)

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
    jobs = plan_job_images(cfg)
    registry = ContainerRegistry("registry", ContainerRegistryArgs(
        namer=namer, services=registry_repositories(services, jobs),
        kms_key_arn=key.key_arn, tags=platform_tags, protect=prod,
        untagged_expiry_days=cfg.registry.untagged_expiry_days, keep_tagged_images=cfg.registry.keep_tagged_images,
        kept_tags=pinned_tags(services, jobs)))
    cluster = GpuCluster("gpu", GpuClusterArgs(
        namer=namer, subnet_ids=network.private_subnet_ids, kms_key_arn=key.key_arn, tags=platform_tags,
        protect=prod, allow_public_endpoint=not prod and bool(cfg.network.public_api_cidrs),
        public_access_cidrs=cfg.network.public_api_cidrs, accelerator=cfg.gpu.accelerator,
        gpu_count=cfg.gpu.count, gpu_instance_type=cfg.gpu.instance_type, gpu_min_nodes=cfg.gpu.min_nodes,
        gpu_max_nodes=cfg.gpu.max_nodes, gpu_desired_nodes=cfg.gpu.desired_nodes, spot=cfg.gpu.spot,
        gpu_disk_size_gb=cfg.gpu.disk_size_gb, log_retention_days=cfg.storage.retention_days, region=cfg.region,
        admin_role_arns=cluster_admin_arns(cfg.gpu.cluster_admins, caller.account_id, caller.arn.split(":")[1])))

    # First, so rollback alarms (created with the endpoints) and Monitoring's alarms notify the same topic.
    alerts = AlertTopic("alerts", AlertTopicArgs(namer=namer, kms_key_arn=key.key_arn,
                                                 alert_emails=cfg.monitoring.alert_emails,
                                                 webhook_url=alert_webhook(cfg), tags=platform_tags, **where))
    vpc = VpcArgs(subnet_ids=network.private_subnet_ids, security_group_ids=[network.workload_security_group_id])
    endpoints: dict[str, ModelEndpoint] = {}
    monitored: list[MonitoredEndpoint] = []
    images = {}
    job_images = build_job_images(jobs, registry.repository_urls, registry.push_credentials)
    for plan in services:
        images[plan.name] = slot_images(plan, registry.repository_urls, registry.push_credentials)
        if not cfg.serving:
            # First deploy: storage and registries (and the build tag pushed) before any SageMaker model,
            # which CreateModel would refuse while model.tar.gz or an image is missing (first-deploy runbook).
            continue
        if not serves_on(cfg, plan.name, ON_ENDPOINT):
            continue  # served on the cluster only (below)
        endpoint = ModelEndpoint(f"{plan.name}-endpoint", ModelEndpointArgs(
            service=plan.name, namer=namer,
            slots=plan.slot_specs(images[plan.name], lambda k: s3_uri(store.bucket_name, k)),
            bucket_arn=store.bucket_arn, model_prefix=plan.model_prefix,
            ecr_repository_arn=(external_repository_arn(plan.repository) if plan.external
                                else registry.repository_arns[plan.repository]),
            kms_key_arn=key.key_arn,
            data_capture=DataCaptureArgs(bucket_name=store.bucket_name,
                                         sampling_percent=round(cfg.monitoring.data_capture_percent or 0)),
            live=plan.live, keep_warm=plan.keep_warm, autoscaling=AutoscalingArgs(max_instances=plan.max_instances),
            rollout=rollout_spec(cfg), rollback_alarms=alert_thresholds(cfg),
            alarm_topic_arn=alerts.topic_arn, vpc=vpc, environment=cfg.environment, tags=plan.tags, protect=prod,
            **where))
        endpoints[plan.name] = endpoint
        baselines = plan.baseline_keys
        monitored.append(MonitoredEndpoint(
            service=plan.name, endpoint_name=endpoint.endpoint_name,
            variants=tuple(_monitored_variant(v, plan) for v in sorted(endpoint.variant_weights)),
            baseline_statistics_uri=s3_uri(store.bucket_name, baselines["statistics.json"]),
            baseline_constraints_uri=s3_uri(store.bucket_name, baselines["constraints.json"]),
            baseline_prefix=plan.model_prefix, model_monitor=cfg.monitoring.model_monitor, drift=plan.drift))

    on_cluster: dict[str, EndpointExport] = {}
    # `serving: false` holds back cluster workloads too: they read the same models and images. The Kubernetes
    # machinery (pulumi_kubernetes and the k8s components) is imported only by stacks that serve there.
    if cfg.serving and on_kubernetes(cfg):
        from infra.kubernetes_serving import serve_on_kubernetes
        from infra.targets.aws.kubernetes import eks_access

        on_cluster = serve_on_kubernetes(cfg, services, images, lambda: eks_access(
            cluster, namer, bucket_name=store.bucket_name, bucket_arn=store.bucket_arn, kms_key_arn=key.key_arn,
            alert_topic_arn=alerts.topic_arn, region=cfg.region, tags=platform_tags), job_images.get("drift-monitor"))
    monitoring = Monitoring("monitoring", MonitoringArgs(
        namer=namer, kms_key_arn=key.key_arn, bucket_name=store.bucket_name, bucket_arn=store.bucket_arn,
        endpoints=tuple(monitored), topic_arn=alerts.topic_arn,
        thresholds=AlarmThresholds(error_rate_percent=cfg.monitoring.error_rate_percent,
                                   p99_latency_ms=cfg.monitoring.p99_latency_ms),
        vpc=vpc, environment=cfg.environment, **where, tags=platform_tags))

    return StackExports(
        region=cfg.region, artifact_bucket=store.bucket_name,
        repository_urls=repository_exports(services, jobs, registry.repository_urls),
        cluster_name=cluster.cluster_name, kubeconfig=cluster.kubeconfig,
        endpoints={**{name: ep for name, ep in on_cluster.items() if name not in endpoints},
                   **{name: EndpointExport(name=ep.endpoint_name, invoke_url=ep.invoke_url, weights=ep.variant_weights,
                                           extras={"arn": ep.endpoint_arn})
                      for name, ep in endpoints.items()}},
        dashboard_url=monitoring.dashboard_url, alert_destination=alerts.topic_arn,
        extras={"kmsKeyArn": key.key_arn, "vpcId": network.vpc_id, "alertTopicArn": alerts.topic_arn,
                **({"kubernetesEndpoints": {n: ep.output() for n, ep in on_cluster.items()}} if on_cluster else {})})


def _monitored_variant(variant: str, plan: ServicePlan) -> MonitoredVariant:
    shape = instance_shape(plan.slots[variant].instance_type)
    return MonitoredVariant(name=variant, cpus=shape.vcpus, gpus=shape.gpus)
