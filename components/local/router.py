"""`mlops:local:Router`: nginx splitting each service's traffic across its slots (components/local/nginx_conf.py).

The rendered nginx.conf is uploaded into the container, so a weight change is a new file and, the provider's
uploads being force-new, a new router container on `pulumi up` (a second or two without the router). nginx resolves
its upstream containers once, at start: the router carries the ids of the slot containers it routes to in a
label, so when a slot container is replaced (new model version or image, new address) the router is replaced after
it and never keeps routing to an address that is gone. nginx refuses to start while an upstream name does not
resolve (a slot that is not running yet), so `pulumi up` does not wait for the router either: it restarts until
the slots run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.local.containers import ContainerSpec, container, pull
from components.local.images import PLATFORM_IMAGES
from components.local.nginx_conf import RouterOptions

CONF = "/etc/nginx/nginx.conf"


@dataclass(frozen=True)
class RouterArgs:
    name: str
    network: pulumi.Input[str]
    nginx_conf: str
    host_port: int
    slot_containers: Mapping[str, pulumi.Resource]
    """`<service>/<slot>` -> the slot's container (the router starts after them and follows their replacement)."""
    slot_container_ids: Mapping[str, pulumi.Input[str]]
    options: RouterOptions = field(default_factory=RouterOptions)
    tags: Mapping[str, str] = field(default_factory=dict)


class Router(pulumi.ComponentResource):
    url: str

    def __init__(self, name: str, args: RouterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:local:Router", name, None, opts)
        image = PLATFORM_IMAGES["router"]
        followed = pulumi.Output.all(*[args.slot_container_ids[k] for k in sorted(args.slot_container_ids)]).apply(
            lambda ids: ",".join(ids))
        port = args.options.listen_port
        self.container = container(f"{name}-nginx", ContainerSpec(
            name=args.name, image=pull(f"{name}-image", image.reference, self).image_id, network=args.network,
            user=image.user, ports={port: args.host_port}, files={CONF: args.nginx_conf},
            healthcheck=("CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}/healthz"),
            labels={**args.tags, "slot-containers": followed}, must_run=False), self,
            depends_on=[args.slot_containers[k] for k in sorted(args.slot_containers)])
        self.url = f"http://127.0.0.1:{args.host_port}"
        self.register_outputs({"url": self.url})
