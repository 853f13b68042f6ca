"""The AWS target: `aws:region`, botocore-backed preflight checks, and the SageMaker / EKS composition."""

from typing import Any

from infra.regions import aws_regions
from infra.targets import Target, register
from infra.targets.aws.composition import compose
from infra.targets.aws.preflight import check_aws


def _eks_access(*args: Any, **kwargs: Any) -> Any:
    """The EKS wiring (infra/targets/aws/kubernetes.py), imported only by a stack that serves on Kubernetes."""
    from infra.targets.aws.kubernetes import eks_access

    return eks_access(*args, **kwargs)


TARGET = register(Target(cloud="aws", provider_keys=("aws:region",), region_key="aws:region", preflight=check_aws,
                         regions=aws_regions, compose=compose, default_instance_type="ml.m5.large",
                         serving_toggle=True, kubernetes=_eks_access))
