"""The stack's customer managed KMS key: S3, ECR, SageMaker, SNS, CloudWatch Logs and EKS secrets use it.

The key policy names its users instead of handing the account `kms:*`:
- the account (root) administers the key but cannot encrypt or decrypt with it directly;
- principals of this account may use it only through the platform's services (`kms:ViaService`), or
  when they are this stack's own roles (`<prefix>-<env>-*`); either way their IAM policy must also
  allow it, which is what `grant_encrypt_decrypt()` / `grant_decrypt()` return;
- CloudWatch Logs may use it for this account's log groups only (encryption-context condition);
- CloudWatch alarms may publish to topics encrypted with it (SNS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws import scope
from components.aws.iam import KMS_DECRYPT, KMS_ENCRYPT, Statement, policy_document
from components.aws.naming import check_aws_name
from components.naming import Namer

# Key administration without cryptographic use (the console's "key administrators" set), minus
# kms:CreateGrant: an unconditioned grant lets an administrator hand itself Decrypt. Grants come only
# from GrantsForPlatformServices (kms:GrantIsForAWSResource).
KMS_ADMIN = (
    "kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
)
KMS_USE = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
KMS_GRANTS = ("kms:CreateGrant", "kms:ListGrants", "kms:RetireGrant")
# Services that call KMS on behalf of the platform's principals (`kms:ViaService` = `<svc>.<region>.amazonaws.com`).
VIA_SERVICES = ("s3", "ecr", "sagemaker", "sns", "eks")


@dataclass(frozen=True)
class EncryptionArgs:
    namer: Namer
    """Builds the alias (`alias/<prefix>-<env>-platform`) and the stack-role pattern named in the policy."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the key."""
    protect: bool = False
    """Protect and retain the key (prod): retained buckets and repositories stay readable."""
    deletion_window_days: int = 30
    """Days a scheduled key deletion waits (7-30); the longest window is the safest."""
    rotation_period_days: int = 365
    """Automatic rotation period (90-2560 days). Rotation is always on."""
    region: str | None = None
    """Region of the stack. Default: the provider's (asked with an invoke)."""
    account_id: str | None = None
    """AWS account of the stack. Default: the caller's (asked with an invoke)."""

    def __post_init__(self) -> None:
        errors = [e for e in [check_aws_name("kms-alias", self.alias)] if e]
        if not 7 <= self.deletion_window_days <= 30:
            errors.append(f"deletion_window_days={self.deletion_window_days}: KMS allows 7-30 days")
        if not 90 <= self.rotation_period_days <= 2560:
            errors.append(f"rotation_period_days={self.rotation_period_days}: KMS allows 90-2560 days")
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def alias(self) -> str:
        return f"alias/{self.namer.name('platform')}"


def key_policy_statements(account_id: str, region: str, partition: str, role_prefix: str) -> list[Statement]:
    """The key policy: who administers the key and who may use it, and how (pure; snapshot-tested)."""
    root = {"AWS": f"arn:{partition}:iam::{account_id}:root"}
    via = sorted(f"{svc}.{region}.amazonaws.com" for svc in VIA_SERVICES)
    return [
        Statement("KeyAdministration", KMS_ADMIN, ["*"], principals=root),
        Statement("UseThroughPlatformServices", KMS_USE, ["*"], principals=root, conditions={
            "StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": via}}),
        Statement("GrantsForPlatformServices", KMS_GRANTS, ["*"], principals=root, conditions={
            "StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": via},
            "Bool": {"kms:GrantIsForAWSResource": "true"}}),
        Statement("UseByStackRoles", KMS_USE, ["*"], principals=root, conditions={
            "ArnLike": {"aws:PrincipalArn": f"arn:{partition}:iam::{account_id}:role/{role_prefix}-*"}}),
        Statement("CloudWatchLogsEncryptLogGroups",
                  ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
                  ["*"], principals={"Service": f"logs.{region}.amazonaws.com"}, conditions={
                      "ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                  f"arn:{partition}:logs:{region}:{account_id}:log-group:*"}}),
        Statement("CloudWatchAlarmsPublishToEncryptedTopics", ("kms:Decrypt", "kms:GenerateDataKey*"), ["*"],
                  principals={"Service": "cloudwatch.amazonaws.com"},
                  conditions={"StringEquals": {"aws:SourceAccount": account_id}}),
    ]


def encrypt_decrypt_statement(key_arn: pulumi.Input[str], sid: str = "UseStackKey") -> Statement:
    """IAM: encrypt, decrypt and generate data keys with `key_arn` (writers of SSE-KMS data)."""
    return Statement(sid, KMS_ENCRYPT, [key_arn])


def decrypt_statement(key_arn: pulumi.Input[str], sid: str = "DecryptWithStackKey") -> Statement:
    """IAM: decrypt with `key_arn` (readers of SSE-KMS data)."""
    return Statement(sid, KMS_DECRYPT, [key_arn])


class Encryption(pulumi.ComponentResource):
    """One customer managed KMS key per stack, with rotation, an alias and a policy naming its users."""

    key_arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(self, name: str, args: EncryptionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:Encryption", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        account = scope.account_of(args.account_id, self)
        region = scope.region_of(args.region, self)
        partition = scope.partition_for(args.region, self)
        role_prefix = args.namer.name()
        policy = pulumi.Output.all(account, region, partition).apply(
            lambda v: policy_document(key_policy_statements(v[0], v[1], v[2], role_prefix)))

        key = aws.kms.Key(
            f"{name}-key",
            description=f"{role_prefix}: S3, ECR, SageMaker, SNS, CloudWatch Logs and EKS secrets",
            enable_key_rotation=True,
            rotation_period_in_days=args.rotation_period_days,
            deletion_window_in_days=args.deletion_window_days,
            policy=policy,
            tags=dict(args.tags),
            # Retained like the buckets and repositories it encrypts: a deleted stack would otherwise schedule
            # the key's deletion and leave retained objects and images that nobody can decrypt.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        alias = aws.kms.Alias(f"{name}-alias", name=args.alias, target_key_id=key.key_id, opts=child)

        self.key_arn = key.arn
        self.key_id = key.key_id
        self.alias_name = alias.name
        self.register_outputs({"key_arn": self.key_arn, "key_id": self.key_id, "alias_name": self.alias_name})

    def grant_encrypt_decrypt(self, sid: str = "UseStackKey") -> list[Statement]:
        """IAM statements for principals that write encrypted data (S3 puts, SNS publish, volumes)."""
        return [encrypt_decrypt_statement(self.key_arn, sid)]

    def grant_decrypt(self, sid: str = "DecryptWithStackKey") -> list[Statement]:
        """IAM statements for principals that only read encrypted data."""
        return [decrypt_statement(self.key_arn, sid)]


__all__: Sequence[str] = ("Encryption", "EncryptionArgs", "decrypt_statement", "encrypt_decrypt_statement",
                          "key_policy_statements")
