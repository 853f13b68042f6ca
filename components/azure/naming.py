"""Azure's name rules, and every physical name the Azure components set, built in one place.

Rules come from "Naming rules and restrictions for Azure resources" (Azure Resource Manager docs,
resource-name-rules) and, for Azure ML, the service's REST API validation (endpoint names must start
with a letter, 3-32 characters, unique per region). Storage accounts, container registries and key
vaults have GLOBAL names (DNS labels under blob.core.windows.net, azurecr.io, vault.azure.net), and an online
endpoint's name is unique per region (`<endpoint>.<region>.inference.ml.azure.com`), so `AzureNames` ends them in a
hash of the stack's identity (prefix, environment, location, owner): two
organisations with the default prefix do not collide, and the same stack always gets the same name.
A soft-deleted key vault keeps its name for the retention period (docs/runbooks/disaster-recovery.md).

`AzureNames(namer, location, owner)` is used by the components and by the Azure target's preflight, so a
name is checked at config time exactly as it will be declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.naming import Namer, NameRule, content_hash, shorten

_DOCS = "Azure resource-name-rules"
RULES: dict[str, NameRule] = {
    "resource-group": NameRule(1, 90, r"[A-Za-z0-9._()-]*[A-Za-z0-9_()-]", _DOCS),
    "storage-account": NameRule(3, 24, r"[a-z0-9]+", f"{_DOCS} (Microsoft.Storage/storageAccounts, global)"),
    "key-vault": NameRule(3, 24, r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]",
                          f"{_DOCS} (Microsoft.KeyVault/vaults, global)"),
    "container-registry": NameRule(5, 50, r"[a-zA-Z0-9]+",
                                   f"{_DOCS} (Microsoft.ContainerRegistry/registries, global)"),
    "aks-cluster": NameRule(1, 63, r"[a-zA-Z0-9][a-zA-Z0-9_-]*[a-zA-Z0-9]", f"{_DOCS} (managedClusters)"),
    "aks-agent-pool": NameRule(1, 12, r"[a-z][a-z0-9]*", f"{_DOCS} (agentPools, Linux)"),
    "ml-workspace": NameRule(3, 33, r"[a-zA-Z0-9][a-zA-Z0-9_-]*", f"{_DOCS} (Microsoft.MachineLearningServices)"),
    "ml-endpoint": NameRule(3, 32, r"[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]",
                            "Azure ML online endpoint names (unique per region)"),
    "ml-deployment": NameRule(3, 32, r"[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]", "Azure ML online deployment names"),
    "ml-compute": NameRule(2, 16, r"[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]", "Azure ML compute names"),
    "ml-asset": NameRule(1, 255, r"[a-zA-Z0-9][a-zA-Z0-9._-]*", "Azure ML asset (environment, schedule) names"),
    "log-analytics": NameRule(4, 63, r"[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]", f"{_DOCS} (workspaces)"),
    "generic": NameRule(1, 80, r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9_]", _DOCS),
    "action-group-short": NameRule(1, 12, r"[a-zA-Z0-9 _-]+", "Azure Monitor action group short name"),
}


def check_azure_name(kind: str, value: str) -> str | None:
    """None when `value` is a valid name of `kind`, else what is wrong with it (naming the rule's source)."""
    if kind not in RULES:
        raise KeyError(f"no Azure naming rule for {kind!r}; known: {', '.join(sorted(RULES))}")
    return RULES[kind].problem(kind, value)


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class AzureNames:
    """Every physical name an Azure stack declares, from the stack's namer and identity."""

    namer: Namer
    location: str
    owner: str = ""

    @property
    def suffix(self) -> str:
        """6 hex characters unique to this stack: keeps global names (storage, ACR, vault) from colliding."""
        qualifier = (self.namer.qualifier,) if self.namer.qualifier else ()  # unqualified stacks keep their names
        return content_hash(self.namer.prefix, self.namer.environment, self.location, self.owner, *qualifier,
                            length=6)

    def name(self, *parts: str, limit: int = 63) -> str:
        return self.namer.name(*parts, limit=limit)

    def resource_group(self) -> str:
        return self.name("rg", limit=90)

    def storage_account(self) -> str:
        head = _compact(f"{self.namer.prefix}{self.namer.stack}")[: 24 - 3 - 6]
        return f"{head}art{self.suffix}"

    def container_registry(self) -> str:
        return f"{_compact(f'{self.namer.prefix}{self.namer.stack}')[:40]}acr{self.suffix}"

    def key_vault(self) -> str:
        head = shorten(f"{self.namer.prefix}-{self.namer.stack}", 24 - 4 - 6).rstrip("-")
        return re.sub("-+", "-", f"{head}-kv-{self.suffix}")

    def ml_workspace(self) -> str:
        return self.name("mlw", limit=33)

    def endpoint(self, service: str) -> str:
        """The service's online endpoint: `<prefix>-<env>-<service>-<suffix>`, at most 32 characters.

        The name is the scoring URI's host label (`<name>.<region>.inference.ml.azure.com`), so it is unique per
        region across every subscription: like the global names it ends in the stack's suffix, and a long service
        name is shortened deterministically (a hash keeps it unique) rather than refused.
        """
        return f"{self.name(service, limit=32 - 1 - len(self.suffix))}-{self.suffix}"

    def compute(self) -> str:
        return f"gpu-{self.namer.environment}"[:16]

    def aks_cluster(self) -> str:
        return self.name("aks")

    def environment(self, service: str) -> str:
        """The Azure ML environment (image + inference routes) of a service's deployments."""
        return self.name(service, "server", limit=255)

    def drift_schedule(self, service: str) -> str:
        return self.name(service, "drift", limit=255)

    def checked(self, services: list[str]) -> list[tuple[str, str, str]]:
        """Every generated name with what the user controls: (config key, rule kind, name)."""
        names = [("namePrefix", kind, name) for kind, name in (
            ("resource-group", self.resource_group()), ("storage-account", self.storage_account()),
            ("container-registry", self.container_registry()), ("key-vault", self.key_vault()),
            ("ml-workspace", self.ml_workspace()), ("aks-cluster", self.aks_cluster()))]
        names.append(("environment", "ml-compute", self.compute()))
        for svc in services:
            names += [(f"services.{svc}", "ml-endpoint", self.endpoint(svc)),
                      (f"services.{svc}", "ml-asset", self.environment(svc)),
                      (f"services.{svc}", "ml-asset", self.drift_schedule(svc))]
        return names
