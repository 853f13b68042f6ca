"""Physical names the clouds constrain (length, charset, global uniqueness), from one place.

`Namer(prefix="mlops", environment="dev").name("fraud", "endpoint")` -> `mlops-dev-fraud-endpoint`.
Names that would exceed a limit are shortened deterministically (a hash of the full name keeps them
unique). `AWS_NAME_RULES` holds the limits and patterns of the names we set on AWS, read from
botocore's service models where AWS publishes them there; `check_aws_name` validates one.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    """Length bounds and pattern of one kind of physical name."""

    min: int
    max: int
    pattern: str
    source: str
    """Where the rule comes from (botocore shape or the service's documentation)."""


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
    import botocore.session

    service, shape = _BOTOCORE_SHAPES[kind]
    meta = botocore.session.get_session().get_service_model(service).shape_for(shape).metadata
    return NameRule(int(meta.get("min", 1)) or 1, int(meta.get("max", 255)), meta.get("pattern", ".*"),
                    f"botocore {service} {shape}")


def check_aws_name(kind: str, value: str) -> str | None:
    """None when `value` is a valid name of `kind`, else what is wrong with it."""
    rule = aws_name_rule(kind)
    if not rule.min <= len(value) <= rule.max:
        return f"{kind} name {value!r} is {len(value)} characters; AWS allows {rule.min}-{rule.max} ({rule.source})"
    if not re.fullmatch(rule.pattern.strip("^$"), value):
        return f"{kind} name {value!r} does not match {rule.pattern} ({rule.source})"
    return None


def shorten(name: str, limit: int) -> str:
    """`name` if it fits, else a prefix of it plus a 6-character hash of the whole (still unique)."""
    if len(name) <= limit:
        return name
    tag = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{tag}"


def content_hash(*parts: str, length: int = 8) -> str:
    """Short stable hash of content, for names that must change when what they name changes."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Namer:
    """Builds `<prefix>-<environment>-<parts...>` names, lowercase and hyphenated, within a limit."""

    prefix: str
    environment: str

    def name(self, *parts: str, limit: int = 63) -> str:
        raw = "-".join([self.prefix, self.environment, *parts])
        return shorten(re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-"), limit)

    def versioned(self, *parts: str, content: str, limit: int = 63) -> str:
        """A name ending in a hash of `content`: a new name whenever the content changes."""
        tag = content_hash(content)
        return f"{self.name(*parts, limit=limit - len(tag) - 1)}-{tag}"
