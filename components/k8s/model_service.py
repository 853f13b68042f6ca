"""ModelService: one model service's blue/green slots on Kubernetes.

Routed by slot weight through the platform's HTTPRoute, or, in controller mode (`ServiceWorkload.canary`),
by Flagger's canary analysis on the live slot (components/k8s/canary.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.k8s import workload
from components.k8s.resources import declare
from components.k8s.workload import ServiceWorkload

ROLLOUT_WAIT = "30m"
"""How long `pulumi up` waits for a slot's Deployment to become ready."""


@dataclass(frozen=True)
class ModelServiceArgs:
    workload: ServiceWorkload
    """The service's deployed slots, placement and identity (see `components.k8s.workload`)."""
    depends_on: tuple[pulumi.Resource, ...] = ()
    """What must exist first: the gateway (HTTPRoute CRD), the GPU device plugin, the canary controller."""


def _options(manifest: Mapping[str, Any], base: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    if manifest["kind"] != "Deployment":
        return base
    # The HPA owns replicas once the Deployment exists; the plan would otherwise reset it on every up.
    # A GPU pod on a min-0 pool waits for a node (autoscaler, boot, driver, image pull): past the
    # provider's default 10-minute readiness wait, so the wait is raised.
    return pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(
        ignore_changes=["spec.replicas"], custom_timeouts=pulumi.CustomTimeouts(create=ROLLOUT_WAIT,
                                                                                update=ROLLOUT_WAIT)))


class ModelService(pulumi.ComponentResource):
    """Namespace, service account, the slots' workloads and their routing, a NetworkPolicy."""

    namespace: str
    weights: Mapping[str, int]
    """Slot -> weight on the route (the deployed slots); in controller mode the live slot at 100."""
    url_path: str
    controlled: bool
    """True when Flagger routes the service (its HTTPRoute, by host `<service>.serving.mlops.internal`)."""

    def __init__(self, name: str, args: ModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:k8s:ModelService", name, None, opts)
        w = args.workload
        manifests = workload.service_manifests(w)
        ns = declare(f"{name}-namespace", manifests[0], pulumi.ResourceOptions(parent=self))
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns, *args.depends_on])
        workloads: list[pulumi.Resource] = []
        for manifest in manifests[1:]:
            role = f"{manifest['metadata']['name']}-{manifest['kind'].lower()}"
            opts = _options(manifest, in_ns)
            if manifest["kind"] == "HTTPRoute":
                # Weights move only once every slot they name is ready: a slot brought back at weight > 0
                # would otherwise get its share while its pods still wait for a GPU node (503s).
                opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=workloads))
            resource = declare(f"{name}-{role}", manifest, opts)
            if manifest["kind"] in ("Deployment", "Service"):
                workloads.append(resource)
        self.namespace = w.namespace
        self.controlled = w.canary is not None
        self.weights = {slot: spec.weight for slot, spec in w.slots.items()}
        self.url_path = "/" if self.controlled else f"/{w.service}/"
        self.register_outputs({"namespace": self.namespace, "weights": dict(self.weights)})
