"""What every stack exports, under the same names on every cloud, so runbooks and workflows read one set.

A target's composition returns `StackExports`; `outputs()` is the stack's outputs. Shared names:

| export | value |
|---|---|
| `region` | the stack's region / location |
| `artifactBucket` | the artifact bucket / container (models, datasets, data capture, monitoring reports) |
| `repositoryUrls` | service -> image repository URL in the stack's registry; plus `trainer`, `drift-monitor` |

`repositoryUrls` also names the job images' repositories (`infra.composition.JOB_IMAGES`, built beside the
model server's with the stack's build tag).
| `clusterName` | the GPU cluster (only on clouds with one: not on local) |
| `kubeconfig` | the cluster's kubeconfig (always a secret; only with a cluster) |
| `endpoints` | service -> `{name, invokeUrl, weights}` (weights of the deployed slots) |
| `dashboardUrl` | the serving dashboard |
| `alertDestination` | where alerts go (AWS: the SNS topic ARN; GCP: the notification channel; ...) |

A cloud adds its own exports through `extras` (AWS: `kmsKeyArn`, `vpcId`, `alertTopicArn`) and per
endpoint through `EndpointExport.extras` (AWS: `arn`); an extra may not reuse a shared name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

EXPORT_NAMES = ("region", "artifactBucket", "repositoryUrls", "clusterName", "kubeconfig", "endpoints",
                "dashboardUrl", "alertDestination")
ENDPOINT_KEYS = ("name", "invokeUrl", "weights")


@dataclass(frozen=True)
class EndpointExport:
    """One service's endpoint, as operators and clients need it."""

    name: pulumi.Input[str]
    """The endpoint's name in the cloud."""
    invoke_url: pulumi.Input[str]
    """The URL clients send prediction requests to."""
    weights: Mapping[str, int]
    """Deployed slots and their share of traffic, e.g. `{"blue": 90, "green": 10}`."""
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Cloud-specific values (AWS: `arn`)."""

    def output(self) -> dict[str, Any]:
        return _merge({"name": self.name, "invokeUrl": self.invoke_url, "weights": dict(self.weights)},
                      self.extras, "endpoint")


@dataclass(frozen=True)
class StackExports:
    """The shared exports of a stack, plus the cloud's own."""

    region: str
    artifact_bucket: pulumi.Input[str]
    repository_urls: Mapping[str, pulumi.Input[str]]
    cluster_name: pulumi.Input[str] | None
    """None on a target without a cluster (local): `clusterName` and `kubeconfig` are then not exported."""
    kubeconfig: pulumi.Input[str] | None
    endpoints: Mapping[str, EndpointExport]
    dashboard_url: pulumi.Input[str]
    alert_destination: pulumi.Input[str]
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Cloud-specific exports (AWS: `kmsKeyArn`, `vpcId`, `alertTopicArn`)."""

    def outputs(self) -> dict[str, Any]:
        """Export name -> value; the kubeconfig is wrapped as a secret whatever the component returned."""
        shared = {
            "region": self.region,
            "artifactBucket": self.artifact_bucket,
            "repositoryUrls": dict(self.repository_urls),
            "clusterName": self.cluster_name,
            "kubeconfig": None if self.kubeconfig is None else pulumi.Output.secret(self.kubeconfig),
            "endpoints": {name: endpoint.output() for name, endpoint in self.endpoints.items()},
            "dashboardUrl": self.dashboard_url,
            "alertDestination": self.alert_destination,
        }
        if self.cluster_name is None:
            del shared["clusterName"], shared["kubeconfig"]
        return _merge(shared, self.extras, "stack")


def _merge(shared: dict[str, Any], extras: Mapping[str, Any], what: str) -> dict[str, Any]:
    clash = sorted(set(shared) & set(extras))
    if clash:
        raise ValueError(f"{what} export extras reuse shared names: {', '.join(clash)}")
    return {**shared, **extras}
