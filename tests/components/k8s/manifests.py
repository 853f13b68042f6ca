"""The Kubernetes manifests a stack plan declares, rebuilt from the recorded inputs (for external validators)."""

from __future__ import annotations

from typing import Any

from infra.plan.engine import Plan

KUBERNETES_VERSION = "1.33"
"""The EKS version components/aws/gpu_cluster.py declares (GpuClusterArgs.kubernetes_version)."""


def planned_manifests(plan: Plan) -> list[dict[str, Any]]:
    """Every Kubernetes object of the plan as the API server would receive it (Helm releases excluded)."""
    return [dict(r["inputs"]) for r in plan.resources
            if r["type"].startswith("kubernetes:") and not r["type"].startswith("kubernetes:helm.sh")]


def of_kind(plan: Plan, kind: str) -> list[dict[str, Any]]:
    return [m for m in planned_manifests(plan) if m["kind"] == kind]
