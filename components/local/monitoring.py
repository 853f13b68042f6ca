"""`mlops:local:Monitoring`: Prometheus with the platform's alert rules, Alertmanager, a Pushgateway for the drift
monitor, and Grafana with its datasource and dashboard provisioned, every file rendered by
components/local/config_files.py and uploaded into its container (a changed file replaces that container).

Grafana's admin password is generated and kept secret; anonymous viewers may read the dashboards (Grafana is
published on 127.0.0.1 only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.local.config_files import ConfigFiles
from components.local.containers import ContainerSpec, container, data_volume, pull
from components.local.grafana_conf import DASHBOARD_UID, DASHBOARDS_DIR
from components.local.images import PLATFORM_IMAGES
from components.local.prometheus_conf import PrometheusOptions
from components.local.topology import Topology


@dataclass(frozen=True)
class MonitoringArgs:
    topology: Topology
    files: ConfigFiles
    network: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)

class Monitoring(pulumi.ComponentResource):
    prometheus_url: str
    alertmanager_url: str
    pushgateway_url: str
    grafana_url: str
    dashboard_url: str
    grafana_admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:local:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        t, files, ports = args.topology, args.files, args.topology.ports

        def run(role: str, ports_map: dict[int, int], **spec) -> docker.Container:
            image = PLATFORM_IMAGES[role]
            return container(f"{name}-{role}", ContainerSpec(
                name=t.container(role), image=pull(f"{name}-{role}-image", image.reference, self).image_id,
                network=args.network, user=image.user, ports=ports_map, aliases=[role], labels=args.tags, **spec),
                self)

        run("pushgateway", {9091: ports.pushgateway},
            healthcheck=("CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9091/-/ready"))
        run("alertmanager", {9093: ports.alertmanager},
            files={"/etc/alertmanager/alertmanager.yml": files.alertmanager},
            command=["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/tmp/alertmanager"],
            healthcheck=("CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9093/-/ready"))
        data = data_volume(f"{name}-prometheus-data", t.container("prometheus-data"), args.tags, self)
        run("prometheus", {9090: ports.prometheus},
            files={"/etc/prometheus/prometheus.yml": files.prometheus, PrometheusOptions().rules_file: files.rules},
            command=["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
                     "--storage.tsdb.retention.time=7d", "--web.enable-lifecycle"],
            volumes={"/prometheus": data.name},
            healthcheck=("CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready"))
        admin = random.RandomPassword(f"{name}-grafana-admin", length=24, special=False, opts=child)
        self.grafana_admin_password = admin.result
        run("grafana", {3000: ports.grafana},
            files={"/etc/grafana/provisioning/datasources/platform.yaml": files.grafana_datasources,
                   "/etc/grafana/provisioning/dashboards/platform.yaml": files.grafana_dashboards,
                   f"{DASHBOARDS_DIR}/serving.json": files.dashboard},
            envs=["GF_SECURITY_ADMIN_USER=admin", pulumi.Output.concat("GF_SECURITY_ADMIN_PASSWORD=", admin.result),
                  "GF_AUTH_ANONYMOUS_ENABLED=true", "GF_AUTH_ANONYMOUS_ORG_ROLE=Viewer",
                  "GF_USERS_ALLOW_SIGN_UP=false", "GF_ANALYTICS_REPORTING_ENABLED=false"],
            healthcheck=("CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/api/health"))
        self.prometheus_url = t.url(ports.prometheus)
        self.alertmanager_url = t.url(ports.alertmanager)
        self.pushgateway_url = t.url(ports.pushgateway)
        self.grafana_url = t.url(ports.grafana)
        self.dashboard_url = t.url(ports.grafana, f"/d/{DASHBOARD_UID}")
        self.register_outputs({"prometheus_url": self.prometheus_url, "grafana_url": self.grafana_url})
