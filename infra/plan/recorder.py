"""A mock resource monitor that records every registration the way the engine receives it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_project, get_stack

# Wire-format markers of the Pulumi RPC protocol (sdk/python/lib/pulumi/runtime/rpc.py).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

SECRET = "[secret]"
UNKNOWN = "[unknown]"


@dataclass
class Registration:
    """One RegisterResource call, in plan form."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    replace_on_changes: list[str]
    ignore_changes: list[str]
    aliases: list[Any]
    additional_secret_outputs: list[str]
    custom_timeouts: dict[str, str] | None
    deleted_with: str | None


class RecordingMonitor(MockMonitor):
    """MockMonitor that keeps the raw requests: inputs as serialized, options, dependencies, outputs."""

    def __init__(self, mocks: Any):
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self.stack_outputs: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine builds them (resource.NewURN): the parent's whole qualified type chain,
        and no `pulumi:pulumi:Stack$` prefix for children of the root stack (the SDK's mock adds one)."""
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                qualified = f"{parent_type}${type_}"
        return "::".join(["urn:pulumi:" + get_stack(), get_project(), qualified, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        urn = self.make_urn(request.parent, request.type, request.name)
        self.registrations[urn] = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent or None,
            provider=request.provider or None,
            inputs=to_plain(json_format.MessageToDict(request.object)),
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={prop: sorted(set(deps.urns))
                                   for prop, deps in sorted(request.propertyDependencies.items()) if deps.urns},
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            replace_on_changes=sorted(request.replaceOnChanges),
            ignore_changes=sorted(request.ignoreChanges),
            aliases=sorted((_alias(a) for a in request.aliases), key=repr) + sorted(request.aliasURNs),
            additional_secret_outputs=sorted(request.additionalSecretOutputs),
            custom_timeouts=_timeouts(request),
            deleted_with=request.deletedWith or None,
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = to_plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


def to_plain(value: Any) -> Any:
    """Wire values -> plan values: secrets and unknowns as markers, references as URNs, whole floats as ints."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn", UNKNOWN)
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                return SECRET
            return to_plain(value["value"]) if "value" in value else UNKNOWN
        if sig in (_ASSET_SIG, _ARCHIVE_SIG):
            kind = "asset" if sig == _ASSET_SIG else "archive"
            source = value.get("path") or value.get("uri") or ("<text>" if "text" in value else "<assets>")
            return {kind: source}
        return {k: to_plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if value == UNKNOWN_SENTINEL:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _alias(alias: Any) -> Any:
    fields = json_format.MessageToDict(alias)
    return fields.get("urn") or dict(sorted(fields.get("spec", {}).items()))


def _timeouts(request: Any) -> dict[str, str] | None:
    if not request.HasField("customTimeouts"):
        return None
    timeouts = {k: getattr(request.customTimeouts, k) for k in ("create", "update", "delete")}
    return {k: v for k, v in timeouts.items() if v} or None
