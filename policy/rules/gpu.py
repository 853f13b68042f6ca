"""GPU instance types come from an allow-list per environment."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.model import Resource, ResourceRule
from policy.values import as_list, get

_SMALL = ["*g4dn.xlarge", "*g4dn.2xlarge", "*g5.xlarge", "*g5.2xlarge", "*g6.xlarge", "*g6.2xlarge",
          "g2-standard-4", "g2-standard-8", "nvidia-tesla-t4", "nvidia-l4",
          "Standard_NC4as_T4_v3", "Standard_NC8as_T4_v3", "Standard_NV6ads_A10_v5", "Standard_NV12ads_A10_v5",
          "Standard_NV36ads_A10_v5"]
_LARGE = ["*g4dn.*", "*g5.*", "*g6.*", "*g6e.*", "*p4d.24xlarge", "*p5.48xlarge", "a2-*", "a3-*", "g2-*",
          "nvidia-*", "Standard_NC*", "Standard_ND*", "Standard_NV*ads_A10_v5"]

DEFAULT_ALLOWED: dict[str, list[str]] = {"dev": _SMALL, "staging": _SMALL, "prod": _SMALL + _LARGE}
"""Default allow-list (fnmatch patterns) per environment: small single-GPU types outside prod."""

_AWS_GPU = re.compile(r"^(ml\.)?(g\d+[a-z]*|p\d+[a-z]*|inf\d+|trn\d+|dl\d+[a-z]*)\.")
_GCP_GPU = re.compile(r"^(a2|a3|a4|g2|g4)-")
_AZURE_GPU = re.compile(r"^Standard_N", re.IGNORECASE)


def is_gpu_type(instance_type: str) -> bool:
    """Whether an AWS/SageMaker/GCP/Azure machine type (or GCP accelerator) is a GPU type."""
    return bool(_AWS_GPU.match(instance_type) or _GCP_GPU.match(instance_type)
                or _AZURE_GPU.match(instance_type) or instance_type.startswith("nvidia-"))


def allowed_patterns(config: Mapping[str, Any], environment: str) -> list[str]:
    """The allow-list for an environment from policy config (``allowedInstanceTypes``)."""
    table = config.get("allowedInstanceTypes") or DEFAULT_ALLOWED
    return list(table.get(environment, table.get("default", [])))


def _types(r: Resource) -> list[Any]:
    p = r.props
    if r.type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
        return [get(v, "instanceType") for v in as_list(p.get("productionVariants"))
                + as_list(p.get("shadowProductionVariants"))]
    if r.type == "aws:eks/nodeGroup:NodeGroup":
        return as_list(p.get("instanceTypes"))
    if r.type == "gcp:container/nodePool:NodePool":
        return [get(p, "nodeConfig", "machineType")] + [
            get(a, "type") for a in as_list(get(p, "nodeConfig", "guestAccelerators"))]
    if r.type == "azure-native:containerservice:ManagedCluster":
        return [get(a, "vmSize") for a in as_list(p.get("agentPoolProfiles"))]
    if r.type == "azure-native:machinelearningservices:Compute":
        return [get(p, "properties", "properties", "vmSize")]
    if r.type == "azure-native:machinelearningservices:OnlineDeployment":
        return [get(p, "properties", "instanceType")]
    return [p.get("instanceType"), p.get("vmSize")]


def gpu_allowlist(r: Resource) -> Iterator[str]:
    """Every GPU instance type a resource asks for is on its environment's allow-list."""
    patterns = allowed_patterns(r.config, r.environment)
    for instance_type in _types(r):
        if not isinstance(instance_type, str) or not is_gpu_type(instance_type):
            continue
        if not any(fnmatch.fnmatchcase(instance_type, pattern) for pattern in patterns):
            shown = ", ".join(patterns[:6]) + (", ..." if len(patterns) > 6 else "")
            yield (f"GPU type {instance_type!r} is not on the {r.environment} allow-list ({shown or 'empty'}); "
                   "change the type or the policy config allowedInstanceTypes")


GPU_TYPES = (
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws:eks/nodeGroup:NodeGroup",
    "aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance",
    "gcp:container/nodePool:NodePool", "azure-native:containerservice:AgentPool",
    "azure-native:containerservice:ManagedCluster", "azure-native:machinelearningservices:Compute",
    "azure-native:machinelearningservices:OnlineDeployment",
)

GPU_ALLOWLIST = ResourceRule(
    name="gpu-instance-allowlist",
    description="GPU instance types come from the allow-list of the resource's environment.",
    checks={t: gpu_allowlist for t in GPU_TYPES},
    config_schema={"allowedInstanceTypes": {
        "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": DEFAULT_ALLOWED,
        "description": "Per environment (dev/staging/prod, or 'default'), fnmatch patterns of allowed GPU "
                       "instance types, machine types and accelerators."}},
)

RULES = [GPU_ALLOWLIST]
