"""What only AWS's own catalog can tell about an AWS stack's config, checked before any resource is declared.

The rollout's duration against what the provider waits for (components/aws/endpoint_rollout.py), instance
types against botocore's service models (the SageMaker `ProductionVariantInstanceType` and EC2
`InstanceType` enums shipped with boto3), the GPU request against the catalog, Model Monitor's regions
and features, and every physical name the stack derives from config against the service's length and
pattern rules.
"""

from __future__ import annotations

import re

from components.aws.endpoint_rollout import duration_problem
from components.aws.endpoint_variants import sagemaker_instance_types
from components.aws.gpu_cluster import ec2_instance_types
from components.aws.model_monitor import ANALYZER_ACCOUNTS
from components.aws.naming import check_aws_name
from infra.build_tags import build_tag_problems
from infra.composition import ON_ENDPOINT, rollout_spec, serves_on, stack_namer
from infra.config import NAMESPACE, PlatformConfig
from infra.config_errors import Problem, did_you_mean
from infra.preflight import check_gpu_catalog


def aws_names(cfg: PlatformConfig) -> dict[str, tuple[str, str]]:
    """Physical names the AWS stack sets that derive from config: key path -> (name kind, name)."""
    namer = stack_namer(cfg)
    names = {"namePrefix": ("eks-cluster", namer.name("gpu"))}
    for svc in cfg.services:
        names[f"services.{svc}"] = ("sagemaker-endpoint", namer.name(svc))
        names[f"services.{svc}.imageRepository"] = ("ecr-repository", namer.name(svc))
    return names


def check_aws(cfg: PlatformConfig) -> list[Problem]:
    """Problems with an AWS stack's config that only AWS's own catalog can tell."""
    problems: list[Problem] = []
    sagemaker = sagemaker_instance_types()
    # SageMaker's rules bind only the services it serves; `target: kubernetes` ones run on the EKS cluster.
    on_sagemaker = {name: svc for name, svc in cfg.services.items() if serves_on(cfg, name, ON_ENDPOINT)}
    for svc_name, svc in on_sagemaker.items():
        for slot_name, slot in svc.slots.items():
            if slot.instance_type not in sagemaker:
                hint = did_you_mean(slot.instance_type, sagemaker) or did_you_mean(f"ml.{slot.instance_type}",
                                                                                   sagemaker)
                problems.append(Problem(
                    f"{NAMESPACE}:services.{svc_name}.slots.{slot_name}.instanceType",
                    f"not a SageMaker hosting instance type (botocore ProductionVariantInstanceType){hint}",
                    slot.instance_type))
    if cfg.gpu.instance_type and cfg.gpu.instance_type not in ec2_instance_types():
        hint = did_you_mean(cfg.gpu.instance_type, ec2_instance_types())
        problems.append(Problem(f"{NAMESPACE}:gpu.instanceType",
                                f"not an EC2 instance type (botocore InstanceType){hint}", cfg.gpu.instance_type))
    if on_sagemaker and cfg.serving and (too_long := duration_problem(rollout_spec(cfg))):
        problems.append(Problem(f"{NAMESPACE}:rollout", too_long))
    if on_sagemaker and cfg.environment == "prod" and not cfg.rollout.auto_rollback:
        problems.append(Problem(
            f"{NAMESPACE}:rollout.autoRollback", "prod keeps automatic rollback on: the provider forces a new "
            "endpoint when its auto_rollback_configuration changes (terraform-provider-aws "
            "internal/service/sagemaker/endpoint.go, ForceNew), and a named endpoint is deleted before its "
            "replacement exists. Remove the key (default true)", False))
    problems += build_tag_problems(cfg)
    problems += check_cluster_admins(cfg)
    problems += check_gpu_catalog(cfg, "aws")
    problems += check_model_monitor(cfg)
    for key, (kind, name) in aws_names(cfg).items():
        error = check_aws_name(kind, name)
        if error:
            problems.append(Problem(f"{NAMESPACE}:{key}", error))
    return problems


def check_model_monitor(cfg: PlatformConfig) -> list[Problem]:
    """Model Monitor alarms per feature and runs an analyzer image AWS publishes only in some regions."""
    if not cfg.monitoring.model_monitor or not cfg.services:
        return []
    problems = [
        Problem(f"{NAMESPACE}:services.{name}.driftFeatures",
                "required while monitoring.modelMonitor is true: list the features whose drift should raise an "
                "alarm (names as in the training baseline), or set monitoring.modelMonitor: false")
        for name, svc in cfg.services.items() if not svc.drift_features
    ]
    if cfg.region not in ANALYZER_ACCOUNTS:
        problems.append(Problem("aws:region", "SageMaker Model Monitor has no analyzer image here (regions: "
                                f"{', '.join(sorted(ANALYZER_ACCOUNTS))}); set monitoring.modelMonitor: false",
                                cfg.region))
    return problems


_ROLE = re.compile(r"(arn:aws[a-z-]*:iam::\d{12}:role/)?[\w+=,.@/-]{1,512}")


def check_cluster_admins(cfg: PlatformConfig) -> list[Problem]:
    """Prod's EKS API is private: without admins beyond the creating identity, operators cannot reach it."""
    key = f"{NAMESPACE}:gpu.clusterAdmins"
    problems = [Problem(key, "expected an IAM role name (e.g. ml-platform-operators) or a role ARN "
                        "(arn:aws:iam::<account>:role/<name>)", admin)
                for admin in cfg.gpu.cluster_admins if not _ROLE.fullmatch(admin)]
    if cfg.environment == "prod" and not cfg.gpu.cluster_admins:
        problems.append(Problem(key, "required in prod: the cluster's API endpoint is private and only the identity "
                                "that creates it is admin; list the operators' role and the deploy role "
                                "(docs/runbooks/deploy.md)"))
    return problems
