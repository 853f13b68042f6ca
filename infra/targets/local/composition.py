"""The local stack: network, registry, artifact store, model service slots, router, monitoring, drift monitor.

Plain Python: `PlatformConfig` in, components instantiated and wired, `StackExports` out. What every cloud plans the
same way comes from `infra.composition`; store keys become `s3://<bucket>/<key>` on the local MinIO, which every
container reaches through `AWS_ENDPOINT_URL`. Every URL is on 127.0.0.1 (components/local/topology.py).
"""

from __future__ import annotations

import pulumi

from components.alert_rules import ServiceAlerts
from components.local.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.local.config_files import render_config_files
from components.local.drift_monitor import DriftCheck, DriftMonitor, DriftMonitorArgs
from components.local.model_service import ModelService, ModelServiceArgs
from components.local.monitoring import Monitoring, MonitoringArgs
from components.local.network import Network, NetworkArgs
from components.local.registry import ContainerRegistry, ContainerRegistryArgs
from components.local.router import Router, RouterArgs
from infra.composition import (
    alert_thresholds,
    build_job_images,
    plan_job_images,
    plan_services,
    registry_repositories,
    repository_exports,
    slot_images,
    stack_namer,
)
from infra.config import NAMESPACE, PlatformConfig
from infra.exports import EndpointExport, StackExports
from infra.targets.local.preflight import local_topology

PASSWORD_KEY = f"{NAMESPACE}:artifactStorePassword"
"""Optional secret: MinIO's root password (generated and kept in the state when unset)."""
DRIFT_TAG = "local"
"""Tag of the job images in the stack's own registry when no service has a build tag (the drift monitor runs
from it); with one, the shared rule applies (`infra.composition.plan_job_images`)."""


def compose(cfg: PlatformConfig) -> StackExports:
    namer = stack_namer(cfg)
    topology = local_topology(cfg)
    ports = topology.ports
    services = plan_services(cfg)
    tags = {**cfg.stack_tags, "service": "platform"}
    network = Network("network", NetworkArgs(name=topology.container("net"), labels=tags))
    password = pulumi.Config(NAMESPACE).get_secret(PASSWORD_KEY.split(":", 1)[1])
    store = ArtifactStore("artifacts", ArtifactStoreArgs(
        prefix=topology.prefix, network=network.network_name, bucket=namer.name("artifacts"),
        host_port=ports.artifact_store, console_port=ports.artifact_console, password=password, tags=tags))
    jobs = plan_job_images(cfg, fallback_tag=DRIFT_TAG)
    registry = ContainerRegistry("registry", ContainerRegistryArgs(
        prefix=topology.prefix, network=network.network_name, host_port=ports.registry,
        repositories=registry_repositories(services, jobs), tags=tags))

    routes = {route.service: route for route in topology.routes}
    slot_containers: dict[str, pulumi.Resource] = {}
    slot_ids: dict[str, pulumi.Output[str]] = {}
    job_images = build_job_images(jobs, registry.repository_urls, registry.push_credentials)
    for plan in services:
        images = slot_images(plan, registry.repository_urls, registry.push_credentials)
        deployed = ModelService(f"{plan.name}-slots", ModelServiceArgs(
            route=routes[plan.name], slots=plan.slot_specs(images, store.uri),
            network=network.network_name, store_env=store.env(), capture_uri=store.uri(f"capture/{plan.name}"),
            capture_percent=cfg.monitoring.data_capture_percent or 0, pull_provider=registry.pull_provider,
            tags=plan.tags))
        for slot, created in deployed.containers.items():
            slot_containers[f"{plan.name}/{slot}"] = created
            slot_ids[f"{plan.name}/{slot}"] = deployed.container_ids[slot]

    files = render_config_files(topology, [ServiceAlerts(plan.name, plan.drift) for plan in services],
                                alert_thresholds(cfg), alert_emails=cfg.monitoring.alert_emails)
    router = Router("router", RouterArgs(name=topology.container("router"), network=network.network_name,
                                         nginx_conf=files.nginx, host_port=ports.router,
                                         slot_containers=slot_containers, slot_container_ids=slot_ids, tags=tags))
    monitoring = Monitoring("monitoring", MonitoringArgs(topology=topology, files=files,
                                                         network=network.network_name, tags=tags))
    drift = DriftMonitor("drift", DriftMonitorArgs(
        prefix=topology.prefix, network=network.network_name, image=job_images["drift-monitor"],
        store_env=store.env(),
        checks=[DriftCheck(service=plan.name, drift=plan.drift,
                           baseline_uri=store.uri(f"{plan.baseline_prefix}/baseline.csv"),
                           capture_uri=store.uri(f"capture/{plan.name}/")) for plan in services],
        pull_provider=registry.pull_provider, tags=tags))

    return StackExports(
        region="local", artifact_bucket=store.bucket_name,
        repository_urls=repository_exports(services, jobs, registry.repository_urls),
        cluster_name=None, kubeconfig=None,
        endpoints={route.service: EndpointExport(
            name=route.service, invoke_url=f"{router.url}{route.path}invocations",
            weights={slot.slot: slot.weight for slot in route.slots},
            extras={"slotUrls": {slot.slot: topology.url(slot.host_port) for slot in route.slots}})
            for route in topology.routes},
        dashboard_url=monitoring.dashboard_url, alert_destination=monitoring.alertmanager_url,
        extras={"routerUrl": router.url, "grafanaUrl": monitoring.grafana_url,
                "grafanaAdminPassword": pulumi.Output.secret(monitoring.grafana_admin_password),
                "prometheusUrl": monitoring.prometheus_url, "alertmanagerUrl": monitoring.alertmanager_url,
                "pushgatewayUrl": monitoring.pushgateway_url, "artifactStoreEndpoint": store.endpoint,
                "artifactStoreConsoleUrl": store.console_url, "artifactStoreUser": store.user,
                "artifactStorePassword": pulumi.Output.secret(store.password),
                "registryUrl": registry.url,
                "driftMonitor": {service: f"docker start -a {name}" for service, name in drift.containers.items()}})
