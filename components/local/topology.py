"""Which containers the local platform runs, what they are called on the Docker network and where they listen.

Pure and deterministic: the composition, every rendered file (nginx, Prometheus, Grafana) and the tests read the
same `Topology`, so a container name in the router's upstream is the name the container was given. Every published
port binds to 127.0.0.1 only: the platform is reachable from this machine, not from the network it sits on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from components.serving import deployed_slots, takes_traffic

SERVER_PORT = 8080
"""Port the model server listens on inside its container (the image's `PORT`)."""
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class HostPorts:
    """Ports published on 127.0.0.1 (change one when it clashes with something else on the machine)."""

    router: int = 8080
    grafana: int = 3000
    prometheus: int = 9090
    alertmanager: int = 9093
    pushgateway: int = 9091
    artifact_store: int = 9000
    artifact_console: int = 9001
    registry: int = 5000
    first_slot: int = 8081
    """Slots get consecutive ports from here, in stack-file order, blue before green."""


@dataclass(frozen=True)
class SlotEndpoint:
    """One deployed slot: a model server container."""

    service: str
    slot: str
    host: str
    """Container name, also its DNS name on the platform network."""
    port: int
    """Port inside the container (`SERVER_PORT`), what the router and Prometheus address."""
    host_port: int
    """Port published on 127.0.0.1 (the slot's own URL, bypassing the router)."""
    weight: int
    model_version: str

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def takes_traffic(self) -> bool:
        return takes_traffic(self.weight)


@dataclass(frozen=True)
class ServiceRoute:
    """A service behind the router: its path prefix and deployed slots."""

    service: str
    slots: tuple[SlotEndpoint, ...]

    @property
    def path(self) -> str:
        """Path prefix on the router: `/<service>/` (stripped before the request reaches a slot)."""
        return f"/{self.service}/"

    @property
    def upstream(self) -> str:
        """nginx upstream name (identifier characters only)."""
        return self.service.replace("-", "_")


@dataclass(frozen=True)
class SlotInput:
    """What the topology needs to know of one slot (from `infra.composition.SlotPlan`)."""

    weight: int
    model_version: str


@dataclass(frozen=True)
class ServiceInput:
    name: str
    live: str
    keep_warm: bool
    slots: Mapping[str, SlotInput]


@dataclass(frozen=True)
class Topology:
    """Container names and ports of one local stack."""

    prefix: str
    """Prefix of every container, volume and network name (`<namePrefix>-<environment>`)."""
    routes: tuple[ServiceRoute, ...]
    ports: HostPorts = field(default_factory=HostPorts)

    def container(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    @property
    def slots(self) -> tuple[SlotEndpoint, ...]:
        return tuple(slot for route in self.routes for slot in route.slots)

    def url(self, port: int, path: str = "") -> str:
        return f"http://{LOOPBACK}:{port}{path}"


def build_topology(prefix: str, services: Sequence[ServiceInput], ports: HostPorts = HostPorts()) -> Topology:
    """The deployed slots of every service (weight-0 slots only when kept warm or live), with their ports."""
    routes = []
    next_port = ports.first_slot
    for svc in services:
        weights = {name: slot.weight for name, slot in svc.slots.items()}
        endpoints = []
        for slot_name in deployed_slots(weights, svc.live, svc.keep_warm):
            slot = svc.slots[slot_name]
            endpoints.append(SlotEndpoint(service=svc.name, slot=slot_name, host=f"{prefix}-{svc.name}-{slot_name}",
                                          port=SERVER_PORT, host_port=next_port, weight=slot.weight,
                                          model_version=slot.model_version))
            next_port += 1
        routes.append(ServiceRoute(service=svc.name, slots=tuple(endpoints)))
    taken = {v for k, v in vars(ports).items() if k != "first_slot"}
    clash = sorted(taken & set(range(ports.first_slot, next_port)))
    if clash:
        raise ValueError(f"slot ports {ports.first_slot}-{next_port - 1} overlap platform ports {clash}; "
                         "move HostPorts.first_slot")
    return Topology(prefix=prefix, routes=tuple(routes), ports=ports)
