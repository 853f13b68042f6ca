"""`mlops:local:DriftMonitor`: the drift monitor as one one-shot container per service, run on demand or on a timer.

The image is the drift-monitor job image the stack builds and pushes to its registry like every target
(`infra.composition.build_job_images`, from services/drift_monitor/); `image` is its pushed digest. Each
service gets a container that is created, not started: it reads the live model's baseline and the slots'
captured predictions from the artifact store (`s3://` through `AWS_ENDPOINT_URL`), pushes its PSI per feature
to the Pushgateway with the grouping key `service=<name>` (the label contract of components/alert_rules.py),
and exits. `docker start -a <container>` runs it now; the stack's
`driftMonitor` export gives the command per service and docs/local-platform.md a timer for the drift schedule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.local.containers import ContainerSpec, container, pull
from components.local.images import SERVICE_USER
from components.monitoring import DriftSpec


@dataclass(frozen=True)
class DriftCheck:
    service: str
    drift: DriftSpec
    baseline_uri: str
    """`s3://<bucket>/<model prefix>/<live version>/baseline.csv`."""
    capture_uri: str
    """`s3://<bucket>/capture/<service>/`: what the slots captured."""


@dataclass(frozen=True)
class DriftMonitorArgs:
    prefix: str
    network: pulumi.Input[str]
    image: pulumi.Input[str]
    """The drift-monitor job image's pushed digest (`<registry>/drift-monitor@sha256:...`)."""
    checks: Sequence[DriftCheck]
    store_env: Sequence[pulumi.Input[str]]
    pushgateway: str = "http://pushgateway:9091"
    pull_provider: pulumi.ProviderResource | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags; each container's `service` label is its service."""


def drift_command(check: DriftCheck, pushgateway: str) -> list[str]:
    """The drift monitor's arguments for one service (services/drift_monitor/cli.py)."""
    return ["--baseline", check.baseline_uri, "--current", check.capture_uri, "--out", "/tmp/drift-report.json",
            "--psi-threshold", f"{check.drift.threshold_psi:g}", "--pushgateway", pushgateway,
            "--grouping-key", f"service={check.service}"]


class DriftMonitor(pulumi.ComponentResource):
    containers: dict[str, str]
    """Service -> the container name to `docker start -a`."""

    def __init__(self, name: str, args: DriftMonitorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:local:DriftMonitor", name, None, opts)
        image = pull(f"{name}-pulled", args.image, self, args.pull_provider)
        self.containers = {}
        for check in args.checks:
            container_name = f"{args.prefix}-drift-{check.service}"
            container(f"{name}-{check.service}", ContainerSpec(
                name=container_name, image=image.image_id, network=args.network, user=SERVICE_USER,
                envs=list(args.store_env), command=drift_command(check, args.pushgateway),
                labels={**args.tags, "service": check.service}, one_shot=True), self)
            self.containers[check.service] = container_name
        self.register_outputs({"containers": self.containers})
