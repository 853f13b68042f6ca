"""What only Azure's rules can tell about an Azure stack's config, checked before any resource is declared.

Every generated physical name against Azure's naming rules (`AzureNames.checked`: storage account, registry,
key vault, workspace, endpoints, ...), slot instance types against Azure ML's managed online SKU list, an
explicit GPU VM size against the N-series list, the GPU request against the catalog, that model artifacts
live in the store's `models` container, and the drift features the model monitor needs. (The location is
checked against Azure's list by the registry, `Target.regions`.)
"""

from __future__ import annotations

import re

from components.azure.artifact_store import CONTAINERS
from components.azure.instance_types import DEFAULT_SERVING_TYPE, GPU_VM_SIZES, ONLINE_INSTANCE_TYPES
from components.azure.naming import AzureNames, check_azure_name
from infra.composition import stack_namer
from infra.config import NAMESPACE, PlatformConfig
from infra.config_errors import Problem, did_you_mean
from infra.preflight import check_gpu_catalog

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def azure_names(cfg: PlatformConfig) -> AzureNames:
    """The stack's physical names (the components use the same)."""
    return AzureNames(stack_namer(cfg), cfg.region, cfg.owner)


def check_azure(cfg: PlatformConfig) -> list[Problem]:
    """Problems with an Azure stack's config that only Azure's rules can tell."""
    problems: list[Problem] = []
    for svc_name, svc in cfg.services.items():
        for slot_name, slot in svc.slots.items():
            if slot.instance_type not in ONLINE_INSTANCE_TYPES:
                hint = did_you_mean(slot.instance_type, ONLINE_INSTANCE_TYPES) or (
                    f"; use a size from the list, e.g. {DEFAULT_SERVING_TYPE} (CPU) or Standard_NC4as_T4_v3 (T4 GPU)")
                problems.append(Problem(
                    f"{NAMESPACE}:services.{svc_name}.slots.{slot_name}.instanceType",
                    "not an Azure ML managed online endpoint instance type (Azure ML managed online endpoints SKU "
                    f"list){hint}", slot.instance_type))
        prefix = svc.model_artifact_uri or f"models/{svc_name}"
        if prefix.split("/", 1)[0] != "models":
            problems.append(Problem(f"{NAMESPACE}:services.{svc_name}.modelArtifactUri",
                                    f"on Azure model versions live in the store's `models` container (containers: "
                                    f"{', '.join(CONTAINERS)}); use a prefix such as models/{svc_name}", prefix))
        if cfg.monitoring.model_monitor and not svc.drift_features:
            problems.append(Problem(f"{NAMESPACE}:services.{svc_name}.driftFeatures",
                                    "required while monitoring.modelMonitor is true: list the features the Azure ML "
                                    "drift signal compares, or set monitoring.modelMonitor: false"))
    if cfg.gpu.instance_type and cfg.gpu.instance_type not in GPU_VM_SIZES:
        hint = did_you_mean(cfg.gpu.instance_type, GPU_VM_SIZES)
        problems.append(Problem(f"{NAMESPACE}:gpu.instanceType", f"not an Azure GPU (N-series) VM size{hint} "
                                f"(or remove it: gpu.accelerator {cfg.gpu.accelerator!r} x {cfg.gpu.count} picks the "
                                "GPU catalog's size)", cfg.gpu.instance_type))
    problems += check_gpu_catalog(cfg, "azure")
    problems += [Problem(f"{NAMESPACE}:gpu.clusterAdmins", "not an Entra object id: list the object ids (GUIDs) of "
                         "the groups given cluster admin (`az ad group show --group <name> --query id`)", admin)
                 for admin in cfg.gpu.cluster_admins if not _GUID.fullmatch(admin)]
    for key, kind, name in azure_names(cfg).checked(list(cfg.services)):
        error = check_azure_name(kind, name)
        if error:
            problems.append(Problem(f"{NAMESPACE}:{key}", f"{error}; choose a shorter or simpler {key}"))
    return problems
