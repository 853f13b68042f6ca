"""Least-privilege IAM statements for the SageMaker roles this project creates (pure builders).

- `endpoint_statements`: an endpoint's execution role reads its model prefix, pulls its ECR repository,
  writes its data-capture prefix, uses the stack key, writes its own log group and its metrics namespace.
- `monitor_statements`: a Model Monitor role reads data capture and baselines, writes reports.

The only `*` resources are where AWS supports nothing narrower, each listed here: ecr:GetAuthorizationToken,
cloudwatch:PutMetricData (pinned by a `cloudwatch:namespace` condition) and the ec2:Describe* calls a
VPC-attached job needs (only when a VPC is configured).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.iam import (
    ECR_AUTH,
    ECR_PULL,
    KMS_DECRYPT,
    LOGS_WRITE,
    METRICS_WRITE,
    S3_LIST,
    S3_READ,
    S3_WRITE,
    Statement,
)
from components.aws.scope import partition_of

# Data keys for SSE-KMS reads and writes (no ReEncrypt: nothing here re-wraps keys).
KMS_DATA_KEY = (*KMS_DECRYPT, "kms:GenerateDataKey")
# An instance's ML storage volume encrypted with a customer key: EBS needs a grant made on the role's behalf.
KMS_GRANT_FOR_VOLUMES = ("kms:CreateGrant",)
DESCRIBE_ALARMS = ("cloudwatch:DescribeAlarms",)
ENI_MANAGE = ("ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
              "ec2:DeleteNetworkInterfacePermission")
ENI_DESCRIBE = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups")


@dataclass(frozen=True)
class Scope:
    """Where a role lives: partition, region and account, for the ARNs built here."""

    partition: str
    region: str
    account: str

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if regional else ''}:{self.account}:{resource}"


def resolve_scope(region: str | None, account_id: str | None, parent: pulumi.Resource) -> Scope:
    """Scope from what the caller knows; the provider is asked (blocking invokes) only for what it does not."""
    invoke = pulumi.InvokeOptions(parent=parent)
    region = region or aws.get_region(opts=invoke).region
    account_id = account_id or aws.get_caller_identity(opts=invoke).account_id
    return Scope(partition_of(region), region, account_id)


def sagemaker_trust_conditions(scope: Scope) -> dict[str, dict[str, Any]]:
    """Confused-deputy guard for a role SageMaker assumes: only for this account's SageMaker resources."""
    return {"StringEquals": {"aws:SourceAccount": scope.account},
            "ArnLike": {"aws:SourceArn": scope.arn("sagemaker", "*")}}


def _objects(bucket_arn: pulumi.Input[str], prefix: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(bucket_arn, "/", prefix.strip("/"), "/*")


def read_prefix(sid: str, bucket_arn: pulumi.Input[str], prefixes: Sequence[str]) -> list[Statement]:
    """GetObject under each prefix, and ListBucket limited to those prefixes."""
    clean = [p.strip("/") for p in prefixes]
    return [
        Statement(f"{sid}Read", S3_READ, [_objects(bucket_arn, p) for p in clean]),
        Statement(f"{sid}List", S3_LIST, [bucket_arn],
                  conditions={"StringLike": {"s3:prefix": sorted({*clean, *(f"{p}/*" for p in clean)})}}),
    ]


def log_group_statement(scope: Scope, log_group: str) -> Statement:
    group = scope.arn("logs", f"log-group:{log_group}")
    return Statement("WriteLogs", LOGS_WRITE, [group, f"{group}:log-stream:*"])


def metrics_statement(namespace: str) -> Statement:
    # PutMetricData has no resource-level permissions; the namespace condition is the scope.
    return Statement("PutMetrics", METRICS_WRITE, ["*"],
                     conditions={"StringEquals": {"cloudwatch:namespace": namespace}})


def vpc_statements(scope: Scope, subnet_ids: Sequence[pulumi.Input[str]],
                   security_group_ids: Sequence[pulumi.Input[str]]) -> list[Statement]:
    """Network interfaces in the given subnets/security groups (only when a VPC is configured)."""
    subnets = [pulumi.Output.concat(scope.arn("ec2", "subnet/"), s) for s in subnet_ids]
    groups = [pulumi.Output.concat(scope.arn("ec2", "security-group/"), g) for g in security_group_ids]
    return [
        Statement("ManageEnis", ENI_MANAGE, [scope.arn("ec2", "network-interface/*"), *subnets, *groups]),
        Statement("DescribeNetwork", ENI_DESCRIBE, ["*"]),  # Describe* support no resource scoping
    ]


def volume_key_grant(kms_key_arn: pulumi.Input[str]) -> Statement:
    """CreateGrant on the stack key, only for grants AWS services make for their resources (EBS volumes).

    SageMaker instances with a KMS-encrypted ML storage volume need it ("kms:CreateGrant" in the
    execution role, docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html, CreateEndpointConfig and
    processing-job permissions); `kms:GrantIsForAWSResource` keeps the role from granting itself anything.
    """
    return Statement("GrantKeyToVolumes", KMS_GRANT_FOR_VOLUMES, [kms_key_arn],
                     conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}})


def rollback_alarm_statement(scope: Scope, alarm_names: Sequence[str]) -> Statement:
    """DescribeAlarms on the auto-rollback alarms: SageMaker reads them with the execution role
    (docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html, "Note")."""
    return Statement("ReadRollbackAlarms", DESCRIBE_ALARMS,
                     [scope.arn("cloudwatch", f"alarm:{n}") for n in alarm_names])


def endpoint_statements(*, scope: Scope, bucket_arn: pulumi.Input[str], model_prefix: str, capture_prefix: str,
                        repository_arn: pulumi.Input[str], kms_key_arn: pulumi.Input[str], endpoint_name: str,
                        metrics_namespace: str, vpc: tuple[Sequence[Any], Sequence[Any]] | None,
                        publish_metrics: bool = False, rollback_alarm_names: Sequence[str] = (),
                        volume_kms: bool = False) -> list[Statement]:
    """What one endpoint's execution role may do.

    `publish_metrics` grants PutMetricData in `metrics_namespace`; only a container with network access
    can reach CloudWatch, so an isolated one gets no such grant. `rollback_alarm_names` are read during
    guarded deployments; `volume_kms` (the stack key encrypts the instances' volumes) adds the volume grant.
    """
    statements = [
        *read_prefix("Model", bucket_arn, [model_prefix]),
        Statement("WriteCapture", S3_WRITE, [_objects(bucket_arn, capture_prefix)]),
        Statement("PullImage", ECR_PULL, [repository_arn]),
        Statement("EcrAuth", ECR_AUTH, ["*"]),  # GetAuthorizationToken only accepts `*`
        Statement("UseKey", KMS_DATA_KEY, [kms_key_arn]),
        log_group_statement(scope, f"/aws/sagemaker/Endpoints/{endpoint_name}"),
    ]
    if publish_metrics:
        statements.append(metrics_statement(metrics_namespace))
    if rollback_alarm_names:
        statements.append(rollback_alarm_statement(scope, rollback_alarm_names))
    if volume_kms:
        statements.append(volume_key_grant(kms_key_arn))
    if vpc is not None:
        statements += vpc_statements(scope, *vpc)
    return statements


def monitor_statements(*, scope: Scope, bucket_arn: pulumi.Input[str], read_prefixes: Sequence[str],
                       report_prefix: str, kms_key_arn: pulumi.Input[str], metrics_namespace: str,
                       vpc: tuple[Sequence[Any], Sequence[Any]] | None, volume_kms: bool = False) -> list[Statement]:
    """What the Model Monitor role may do: read capture + baselines, write reports, publish drift metrics."""
    statements = [
        *read_prefix("Inputs", bucket_arn, read_prefixes),
        Statement("WriteReports", S3_WRITE, [_objects(bucket_arn, report_prefix)]),
        Statement("UseKey", KMS_DATA_KEY, [kms_key_arn]),
        log_group_statement(scope, "/aws/sagemaker/ProcessingJobs"),
        metrics_statement(metrics_namespace),
    ]
    if volume_kms:
        statements.append(volume_key_grant(kms_key_arn))
    if vpc is not None:
        statements += vpc_statements(scope, *vpc)
    return statements
