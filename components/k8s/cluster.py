"""ClusterConnection: the `pulumi_kubernetes.Provider` of one cluster, built from its kubeconfig output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class ClusterConnectionArgs:
    kubeconfig: pulumi.Input[str]
    """The cluster's kubeconfig (a secret output of the cluster component)."""
    cluster_identifier: pulumi.Input[str]
    """A stable id of the cluster (its name): the provider, and every object through it, is replaced only when
    this changes (otherwise a kubeconfig unknown at preview, e.g. during a cluster update, replaces them all)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before anything is applied through the provider (the cluster and its node groups)."""


class ClusterConnection(pulumi.ComponentResource):
    """Every Kubernetes resource of the stack goes through `provider` (server-side apply)."""

    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterConnectionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:k8s:ClusterConnection", name, None, opts)
        self.provider = k8s.Provider(f"{name}-provider", kubeconfig=args.kubeconfig, enable_server_side_apply=True,
                                     cluster_identifier=args.cluster_identifier,
                                     opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)))
        self.register_outputs({})
