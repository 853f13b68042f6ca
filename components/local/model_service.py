"""`mlops:local:ModelService`: one service's deployed slots, each a model server container.

Each slot runs its own image and model version (`SlotSpec` from the neutral core) as `<prefix>-<service>-<slot>`:
read-only root with a tmpfs for the downloaded model, the image's non-root user, a health check on `/ping`,
`unless-stopped` restarts, and the slot's own port on 127.0.0.1. The model comes from the artifact store through
`MODEL_URI=s3://...` and `AWS_ENDPOINT_URL`, exactly as on SageMaker. `pulumi up` does not wait for the slot to run:
on a fresh machine the store is created in the same run and the model is uploaded after it (the trainer's
`--upload`); the server restarts until its model is there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.local.containers import ContainerSpec, container, pull
from components.local.images import SERVICE_USER
from components.local.topology import SERVER_PORT, ServiceRoute
from components.serving import SlotSpec

HEALTHCHECK = ("CMD", "python", "-c", "import urllib.request; urllib.request.urlopen("
               f"'http://127.0.0.1:{SERVER_PORT}/ping', timeout=2)")


@dataclass(frozen=True)
class ModelServiceArgs:
    route: ServiceRoute
    """The deployed slots (names, ports) from the topology."""
    slots: Mapping[str, SlotSpec]
    """Every slot's spec; only the route's slots are deployed."""
    network: pulumi.Input[str]
    store_env: Sequence[pulumi.Input[str]]
    """`ArtifactStore.env()`."""
    capture_uri: str | None = None
    """`s3://<bucket>/capture/<service>` to capture predictions (per slot below it); None: off."""
    capture_percent: float = 0
    pull_provider: pulumi.ProviderResource | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    """Docker labels (the service's tags: the stack's plus `service`)."""
    """Docker provider logged in to the stack's registry (`ContainerRegistry.pull_provider`)."""


class ModelService(pulumi.ComponentResource):
    containers: dict[str, pulumi.Resource]
    container_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:local:ModelService", name, None, opts)
        self.containers, self.container_ids = {}, {}
        for endpoint in args.route.slots:
            slot = args.slots[endpoint.slot]
            image = pull(f"{name}-{endpoint.slot}-image", slot.image, self, args.pull_provider)
            envs: list[pulumi.Input[str]] = [
                f"MODEL_URI={slot.model_uri}", f"PORT={endpoint.port}", *args.store_env]
            if args.capture_uri and args.capture_percent > 0:
                envs += [f"CAPTURE_DESTINATION={args.capture_uri}/{endpoint.slot}",
                         f"CAPTURE_SAMPLE_PERCENT={args.capture_percent:g}"]
            created = container(f"{name}-{endpoint.slot}", ContainerSpec(
                name=endpoint.host, image=image.image_id, network=args.network, user=SERVICE_USER,
                ports={endpoint.port: endpoint.host_port}, envs=envs, healthcheck=HEALTHCHECK,
                labels={**args.tags, "slot": endpoint.slot, "model-version": slot.model_version}, must_run=False),
                self)
            self.containers[endpoint.slot] = created
            self.container_ids[endpoint.slot] = created.id
        self.register_outputs({"container_ids": self.container_ids})
