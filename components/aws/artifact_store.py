"""ArtifactStore (S3): one bucket for models, datasets, data capture and monitoring reports.

Versioned, SSE-KMS with the stack key (bucket key on), all four public-access blocks, ACLs disabled
(BucketOwnerEnforced), TLS only, lifecycle per environment. In prod, server access logs go to a second
bucket hardened the same way but encrypted with SSE-S3: S3 server access logging supports only SSE-S3
default encryption on the target bucket (S3 User Guide, "Enabling Amazon S3 server access logging").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws import scope
from components.aws.encryption import decrypt_statement, encrypt_decrypt_statement
from components.aws.iam import S3_LIST, S3_READ, S3_WRITE, Statement, policy_document
from components.aws.naming import check_aws_name
from components.naming import Namer

MODELS, DATASETS, DATA_CAPTURE, MONITORING = "models", "datasets", "data-capture", "monitoring"
EXPIRING_PREFIXES = (DATA_CAPTURE, MONITORING)
"""Prefixes whose objects expire after `retention_days` (the others are kept, versioned)."""
_ACCOUNT_REGION_SUFFIX = 1 + 12 + 1 + 14  # "-<account id>-<longest region name>"
_PREFIX = re.compile(r"[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*")


@dataclass(frozen=True)
class ArtifactStoreArgs:
    namer: Namer
    """Builds the bucket names: `<prefix>-<env>-artifacts-<account>-<region>` (globally unique)."""
    kms_key_arn: pulumi.Input[str]
    """The stack key (Encryption.key_arn) for SSE-KMS."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every taggable child."""
    protect: bool = False
    """Protect and retain the buckets (prod)."""
    retention_days: int = 90
    """Days objects under `data-capture/` and `monitoring/` are kept."""
    noncurrent_version_days: int = 30
    """Days a replaced (noncurrent) object version is kept."""
    abort_multipart_days: int = 7
    """Days before an incomplete multipart upload is aborted."""
    access_logs: bool = False
    """Server access logs to a second bucket (on in prod)."""
    access_log_retention_days: int = 365
    """Days access log objects are kept."""
    bucket_name: str | None = None
    """Explicit bucket name (escape hatch); default from `namer` plus account and region."""
    allow_force_destroy: bool = False
    """Let `pulumi destroy` delete non-empty buckets (throwaway dev stacks only; never with `protect`)."""
    region: str | None = None
    """Region of the stack. Default: the provider's (asked with an invoke)."""
    account_id: str | None = None
    """AWS account of the stack. Default: the caller's (asked with an invoke)."""

    def __post_init__(self) -> None:
        errors = []
        for fld in ("retention_days", "noncurrent_version_days", "abort_multipart_days", "access_log_retention_days"):
            if getattr(self, fld) < 1:
                errors.append(f"{fld}={getattr(self, fld)}: must be at least 1 day")
        if self.allow_force_destroy and self.protect:
            errors.append("allow_force_destroy=True with protect=True: a protected bucket is never force-destroyed; "
                          "set allow_force_destroy=False")
        if self.bucket_name is not None:
            errors.append(check_aws_name("s3-bucket", self.bucket_name) or "")
            if self.access_logs:
                errors.append(check_aws_name("s3-bucket", f"{self.bucket_name}-logs") or "")
        else:
            for role in ("artifacts", "access-logs"):  # account id and region are filled in at deploy time
                errors.append(check_aws_name("s3-bucket", f"{self.base_name(role)}-123456789012-ap-southeast-1") or "")
        errors = [e for e in errors if e]
        if errors:
            raise ValueError("; ".join(errors))

    def base_name(self, role: str) -> str:
        return self.namer.name(role, limit=63 - _ACCOUNT_REGION_SUFFIX)


def lifecycle_rules(args: ArtifactStoreArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """Noncurrent versions and stale delete markers expire, captured data and reports expire per env."""
    rules = [aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="noncurrent-versions", status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=args.noncurrent_version_days),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=args.abort_multipart_days),
    )]
    rules += [aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=f"expire-{prefix}", status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{prefix}/"),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
    ) for prefix in EXPIRING_PREFIXES]
    return rules


def deny_insecure_transport(bucket_arn: str) -> Statement:
    return Statement("DenyInsecureTransport", ("s3:*",), [bucket_arn, f"{bucket_arn}/*"], effect="Deny",
                     principals={"AWS": "*"}, conditions={"Bool": {"aws:SecureTransport": "false"}})


def bucket_policy_statements(bucket_arn: str) -> list[Statement]:
    """TLS only; an upload that asks for an encryption other than SSE-KMS is refused (no header: default KMS)."""
    return [
        deny_insecure_transport(bucket_arn),
        Statement("DenyNonKmsEncryptionHeader", ("s3:PutObject",), [f"{bucket_arn}/*"], effect="Deny",
                  principals={"AWS": "*"}, conditions={
                      "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                      "Null": {"s3:x-amz-server-side-encryption": "false"}}),
    ]


def log_bucket_policy_statements(log_bucket_arn: str, source_bucket_arn: str, account_id: str) -> list[Statement]:
    """TLS only; S3's logging service may write the source bucket's logs and nothing else."""
    return [
        deny_insecure_transport(log_bucket_arn),
        Statement("S3ServerAccessLogDelivery", ("s3:PutObject",), [f"{log_bucket_arn}/access-logs/*"],
                  principals={"Service": "logging.s3.amazonaws.com"}, conditions={
                      "ArnLike": {"aws:SourceArn": source_bucket_arn},
                      "StringEquals": {"aws:SourceAccount": account_id}}),
    ]


def _sid(verb: str, prefix: str) -> str:
    return verb + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", prefix) if part)


class ArtifactStore(pulumi.ComponentResource):
    """The platform's S3 bucket (and, with `access_logs`, its log bucket)."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    log_bucket_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:ArtifactStore", name, None, opts)
        self._args = args
        account = scope.account_of(args.account_id, self)
        region = scope.region_of(args.region, self)

        def physical(role: str) -> pulumi.Input[str]:
            return pulumi.Output.concat(args.base_name(role), "-", account, "-", region)

        bucket, versioning = self._hardened_bucket(name, args.bucket_name or physical("artifacts"), args.kms_key_arn)
        self._policy(name, bucket, bucket.arn.apply(lambda arn: policy_document(bucket_policy_statements(arn))))
        self._lifecycle(name, bucket, versioning, lifecycle_rules(args))
        self.bucket_name, self.bucket_arn, self.log_bucket_name = bucket.bucket, bucket.arn, None

        if args.access_logs:
            logs_name = f"{name}-logs"
            logs, logs_versioning = self._hardened_bucket(
                logs_name, f"{args.bucket_name}-logs" if args.bucket_name else physical("access-logs"), None)
            self._policy(logs_name, logs, pulumi.Output.all(logs.arn, bucket.arn, account).apply(
                lambda v: policy_document(log_bucket_policy_statements(v[0], v[1], v[2]))))
            self._lifecycle(logs_name, logs, logs_versioning, [aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.access_log_retention_days),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_version_days),
            )])
            aws.s3.BucketLogging(
                f"{name}-access-logging", bucket=bucket.id, target_bucket=logs.id, target_prefix="access-logs/",
                target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                    partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                        partition_date_source="EventTime")),
                opts=pulumi.ResourceOptions(parent=self))
            self.log_bucket_name = logs.bucket

        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn,
                               "log_bucket_name": self.log_bucket_name})

    def grant_read(self, prefix: str) -> list[Statement]:
        """IAM: read objects under `prefix/` (and list them), decrypting with the stack key."""
        prefix = _check_prefix(prefix)
        return [Statement(_sid("Read", prefix), S3_READ, [self.bucket_arn.apply(lambda a: f"{a}/{prefix}/*")]),
                self._list(prefix), decrypt_statement(self._args.kms_key_arn, _sid("Decrypt", prefix))]

    def grant_write(self, prefix: str) -> list[Statement]:
        """IAM: write objects under `prefix/` (and list them), encrypting with the stack key."""
        prefix = _check_prefix(prefix)
        return [Statement(_sid("Write", prefix), S3_WRITE, [self.bucket_arn.apply(lambda a: f"{a}/{prefix}/*")]),
                self._list(prefix, "ListForWrite"), encrypt_decrypt_statement(self._args.kms_key_arn,
                                                                           _sid("Encrypt", prefix))]

    def _list(self, prefix: str, verb: str = "List") -> Statement:
        return Statement(_sid(verb, prefix), S3_LIST, [self.bucket_arn],
                         conditions={"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}})

    def _hardened_bucket(self, name: str, physical: pulumi.Input[str], kms_key_arn: pulumi.Input[str] | None
                         ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        args, child = self._args, pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(f"{name}-bucket", bucket=physical, force_destroy=args.allow_force_destroy,
                               tags=dict(args.tags),
                               opts=pulumi.ResourceOptions(parent=self, protect=args.protect,
                                                           retain_on_delete=args.protect))
        aws.s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=bucket.id, block_public_acls=True,
                                       block_public_policy=True, ignore_public_acls=True,
                                       restrict_public_buckets=True, opts=child)
        aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket.id, opts=child,
                                       rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"))
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=bucket.id, opts=child,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"))
        by_default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn) if kms_key_arn is not None else \
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(sse_algorithm="AES256")
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=bucket.id, opts=child,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default, bucket_key_enabled=kms_key_arn is not None,
                blocked_encryption_types=["SSE-C"])])
        return bucket, versioning

    def _policy(self, name: str, bucket: aws.s3.Bucket, document: pulumi.Input[str]) -> None:
        aws.s3.BucketPolicy(f"{name}-policy", bucket=bucket.id, policy=document,
                            opts=pulumi.ResourceOptions(parent=self))

    def _lifecycle(self, name: str, bucket: aws.s3.Bucket, versioning: aws.s3.BucketVersioning,
                   rules: list[aws.s3.BucketLifecycleConfigurationRuleArgs]) -> None:
        # Lifecycle rules on versions need versioning applied first (S3 evaluates them together).
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket.id, rules=rules,
                                            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))


def _check_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"prefix {prefix!r}: expected a key prefix such as 'models/fraud' (no wildcards "
                         "for the whole bucket; grant each prefix a workload needs)")
    if "*" in prefix:
        raise ValueError(f"prefix {prefix!r}: wildcards are not allowed; name the prefix")
    return prefix
