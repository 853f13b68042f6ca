"""The Azure stack: foundation, Key Vault, telemetry, storage, ACR, images, AKS, Azure ML, endpoints, monitoring.

Plain Python: `PlatformConfig` in, components instantiated and wired, `StackExports` out. What every cloud plans
the same way comes from `infra.composition`; this module maps it onto the Azure components and turns store keys
(`models/<service>/<version>/model.tar.gz`) into blob URLs of the store's containers. The subscription and tenant
are asked once (getClientConfig).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from components.azure.artifact_store import ArtifactStore, ArtifactStoreArgs, CustomerKey
from components.azure.container_registry import ContainerRegistry, ContainerRegistryArgs
from components.azure.foundation import Foundation, FoundationArgs
from components.azure.gpu_cluster import GpuCluster, GpuClusterArgs
from components.azure.key_vault import KeyVault, KeyVaultArgs
from components.azure.ml_workspace import MlWorkspace, MlWorkspaceArgs
from components.azure.model_endpoint import ModelEndpoint, ModelEndpointArgs
from components.azure.monitoring import MonitoredDeployment, MonitoredEndpoint, Monitoring, MonitoringArgs
from components.azure.roles import Scope
from components.azure.telemetry import Telemetry, TelemetryArgs
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
from infra.targets.azure.preflight import azure_names


def compose(cfg: PlatformConfig) -> StackExports:
    names = azure_names(cfg)
    prod = cfg.environment == "prod"
    tags = {**cfg.stack_tags, "service": "platform"}
    services = plan_services(cfg)
    client = azure.authorization.get_client_config_output()

    foundation = Foundation("foundation", FoundationArgs(names=names, location=cfg.region, cidr=cfg.network.cidr,
                                                         tags=tags, protect=prod))
    scope = Scope(subscription_id=client.subscription_id, tenant_id=client.tenant_id,
                  resource_group_name=foundation.resource_group_name, location=cfg.region)
    vault = KeyVault("keyvault", KeyVaultArgs(names=names, scope=scope, environment=cfg.environment, tags=tags,
                                              protect=prod))
    key = CustomerKey(vault_uri=vault.vault_uri, key_name=vault.key_name, identity_id=vault.cmk_identity_id,
                      identity_client_id=vault.cmk_identity_client_id, access=vault.cmk_access)
    telemetry = Telemetry("telemetry", TelemetryArgs(names=names, scope=scope, tags=tags,
                                                     retention_days=cfg.storage.retention_days))
    store = ArtifactStore("artifacts", ArtifactStoreArgs(
        names=names, scope=scope, key=key, subnet_ids=[foundation.subnet_ids["aks"], foundation.subnet_ids["compute"]],
        retention_days=cfg.storage.retention_days, noncurrent_version_days=cfg.storage.noncurrent_version_days,
        tags=tags, protect=prod))
    jobs = plan_job_images(cfg)
    registry = ContainerRegistry("registry", ContainerRegistryArgs(
        names=names, scope=scope, key_id=vault.key_id, key=key, services=registry_repositories(services, jobs),
        untagged_retention_days=cfg.registry.untagged_expiry_days, private=prod,
        endpoint_subnet_id=foundation.subnet_ids["endpoints"], vnet_id=foundation.vnet_id, tags=tags, protect=prod))
    gpu_size = cfg.gpu.instance_type or resolve_gpu(cfg.gpu.accelerator, cfg.gpu.count, "azure").instance_type
    cluster = GpuCluster("gpu", GpuClusterArgs(
        names=names, scope=scope, subnet_id=foundation.subnet_ids["aks"], vault_id=vault.vault_id,
        key_version_id=vault.key_version_id, log_analytics_id=telemetry.log_analytics_id, private=prod,
        authorized_cidrs=() if prod else cfg.network.public_api_cidrs, accelerator=cfg.gpu.accelerator,
        gpu_count=cfg.gpu.count, vm_size=gpu_size, min_nodes=cfg.gpu.min_nodes, max_nodes=cfg.gpu.max_nodes,
        spot=cfg.gpu.spot, disk_size_gb=cfg.gpu.disk_size_gb, apps_pool=on_kubernetes(cfg), tags=tags, protect=prod,
        admin_principal_ids=(cfg.gpu.cluster_admins or (client.object_id,)) if on_kubernetes(cfg) else (),
        admin_principal_type="Group" if cfg.gpu.cluster_admins else cfg.gpu.deployer_type,
        registry_id=registry.registry_id if on_kubernetes(cfg) else None))
    workspace = MlWorkspace("ml", MlWorkspaceArgs(
        names=names, scope=scope, storage_account_id=store.account_id, key_vault_id=vault.vault_id,
        key_id=vault.key_id, key=key, app_insights_id=telemetry.app_insights_id, registry_id=registry.registry_id,
        gpu_vm_size=gpu_size, max_nodes=cfg.gpu.max_nodes,
        low_priority=cfg.gpu.spot, private=prod, tags=tags, protect=prod))

    endpoints: dict[str, ModelEndpoint] = {}
    monitored: list[MonitoredEndpoint] = []
    images = {}
    job_images = build_job_images(jobs, registry.repository_urls, registry.push_credentials)
    for plan in services:
        images[plan.name] = slot_images(plan, registry.repository_urls, registry.push_credentials)
        if not serves_on(cfg, plan.name, ON_ENDPOINT):
            continue  # served on the cluster only (below)
        endpoint = ModelEndpoint(f"{plan.name}-endpoint", ModelEndpointArgs(
            service=plan.name, names=names, scope=scope, workspace_name=workspace.workspace_name,
            workspace_id=workspace.workspace_id, registry_id=registry.registry_id, storage_account_id=store.account_id,
            capture_container=workspace.default_container,
            slots=plan.slot_specs(images[plan.name], store.blob_url), live=plan.live,
            keep_warm=plan.keep_warm, mirror_percent=cfg.services[plan.name].mirror_percent,
            environment=cfg.environment, allow_public_access=not prod,
            capture_sampling_percent=cfg.monitoring.data_capture_percent or 0, tags=plan.tags))
        endpoints[plan.name] = endpoint
        monitored.append(MonitoredEndpoint(
            service=plan.name, endpoint_id=_endpoint_id(workspace.workspace_id, endpoint.endpoint_name),
            endpoint_name=endpoint.endpoint_name,
            deployments=[MonitoredDeployment(slot=slot, deployment_id=endpoint.deployment_ids[slot],
                                             instance_count=plan.slots[slot].instance_count,
                                             gpu=plan.slots[slot].instance_type.startswith("Standard_N"))
                         for slot in endpoint.weights],
            live=plan.live, drift=plan.drift, identity_id=workspace.monitor_identity_id,
            production_data=pulumi.Output.concat("azureml:", endpoint.endpoint_name, f"-{plan.live}-model_inputs:1"),
            reference_data=store.blob_url(f"{plan.baseline_prefix}/baseline.csv")))

    on_cluster: dict[str, EndpointExport] = {}
    if on_kubernetes(cfg):  # the Kubernetes SDK and the k8s components only for stacks that serve there
        from infra.kubernetes_serving import serve_on_kubernetes
        from infra.targets.azure.kubernetes import aks_access

        on_cluster = serve_on_kubernetes(cfg, services, images, lambda: aks_access(
            cluster, names, scope=scope, store=store, accelerator=cfg.gpu.accelerator, spot=cfg.gpu.spot, tags=tags,
            webhook_url=alert_webhook(cfg)), job_images.get("drift-monitor"))

    monitoring = Monitoring("monitoring", MonitoringArgs(
        names=names, scope=scope, workspace_name=workspace.workspace_name,
        log_analytics_id=telemetry.log_analytics_id, endpoints=monitored,
        thresholds=alert_thresholds(cfg), alert_emails=cfg.monitoring.alert_emails, webhook_url=alert_webhook(cfg),
        model_monitor=cfg.monitoring.model_monitor, tags=tags))

    return StackExports(
        region=cfg.region, artifact_bucket=store.account_name,
        repository_urls=repository_exports(services, jobs, registry.repository_urls),
        cluster_name=cluster.cluster_name, kubeconfig=cluster.kubeconfig,
        endpoints={**{name: ep for name, ep in on_cluster.items() if name not in endpoints},
                   **{name: EndpointExport(name=ep.endpoint_name, invoke_url=ep.scoring_uri, weights=ep.weights)
                      for name, ep in endpoints.items()}},
        dashboard_url=monitoring.dashboard_url, alert_destination=monitoring.action_group_id,
        extras={"resourceGroup": foundation.resource_group_name, "registryLoginServer": registry.login_server,
                "mlWorkspace": workspace.workspace_name, "keyVaultUri": vault.vault_uri,
                "oidcIssuerUrl": cluster.oidc_issuer_url,
                **({"kubernetesEndpoints": {n: ep.output() for n, ep in on_cluster.items()}} if on_cluster else {})})


def _endpoint_id(workspace_id: pulumi.Output[str], endpoint_name: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat(workspace_id, "/onlineEndpoints/", endpoint_name)
