"""`RbacPropagation`: wait after new role assignments before anything uses them.

An Azure role assignment is accepted at once but takes effect later: Azure Resource Manager caches role
assignments, and Microsoft's answer is that changes "can take up to 30 minutes" to be seen (Microsoft Q&A "Azure
RBAC propagation latency", citing "Troubleshoot Azure RBAC"); terraform-provider-azurerm retries around the same
delay (hashicorp/terraform-provider-azurerm#1647, #21337). A storage account created with a customer-managed key,
or an Azure ML deployment pulling its image with AcrPull, right after the grant fails with an authorization error.
So resources that use a grant depend on this resource, which sleeps `seconds` when the grants it follows are new or
changed (create / update) and does nothing on a run where they are unchanged. It cannot prove the grant is live
(only the grantee could), so a still-unauthorized first attempt is converged by the next `pulumi up`
(docs/azureml-serving.md, Known limits). Role assignments already set `principalType` (roles.py), which avoids the
other race, `PrincipalNotFound` right after an identity is created (Azure/avdaccelerator#99).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi.dynamic as dyn

DEFAULT_SECONDS = 120
"""Long enough for most propagations seen in practice; the next `pulumi up` covers the rest."""


class PropagationProvider(dyn.ResourceProvider):
    """Sleeps on create and when the followed assignments change; `sleep` is injectable for tests."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        super().__init__()
        self._sleep = sleep

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        self._sleep(float(props["seconds"]))
        return dyn.CreateResult("rbac-propagation", props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = sorted(olds.get("assignments") or []) != sorted(news.get("assignments") or [])
        return dyn.DiffResult(changes=changed or olds.get("seconds") != news.get("seconds"), replaces=[],
                              stables=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        if sorted(olds.get("assignments") or []) != sorted(news.get("assignments") or []):
            self._sleep(float(news["seconds"]))
        return dyn.UpdateResult(news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class RbacPropagation(dyn.Resource, module="azure", name="RbacPropagation"):
    """A wait after `assignments` (type `pulumi-python:dynamic/azure:RbacPropagation`)."""

    def __init__(self, name: str, assignments: Sequence[pulumi.Resource], seconds: int = DEFAULT_SECONDS,
                 opts: pulumi.ResourceOptions | None = None, provider: PropagationProvider | None = None):
        props = {"assignments": [a.id for a in assignments], "seconds": seconds}  # type: ignore[attr-defined]
        super().__init__(provider or PropagationProvider(), name, props,
                         pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(assignments))))
