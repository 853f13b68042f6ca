"""Local Docker platform containers: reachable from this machine only, and hardened.

(`docker-containers-non-root` lives with the Kubernetes rules; pinned images are `no-latest-image-tag`.)
"""

from __future__ import annotations

from collections.abc import Iterator

from policy.model import Resource, ResourceRule
from policy.values import UNKNOWN, as_list, get

LOOPBACK = ("127.0.0.1", "::1")


def published_on_loopback(r: Resource) -> Iterator[str]:
    """Published ports bind to the loopback address, not every interface (Docker's default is 0.0.0.0)."""
    for port in as_list(r.props.get("ports")):
        ip = get(port, "ip", default="0.0.0.0")
        if ip is not UNKNOWN and ip not in LOOPBACK:
            yield (f"port {get(port, 'internal', default='?')} is published on {ip!r}: bind it to 127.0.0.1 so only "
                   "this machine reaches it")


def hardened(r: Resource) -> Iterator[str]:
    """Every capability dropped and privilege escalation off."""
    drops = get(r.props, "capabilities", "drops", default=[])
    if drops is not UNKNOWN and "ALL" not in as_list(drops):
        yield "capabilities.drops does not include ALL"
    opts = r.props.get("securityOpts")
    if opts is not UNKNOWN and "no-new-privileges:true" not in as_list(opts):
        yield "securityOpts lacks no-new-privileges:true"
    if r.props.get("privileged") is True:
        yield "the container is privileged"


DOCKER_LOOPBACK = ResourceRule(
    name="docker-ports-loopback",
    description="Local Docker containers publish their ports on 127.0.0.1 only.",
    checks={"docker:index/container:Container": published_on_loopback},
)

DOCKER_HARDENED = ResourceRule(
    name="docker-containers-hardened",
    description="Local Docker containers drop every capability and cannot gain privileges.",
    checks={"docker:index/container:Container": hardened},
)

RULES = [DOCKER_LOOPBACK, DOCKER_HARDENED]
