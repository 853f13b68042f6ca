"""Realistic, deterministic values for what the clouds compute: ids, ARNs, URLs, invoke results.

This is the one place that says what a planned resource "would" get back from its cloud, so wiring
(an ARN in a policy, a repository URL in an image name) is visible in the plan. Values derive from
the resource's type and name only, so the same program always yields the same plan.
Each provider has its own module here (aws.py, gcp.py, azure.py, docker.py, ...) that registers its
computed attributes with `provider(...)`: `resources` (type token -> outputs), `invokes` (invoke token ->
result) and a `default` for the provider's other types. Add an entry there when a component starts
using a new type or invoke; a new provider is a new module listed in `MODULES`. A module is imported
the first time a plan meets its prefix, so a plan loads only the fakes of the providers it uses.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"


def digest(*parts: str, length: int = 8) -> str:
    """Stable hex string from parts (stands in for random suffixes and cloud-assigned ids)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Cloud:
    """Where the fake resources live."""

    region: str = "us-east-1"
    project: str = "mlops-demo"
    location: str = "westeurope"
    resource_group: str = "mlops-rg"


@dataclass(frozen=True)
class Ctx:
    cloud: Cloud
    type: str
    name: str
    inputs: dict[str, Any]

    @property
    def physical(self) -> str:
        """The name a cloud would show: an explicit name input, else Pulumi's autoname (name + 7 hex)."""
        return str(self.inputs.get("name") or f"{self.name}-{digest(self.type, self.name, length=7)}")

    def arn(self, service: str, resource: str, regional: bool = True, account: bool = True) -> str:
        region = self.cloud.region if regional else ""
        acct = ACCOUNT_ID if account else ""
        return f"arn:aws:{service}:{region}:{acct}:{resource}"



ResourceFake = Callable[[Ctx], dict[str, Any]]
InvokeFake = Callable[[Cloud, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Provider:
    """The fakes of one provider: its type-token prefix, per-type outputs, invokes and a default."""

    prefix: str
    """Type / invoke token prefix, e.g. `aws:`."""
    resources: dict[str, ResourceFake]
    invokes: dict[str, InvokeFake]
    default: ResourceFake | None = None


_REGISTERED: list[Provider] = []
MODULES = {"aws:": "aws", "azure-native:": "azure", "docker:": "docker", "gcp:": "gcp"}
"""Token prefix -> the module in this package that registers that provider's fakes."""


def provider(prefix: str, resources: dict[str, ResourceFake] | None = None,
             invokes: dict[str, InvokeFake] | None = None, default: ResourceFake | None = None) -> Provider:
    """Register one provider's fakes (called by its module in this package)."""
    fakes = Provider(prefix, dict(resources or {}), dict(invokes or {}), default)
    _REGISTERED.append(fakes)
    return fakes


def _for(token: str) -> Provider | None:
    found = next((p for p in _REGISTERED if token.startswith(p.prefix)), None)
    if found is None:
        module = next((m for prefix, m in MODULES.items() if token.startswith(prefix)), None)
        if module is not None:
            importlib.import_module(f"{__name__}.{module}")  # registers its provider
            found = next((p for p in _REGISTERED if token.startswith(p.prefix)), None)
    return found


def resource_outputs(cloud: Cloud, type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(id, outputs) a cloud would return for a new resource: its inputs plus computed attributes."""
    ctx = Ctx(cloud, type_, name, inputs)
    fakes = _for(type_)
    fake = fakes and (fakes.resources.get(type_) or fakes.default)
    computed = fake(ctx) if fake else {}
    resource_id = str(computed.get("id") or ctx.physical)
    outputs = {**inputs, **computed}
    if not type_.startswith(("kubernetes:", "pulumi:")):
        outputs.setdefault("name", ctx.physical)
    return resource_id, outputs


class UnknownInvokeError(LookupError):
    """A program called an invoke the plan has no fake result for."""


def invoke_result(cloud: Cloud, token: str, args: dict[str, Any]) -> dict[str, Any]:
    """What the provider would answer for an invoke (data source)."""
    fakes = _for(token)
    if fakes is None or token not in fakes.invokes:
        module = token.split(":")[0].replace("-native", "") if fakes is None else fakes.prefix.rstrip(":")
        raise UnknownInvokeError(f"no planned result for invoke {token!r}; add one to "
                                 f"infra/plan/fakes/{module.replace('-', '_')}.py")
    return fakes.invokes[token](cloud, args)
