"""The length and pattern rules of the physical names the AWS components set.

Rules come from botocore's service models where AWS publishes the constraint there
(`_BOTOCORE_SHAPES`, read from the compact `components/aws/catalog.json`), else from the service's
documentation (`_DOCUMENTED`). `check_aws_name`
validates one name; components and the AWS target's preflight call it so a bad name fails before any
API call.
"""

from __future__ import annotations

import functools

from components.aws import catalog
from components.naming import NameRule

# kind -> (botocore service, shape) where botocore publishes the constraint.
_BOTOCORE_SHAPES: dict[str, tuple[str, str]] = {
    "sagemaker-endpoint": ("sagemaker", "EndpointName"),
    "sagemaker-endpoint-config": ("sagemaker", "EndpointConfigName"),
    "sagemaker-model": ("sagemaker", "ModelName"),
    "sagemaker-variant": ("sagemaker", "VariantName"),
    "sagemaker-monitoring-schedule": ("sagemaker", "MonitoringScheduleName"),
    "sagemaker-job-definition": ("sagemaker", "MonitoringJobDefinitionName"),
    "iam-role": ("iam", "roleNameType"),
    "iam-policy": ("iam", "policyNameType"),
    "ecr-repository": ("ecr", "RepositoryName"),
    "eks-cluster": ("eks", "ClusterName"),
    "cloudwatch-alarm": ("cloudwatch", "AlarmName"),
    "kms-alias": ("kms", "AliasNameType"),
    "log-group": ("logs", "LogGroupName"),
}

# Constraints botocore does not carry, from the services' documentation.
_DOCUMENTED: dict[str, NameRule] = {
    "s3-bucket": NameRule(3, 63, r"[a-z0-9][a-z0-9.-]*[a-z0-9]", "S3 bucket naming rules"),
    "sns-topic": NameRule(1, 256, r"[A-Za-z0-9_-]+", "SNS CreateTopic Name"),
    "cloudwatch-dashboard": NameRule(1, 255, r"[A-Za-z0-9_-]+", "CloudWatch PutDashboard DashboardName"),
    "eks-nodegroup": NameRule(1, 63, r"[0-9A-Za-z][A-Za-z0-9_-]*", "EKS CreateNodegroup nodegroupName"),
}


@functools.cache
def aws_name_rule(kind: str) -> NameRule:
    """The rule for one kind of AWS name (see `_BOTOCORE_SHAPES` and `_DOCUMENTED` for kinds)."""
    if kind in _DOCUMENTED:
        return _DOCUMENTED[kind]
    if kind not in _BOTOCORE_SHAPES:
        raise KeyError(f"no naming rule for {kind!r}")
    service, shape = _BOTOCORE_SHAPES[kind]
    meta = catalog.name_constraints(service, shape)
    return NameRule(int(meta.get("min", 1)) or 1, int(meta.get("max", 255)), meta.get("pattern", ".*"),
                    f"botocore {service} {shape}")


def check_aws_name(kind: str, value: str) -> str | None:
    """None when `value` is a valid name of `kind`, else what is wrong with it."""
    return aws_name_rule(kind).problem(kind, value)
