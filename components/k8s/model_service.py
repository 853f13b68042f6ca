"""ModelService: one model service's blue/green slots on Kubernetes, routed by slot weight through the Gateway API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
    """What must exist first: the gateway release (HTTPRoute CRD), the GPU device plugin."""


class ModelService(pulumi.ComponentResource):
    """Namespace, service account, per-slot Deployment/Service/HPA/PDB, the weighted HTTPRoute, a NetworkPolicy."""

    namespace: str
    weights: Mapping[str, int]
    """Slot -> weight on the route (the deployed slots)."""
    url_path: str

    def __init__(self, name: str, args: ModelServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:k8s:ModelService", name, None, opts)
        w = args.workload
        child = pulumi.ResourceOptions(parent=self)
        ns = declare(f"{name}-namespace", workload.namespace(w), child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns, *args.depends_on])
        declare(f"{name}-service-account", workload.service_account(w), in_ns)
        for slot in w.slots:
            # The HPA owns replicas once the Deployment exists; the plan would otherwise reset it on every up.
            # A GPU pod on a min-0 pool waits for a node (autoscaler, boot, driver, image pull): past the
            # provider's default 10-minute readiness wait, so the wait is raised.
            declare(f"{name}-{slot}", workload.deployment(w, slot), pulumi.ResourceOptions.merge(
                in_ns, pulumi.ResourceOptions(ignore_changes=["spec.replicas"],
                                              custom_timeouts=pulumi.CustomTimeouts(create=ROLLOUT_WAIT,
                                                                                    update=ROLLOUT_WAIT))))
            declare(f"{name}-{slot}-service", workload.service(w, slot), in_ns)
            declare(f"{name}-{slot}-autoscaler", workload.autoscaler(w, slot), in_ns)
            declare(f"{name}-{slot}-disruption-budget", workload.disruption_budget(w, slot), in_ns)
        declare(f"{name}-route", workload.http_route(w), in_ns)
        declare(f"{name}-network-policy", workload.network_policy(w), in_ns)
        self.namespace = w.namespace
        self.weights = {slot: spec.weight for slot, spec in w.slots.items()}
        self.url_path = f"/{w.service}/"
        self.register_outputs({"namespace": self.namespace, "weights": dict(self.weights)})
