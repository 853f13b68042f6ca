"""The GCP stack: network, KMS keys, bucket, Artifact Registry, identities, GKE, prediction logs, Vertex AI
endpoints and monitoring.

Plain Python: `PlatformConfig` in, components instantiated and wired, `StackExports` out. What every cloud plans
the same way comes from `infra.composition`; this module maps it onto the GCP components and turns store keys
into `gs://` URIs. Stack tags become GCP labels (`components.gcp.naming.labels`).
"""

from __future__ import annotations

from components.gcp.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.gcp.container_registry import ContainerRegistry, ContainerRegistryArgs
from components.gcp.encryption import Encryption, EncryptionArgs
from components.gcp.gpu_cluster import GpuCluster, GpuClusterArgs
from components.gcp.identity import WORKLOADS, Identity, IdentityArgs
from components.gcp.model_endpoint import ModelEndpoint, ModelEndpointArgs
from components.gcp.monitoring import MonitoredEndpoint, Monitoring, MonitoringArgs
from components.gcp.naming import labels
from components.gcp.network import Network, NetworkArgs
from components.gcp.prediction_logs import PredictionLogs, PredictionLogsArgs
from components.gpu_catalog import resolve_gpu
from infra.composition import (
    ON_ENDPOINT,
    alert_thresholds,
    alert_webhook,
    build_job_images,
    on_kubernetes,
    plan_job_images,
    plan_services,
    registry_repositories,
    repository_exports,
    serves_on,
    slot_images,
)
from infra.config import PlatformConfig
from infra.exports import EndpointExport, StackExports
from infra.targets.gcp.preflight import gcp_names


def compose(cfg: PlatformConfig) -> StackExports:
    names = gcp_names(cfg)
    prod = cfg.environment == "prod"
    stack_labels = labels({**cfg.stack_tags, "service": "platform"})
    services = plan_services(cfg)
    project, region = cfg.project, cfg.region

    network = Network("network", NetworkArgs(names=names, region=region, cidr=cfg.network.cidr,
                                             flow_logs=cfg.network.flow_logs))
    keys = Encryption("encryption", EncryptionArgs(names=names, project=project, region=region, labels=stack_labels,
                                                   protect=prod))
    store = ArtifactStore("artifacts", ArtifactStoreArgs(
        bucket_name=names.bucket(project), region=region, kms_key_id=keys.key_ids["storage"],
        retention_days=cfg.storage.retention_days, noncurrent_version_days=cfg.storage.noncurrent_version_days,
        labels=stack_labels, protect=prod, depends_on=[keys.grants["storage"]]))
    jobs = plan_job_images(cfg)
    registry = ContainerRegistry("registry", ContainerRegistryArgs(
        repository_id=names.name("images"), project=project, region=region, kms_key_id=keys.key_ids["registry"],
        services=registry_repositories(services, jobs), untagged_expiry_days=cfg.registry.untagged_expiry_days,
        keep_tagged=cfg.registry.keep_tagged_images, labels=stack_labels, protect=prod,
        depends_on=[keys.grants["registry"]]))
    on_vertex = any(serves_on(cfg, name, ON_ENDPOINT) for name in cfg.services)
    # Vertex's `serving` account reads the whole bucket: only a stack that serves on Vertex gets it.
    identity = Identity("identity", IdentityArgs(
        names=names, project=project, bucket_name=store.bucket_name, repository=registry.repository_name,
        region=region, workloads={k: w for k, w in WORKLOADS.items() if k != "serving" or on_vertex}))
    gpu = resolve_gpu(cfg.gpu.accelerator, cfg.gpu.count, "gcp")
    cluster = GpuCluster("gpu", GpuClusterArgs(
        names=names, project=project, region=region, network_id=network.network_id, subnet_id=network.subnet_id,
        pods_range=network.pods_range, services_range=network.services_range,
        node_service_account=identity.emails["gke-nodes"], secrets_key_id=keys.key_ids["cluster"],
        gpu_machine_type=cfg.gpu.instance_type or gpu.instance_type,
        gpu_type=gpu.gpu_type, gpu_count=gpu.gpus if not cfg.gpu.instance_type else cfg.gpu.count,
        min_nodes=cfg.gpu.min_nodes, max_nodes=cfg.gpu.max_nodes, spot=cfg.gpu.spot, disk_size_gb=cfg.gpu.disk_size_gb,
        regional=prod, private_endpoint=prod, authorized_cidrs=() if prod else cfg.network.public_api_cidrs,
        labels=stack_labels, protect=prod, depends_on=[keys.grants["cluster"]]))
    logs = PredictionLogs("prediction-logs", PredictionLogsArgs(
        dataset_id=names.dataset(), project=project, region=region, kms_key_id=keys.key_ids["logs"],
        retention_days=cfg.storage.retention_days, labels=stack_labels, protect=prod,
        depends_on=[keys.grants["logs"]]))

    endpoints: dict[str, ModelEndpoint] = {}
    images = {}
    job_images = build_job_images(jobs, registry.repository_urls, registry.push_credentials)
    for plan in services:
        images[plan.name] = slot_images(plan, registry.repository_urls, registry.push_credentials)
        if not cfg.serving:
            # First deploy: the bucket and the registry are created by this very `up`, so no model.tar.gz and no
            # older slot image can be in them yet; Vertex's model upload and the cluster's model servers would fail
            # on both (docs/runbooks/first-deploy.md). The build tag is still pushed.
            continue
        if not serves_on(cfg, plan.name, ON_ENDPOINT):
            continue  # served on the cluster only (below)
        endpoints[plan.name] = ModelEndpoint(f"{plan.name}-endpoint", ModelEndpointArgs(
            service=plan.name, names=names, project=project, region=region,
            slots=plan.slot_specs(images[plan.name], store.gs_uri), live=plan.live,
            keep_warm=plan.keep_warm, max_replicas=plan.max_instances, service_account=identity.emails["serving"],
            kms_key_id=keys.key_ids["vertex"], log_destination=logs.destination,
            log_sampling_percent=cfg.monitoring.data_capture_percent or 0, labels=labels(plan.tags),
            depends_on=(keys.grants["vertex"],), deploy_after=(identity,)))
    on_cluster: dict[str, EndpointExport] = {}
    # `serving: false` holds back the cluster's workloads too: they read the same models and images.
    if cfg.serving and on_kubernetes(cfg):  # the Kubernetes SDK and the k8s components only for stacks serving there
        from infra.kubernetes_serving import serve_on_kubernetes
        from infra.targets.gcp.kubernetes import gke_access

        on_cluster = serve_on_kubernetes(cfg, services, images, lambda: gke_access(
            cluster, names, project=project, gpu_type=gpu.gpu_type, bucket_name=store.bucket_name,
            webhook_url=alert_webhook(cfg)), job_images.get("drift-monitor"))

    monitoring = Monitoring("monitoring", MonitoringArgs(
        project=project, title=names.name("serving"), thresholds=alert_thresholds(cfg),
        alert_emails=cfg.monitoring.alert_emails, labels=stack_labels, region=region,
        model_monitor=cfg.monitoring.model_monitor, kms_key_id=keys.key_ids["vertex"],
        endpoints=[MonitoredEndpoint(service=plan.name, endpoint_id=ep.endpoint_id, max_replicas=plan.max_instances,
                                     endpoint_name=ep.endpoint_name, deployed_model_ids=ep.deployed_model_ids,
                                     drift=plan.drift)
                   for plan, ep in zip([p for p in services if p.name in endpoints], endpoints.values(),
                                       strict=True)]))

    return StackExports(
        region=region, artifact_bucket=store.bucket_name,
        repository_urls=repository_exports(services, jobs, registry.repository_urls),
        cluster_name=cluster.cluster_name, kubeconfig=cluster.kubeconfig,
        endpoints={**{name: ep for name, ep in on_cluster.items() if name not in endpoints},
                   **{name: EndpointExport(name=ep.endpoint_name, invoke_url=ep.invoke_url, weights=ep.weights)
                      for name, ep in endpoints.items()}},
        dashboard_url=monitoring.dashboard_url,
        alert_destination=monitoring.channel_ids[0] if monitoring.channel_ids else "",
        extras={"project": project, "networkId": network.network_id, "keyRing": names.name("keys"),
                "serviceAccounts": identity.emails, "predictionLogs": logs.destination,
                **({"kubernetesEndpoints": {n: ep.output() for n, ep in on_cluster.items()}} if on_cluster else {})})
