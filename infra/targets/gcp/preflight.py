"""What only Google Cloud's rules can tell about a GCP stack's config, checked before any resource is declared.

The project id's shape (the region is checked against Vertex AI's list by the registry, `Target.regions`),
every slot's instance type against Vertex AI's machine families and
`AcceleratorType` enum (`components.gcp.machine_types`), prod slots with traffic at two replicas or more, an
explicit GPU machine type against the accelerator it carries, the GPU request against the catalog, tag keys
against GCP's label rules, and every generated physical name against its GCP rule.
"""

from __future__ import annotations

import re

from components.gcp.identity import WORKLOADS
from components.gcp.machine_types import FAMILIES, accelerator_enum, parse_instance_type
from components.gcp.naming import GcpNames, check_gcp_name, label_problems
from components.gpu_catalog import GpuCatalogError, resolve_gpu
from components.serving import PROD_MIN_REPLICAS, takes_traffic
from infra.build_tags import build_tag_problems
from infra.composition import stack_namer
from infra.config import NAMESPACE, PlatformConfig
from infra.config_errors import Problem
from infra.preflight import check_gpu_catalog

_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")


def gcp_names(cfg: PlatformConfig) -> GcpNames:
    """The stack's physical names (the components use the same)."""
    return GcpNames(stack_namer(cfg))


def check_gcp(cfg: PlatformConfig) -> list[Problem]:
    """Problems with a GCP stack's config that only Google Cloud's rules can tell."""
    problems: list[Problem] = []
    if not _PROJECT.fullmatch(cfg.project):
        problems.append(Problem("gcp:project", "expected a project id: 6-30 lowercase letters, digits and hyphens, "
                                "starting with a letter (`gcloud projects list`)", cfg.project))
    for svc_name, svc in cfg.services.items():
        for slot_name, slot in svc.slots.items():
            key = f"{NAMESPACE}:services.{svc_name}.slots.{slot_name}"
            try:
                parse_instance_type(slot.instance_type or "")
            except ValueError as exc:
                problems.append(Problem(f"{key}.instanceType", str(exc), slot.instance_type))
            if cfg.environment == "prod" and takes_traffic(slot.weight) and slot.instance_count < PROD_MIN_REPLICAS:
                problems.append(Problem(f"{key}.instanceCount", f"a prod slot with traffic runs at least "
                                        f"{PROD_MIN_REPLICAS} replicas (one is a single point of failure)",
                                        slot.instance_count))
    problems += _gpu_problems(cfg)
    problems += build_tag_problems(cfg)  # Artifact Registry keeps tags immutable, as ECR does
    problems += [Problem(f"{NAMESPACE}:tags" + (f".{key}" if key else ""), problem)
                 for key, problem in label_problems(cfg.stack_tags)]
    for key, kind, name in gcp_names(cfg).checked(cfg.project, list(cfg.services), list(WORKLOADS)):
        error = check_gcp_name(kind, name)
        if error:
            problems.append(Problem(f"{NAMESPACE}:{key}", f"{error}; choose a shorter or simpler {key}"))
    return problems


def _gpu_problems(cfg: PlatformConfig) -> list[Problem]:
    problems = check_gpu_catalog(cfg, "gcp")
    machine = cfg.gpu.instance_type
    if not machine:
        return problems
    try:
        accelerator = resolve_gpu(cfg.gpu.accelerator, 1, "gcp").gpu_type
    except GpuCatalogError as exc:
        return [Problem(f"{NAMESPACE}:gpu.accelerator", str(exc), cfg.gpu.accelerator)]
    family = next((f for f, (pattern, _) in FAMILIES.items() if re.fullmatch(pattern, machine)), None)
    if family is None or accelerator_enum(accelerator) not in FAMILIES[family][1]:
        problems.append(Problem(f"{NAMESPACE}:gpu.instanceType", f"not a GKE machine type that carries {accelerator} "
                                "(n1 takes T4/V100/P100/P4, g2 L4, a2 A100, a3 H100)", machine))
    return problems
