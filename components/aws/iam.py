"""IAM policy documents from typed statements, so no call site writes policy JSON by hand.

Components expose `grant_*` methods that return `Statement`s scoped to their own resources
(CDK style); a role's policy is `policy_document(statements)`. Actions are grouped in constants so a
reviewer sees exactly what each grant allows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

# Action groups (least privilege: exactly what the platform's workloads do).
S3_READ = ("s3:GetObject", "s3:GetObjectVersion")
S3_LIST = ("s3:ListBucket",)
S3_WRITE = ("s3:PutObject", "s3:AbortMultipartUpload")
KMS_DECRYPT = ("kms:Decrypt", "kms:DescribeKey")
KMS_ENCRYPT = ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*", "kms:Decrypt", "kms:DescribeKey")
ECR_AUTH = ("ecr:GetAuthorizationToken",)
ECR_PULL = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
LOGS_WRITE = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
METRICS_WRITE = ("cloudwatch:PutMetricData",)


@dataclass(frozen=True)
class Statement:
    """One IAM statement. Resources may be Outputs (ARNs of resources not created yet)."""

    sid: str
    actions: Sequence[str]
    resources: Sequence[Any]
    effect: str = "Allow"
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    principals: dict[str, Any] = field(default_factory=dict)
    """Resource policies only (key and bucket policies), e.g. `{"Service": "logs.amazonaws.com"}`."""

    def __post_init__(self) -> None:
        if not self.sid.isalnum():
            raise ValueError(f"statement id {self.sid!r} must be alphanumeric")
        if "*" in self.actions and "*" in self.resources:
            raise ValueError(f"statement {self.sid}: `*` actions on `*` resources is never least privilege")


def _render(statements: Sequence[Statement], resolved: Sequence[Sequence[str]]) -> str:
    body = []
    for stmt, resources in zip(statements, resolved, strict=True):
        entry: dict[str, Any] = {
            "Sid": stmt.sid,
            "Effect": stmt.effect,
            "Action": sorted(set(stmt.actions)),
            "Resource": sorted(set(resources)) if len(set(resources)) > 1 else resources[0],
        }
        if stmt.principals:
            entry["Principal"] = stmt.principals
        if stmt.conditions:
            entry["Condition"] = stmt.conditions
        body.append(entry)
    return json.dumps({"Version": "2012-10-17", "Statement": body}, sort_keys=True)


def policy_document(statements: Iterable[Statement]) -> pulumi.Input[str]:
    """The JSON policy document for `statements` (deterministic key order).

    A string when every resource is known already (e.g. inside an `apply`), else an Output that
    resolves the ARNs first.
    """
    stmts = list(statements)
    if not stmts:
        raise ValueError("a policy needs at least one statement")
    if all(isinstance(r, str) for s in stmts for r in s.resources):
        return _render(stmts, [list(s.resources) for s in stmts])
    resolved = pulumi.Output.all(*[pulumi.Output.all(*s.resources) for s in stmts])
    return resolved.apply(lambda groups: _render(stmts, groups))


def assume_role_policy(service: str, conditions: dict[str, dict[str, Any]] | None = None) -> str:
    """Trust policy letting one AWS service principal (e.g. `sagemaker.amazonaws.com`) assume a role."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if conditions:
        statement["Condition"] = conditions
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def irsa_trust_policy(oidc_provider_arn: str, issuer_url: str, namespace: str, service_account: str) -> str:
    """Trust policy letting one Kubernetes service account assume a role through the cluster's OIDC provider."""
    issuer = issuer_url.removeprefix("https://")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                                       f"{issuer}:aud": "sts.amazonaws.com"}}}]}, sort_keys=True)
