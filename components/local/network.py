"""`mlops:local:Network`: the platform's private Docker network (a user-defined bridge with DNS by container name).

Not `internal`: Docker does not publish ports of containers on internal networks, and the platform's URLs are
published on 127.0.0.1 (components/local/containers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker


@dataclass(frozen=True)
class NetworkArgs:
    name: str
    """Docker network name (`<prefix>-net`)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags (service `platform`)."""


class Network(pulumi.ComponentResource):
    network_name: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:local:Network", name, None, opts)
        network = docker.Network(
            f"{name}-bridge", name=args.name, driver="bridge", attachable=False, internal=False,
            labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in sorted(args.labels.items())],
            opts=pulumi.ResourceOptions(parent=self))
        self.network_name = network.name
        self.register_outputs({"network_name": self.network_name})
