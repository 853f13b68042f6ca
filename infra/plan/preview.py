"""Run a Pulumi program in-process under the SDK's mocks, as a preview, and record what it registers.

`plan_program(fn, ...)` runs any Python callable as a Pulumi program (the stack's real program, a
component under test, an example) and returns a `Plan`. This module imports only the SDK and the
plan's recorder and fakes, so a process that registers resources without the platform's config and
components (the floor in benchmarks/plan.py) pays for nothing else.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from infra.plan.fakes import Cloud, invoke_result, resource_outputs
from infra.plan.recorder import RecordingMonitor, Registration

PLAN_FORMAT_VERSION = 1


@dataclass
class Plan:
    """What one stack would register, in the documented plan format (docs/plan-format.md)."""

    project: str
    stack: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": PLAN_FORMAT_VERSION, "project": self.project, "stack": self.stack,
                "resources": self.resources, "outputs": self.outputs}

    def to_json(self) -> str:
        """Deterministic JSON: keys sorted, resources sorted by URN, trailing newline."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Plan:
        return cls(project=doc["project"], stack=doc["stack"], resources=list(doc["resources"]),
                   outputs=dict(doc.get("outputs", {})))

    # Queries used by tests and the renderers.
    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def named(self, name: str) -> dict[str, Any]:
        matches = [r for r in self.resources if r["name"] == name]
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def children(self, parent_urn: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["parent"] == parent_urn]


class _PlanMocks(pulumi_mocks.Mocks):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        if not args.custom and not args.typ.startswith("pulumi:providers:"):
            return None, {}
        return resource_outputs(self.cloud, args.typ, args.name, dict(args.inputs))

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list]:
        return invoke_result(self.cloud, args.token, dict(args.args)), []


def plan_program(
    program: Callable[[], Any],
    *,
    stack: str,
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    cloud: Cloud | None = None,
    project: str = "mlops-platform",
) -> Plan:
    """Run `program` as a Pulumi program under recording mocks (a preview) and return its plan."""
    _ensure_event_loop()
    monitor = RecordingMonitor(_PlanMocks(cloud or Cloud()))
    settings.set_root_resource(None)
    pulumi_mocks.set_mocks(monitor.mocks, project=project, stack=stack, preview=True, monitor=monitor)
    settings.set_root_resource(None)  # run_in_stack registers its own root Stack, as the engine does
    set_all_config(dict(config or {}), list(secret_keys or []))
    try:
        _sync_await(run_in_stack(program))
    finally:
        settings.set_root_resource(None)
    return Plan(project=project, stack=stack,
                resources=[_resource(r) for _, r in sorted(monitor.registrations.items())],
                outputs=monitor.stack_outputs)


def _ensure_event_loop() -> None:
    """The SDK runs on the thread's current event loop; code run before (asyncio.run) may have closed it."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def close_event_loop() -> None:
    """Close the loop the plans ran on, once a command is done with it.

    Left open, it is finalised at interpreter exit, sometimes after its self-pipe socket: `BaseEventLoop.__del__`
    then prints "Exception ignored ... ValueError: Invalid file descriptor: -1" under a successful plan (about one
    run in thirty). The next `plan_program` on this thread opens a new one.
    """
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    if not loop.is_closed() and not loop.is_running():
        loop.close()


def _resource(reg: Registration) -> dict[str, Any]:
    return {
        "urn": reg.urn,
        "type": reg.type,
        "name": reg.name,
        "custom": reg.custom,
        "parent": reg.parent,
        "provider": reg.provider,
        "inputs": reg.inputs,
        "dependencies": reg.dependencies,
        "propertyDependencies": reg.property_dependencies,
        "protect": reg.protect,
        "retainOnDelete": reg.retain_on_delete,
        "deleteBeforeReplace": reg.delete_before_replace,
        "replaceOnChanges": reg.replace_on_changes,
        "ignoreChanges": reg.ignore_changes,
        "aliases": reg.aliases,
        "additionalSecretOutputs": reg.additional_secret_outputs,
        "customTimeouts": reg.custom_timeouts,
        "deletedWith": reg.deleted_with,
    }
