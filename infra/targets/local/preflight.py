"""What only the local platform can tell about a `cloud: local` stack, checked before any resource is declared.

A slot is one model server container on this machine: its instance type is `container` (the default) and its
count 1; every slot gets its own port on 127.0.0.1, which must not run into the platform's own ports.
"""

from __future__ import annotations

from components.local.topology import ServiceInput, SlotInput, Topology, build_topology
from infra.composition import stack_namer
from infra.config import NAMESPACE, PlatformConfig
from infra.config_errors import Problem

CONTAINER = "container"
"""The local meaning of a slot's instance type: one container on this Docker host."""


def local_topology(cfg: PlatformConfig) -> Topology:
    """Container names and ports of the stack (the composition uses the same)."""
    return build_topology(stack_namer(cfg).name(), [
        ServiceInput(name, svc.live, svc.keep_warm,
                     {slot_name: SlotInput(slot.weight, slot.model_version) for slot_name, slot in svc.slots.items()})
        for name, svc in cfg.services.items()])


def check_local(cfg: PlatformConfig) -> list[Problem]:
    problems: list[Problem] = []
    for svc_name, svc in cfg.services.items():
        for slot_name, slot in svc.slots.items():
            key = f"{NAMESPACE}:services.{svc_name}.slots.{slot_name}"
            if slot.instance_type != CONTAINER:
                problems.append(Problem(f"{key}.instanceType", f"the local platform runs each slot as one container; "
                                        f"remove instanceType or set it to {CONTAINER}", slot.instance_type))
            if slot.instance_count != 1:
                problems.append(Problem(f"{key}.instanceCount", "the local platform runs one container per slot; "
                                        "set instanceCount to 1", slot.instance_count))
    try:
        local_topology(cfg)
    except ValueError as exc:
        problems.append(Problem(f"{NAMESPACE}:services", f"{exc}; run fewer services on one machine"))
    return problems
