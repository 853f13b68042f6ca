"""Google Cloud's name and label rules, and the stack's physical names on GCP.

Rules are `NameRule`s whose `source` names the documentation page they come from; `GcpNames.checked` lists
every name a stack will set (with the config key that shapes it), so preflight rejects a name GCP would refuse
before any resource is declared. `labels` turns the stack's tags into valid GCP labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from components.naming import Namer, NameRule, content_hash, shorten

RULES: dict[str, NameRule] = {
    "bucket": NameRule(3, 63, r"^[a-z0-9][a-z0-9_-]*[a-z0-9]$", "cloud.google.com/storage/docs/buckets#naming"),
    "service account": NameRule(6, 30, r"^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$",
                                "cloud.google.com/iam/docs/service-accounts-create#creating"),
    "cluster": NameRule(1, 40, r"^[a-z](?:[-a-z0-9]*[a-z0-9])?$",
                        "cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters"),
    "node pool": NameRule(1, 40, r"^[a-z](?:[-a-z0-9]*[a-z0-9])?$",
                          "cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters.nodePools"),
    "repository": NameRule(1, 63, r"^[a-z](?:[-a-z0-9]*[a-z0-9])?$",
                           "cloud.google.com/artifact-registry/docs/repositories/create-repos"),
    "compute": NameRule(1, 63, r"^[a-z](?:[-a-z0-9]*[a-z0-9])?$", "cloud.google.com/compute/docs/naming-resources"),
    "key ring": NameRule(1, 63, r"^[a-zA-Z0-9_-]+$", "cloud.google.com/kms/docs/resource-hierarchy#key_rings"),
    "dataset": NameRule(1, 1024, r"^[A-Za-z0-9_]+$", "cloud.google.com/bigquery/docs/datasets#dataset-naming"),
}
LABEL_KEY = NameRule(1, 63, r"^[a-z][a-z0-9_-]*$", "cloud.google.com/resource-manager/docs/labels-overview")
LABEL_VALUE = NameRule(0, 63, r"^[a-z0-9_-]*$", "cloud.google.com/resource-manager/docs/labels-overview")
MAX_LABELS = 64


def check_gcp_name(kind: str, value: str) -> str | None:
    """None when `value` is a valid GCP name of `kind`, else the problem (naming the rule's source)."""
    return RULES[kind].problem(kind, value)


def label_value(value: str) -> str:
    """A tag value as a GCP label value: lowercase, other characters as `-`, at most 63 characters."""
    return shorten(re.sub(r"[^a-z0-9_-]+", "-", value.lower()).strip("-"), 63)


def labels(tags: Mapping[str, str]) -> dict[str, str]:
    """The stack's tags as GCP labels (keys must already be valid: preflight checks them; values sanitized)."""
    return {key: label_value(value) for key, value in sorted(tags.items())}


def label_problems(tags: Mapping[str, str]) -> list[tuple[str, str]]:
    """(tag key, problem) for tag keys GCP refuses as label keys (values are sanitized, not refused)."""
    problems = [(key, problem) for key in sorted(tags) if (problem := LABEL_KEY.problem("label key", key))]
    if len(tags) > MAX_LABELS:
        problems.append(("", f"{len(tags)} labels; GCP allows at most {MAX_LABELS} per resource"))
    return problems


def endpoint_id(name: str) -> str:
    """A Vertex AI endpoint id for `name`: numeric, no leading zero, at most 10 digits (AiEndpoint.name)."""
    return str(1_000_000_000 + int(content_hash(name, length=12), 16) % 8_999_999_999)


@dataclass(frozen=True)
class GcpNames:
    """The physical names of one GCP stack."""

    namer: Namer

    def name(self, *parts: str, limit: int = 63) -> str:
        return self.namer.name(*parts, limit=limit)

    def bucket(self, project: str) -> str:
        """Bucket names are global: the project id makes them unique."""
        return self.name(project, "artifacts")

    def service_account(self, workload: str) -> str:
        return self.name(workload, limit=30)

    def dataset(self) -> str:
        return self.name("prediction-logs").replace("-", "_")

    def checked(self, project: str, services: list[str], workloads: list[str]) -> list[tuple[str, str, str]]:
        """(config key that shapes it, rule kind, name) for every name the stack sets."""
        out = [("namePrefix", "bucket", self.bucket(project)), ("namePrefix", "cluster", self.name("gpu", limit=40)),
               ("namePrefix", "repository", self.name("images")), ("namePrefix", "compute", self.name("vpc")),
               ("namePrefix", "key ring", self.name("keys")), ("namePrefix", "dataset", self.dataset())]
        out += [("namePrefix", "service account", self.service_account(w)) for w in workloads]
        out += [(f"services.{svc}", "compute", self.name(svc, "endpoint")) for svc in services]
        return out
