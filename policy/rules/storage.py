"""Stack-level checks that need more than one resource: S3 companions, versioning, lifecycle, protection.

In pulumi-aws 7 a bucket's versioning, encryption, public access block, policy and lifecycle are separate
resources that reference the bucket. A companion belongs to a bucket when the bucket is among the
companion's ``bucket`` property dependencies (the engine provides them), else among its parent and
dependencies, narrowed by the ``bucket`` value when several buckets qualify.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel

from policy.model import Resource, ResourceRule, StackCheck, StackRule
from policy.rules.access import statements
from policy.values import UNKNOWN, as_list, get, is_set, is_true

S3_BUCKET = "aws:s3/bucket:Bucket"


def _names(target: Resource, name_prop: str) -> set[Any]:
    return {v for v in (target.props.get(name_prop), target.name) if isinstance(v, str)}


def owners(companion: Resource, targets: Mapping[str, Resource], prop: str, name_prop: str) -> list[Resource]:
    """The targets (e.g. buckets) a companion resource configures."""
    urns = [u for u in companion.property_dependencies.get(prop, ()) if u in targets]
    if not urns:
        related = (companion.parent, *companion.dependencies)
        urns = list(dict.fromkeys(u for u in related if u in targets))
    value = companion.props.get(prop)
    if len(urns) > 1:
        narrowed = [u for u in urns if value in _names(targets[u], name_prop)]
        urns = narrowed or urns
    if not urns and isinstance(value, str):
        urns = [u for u, t in targets.items() if value in _names(t, name_prop)]
    return [targets[u] for u in urns]


def companion_check(target_type: str, companion_types: tuple[str, ...], ok: Callable[[Resource], bool],
                    missing: str, prop: str = "bucket", name_prop: str = "bucket",
                    applies: Callable[[Resource], bool] = lambda _: True) -> StackCheck:
    """A stack check: every ``target_type`` resource has a linked companion for which ``ok`` holds."""

    def check(resources: list[Resource], config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        targets = {r.urn: r for r in resources if r.type == target_type and applies(r)}
        satisfied: set[str] = set()
        for companion in resources:
            if companion.type in companion_types and ok(companion):
                satisfied.update(t.urn for t in owners(companion, targets, prop, name_prop))
        for urn in sorted(set(targets) - satisfied):
            yield urn, missing

    return check


def versioning_enabled(r: Resource) -> bool:
    """An S3 BucketVersioning resource turns versioning on."""
    status = get(r.props, "versioningConfiguration", "status")
    return status in ("Enabled", UNKNOWN)


def sse_kms(r: Resource) -> bool:
    """An S3 encryption configuration uses SSE-KMS."""
    return any(get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") in ("aws:kms", "aws:kms:dsse",
                                                                                  UNKNOWN)
               for rule in as_list(r.props.get("rules")))


def blocks_all_public_access(r: Resource) -> bool:
    """An S3 public access block turns on all four settings."""
    return all(is_true(r.props.get(k)) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                   "restrictPublicBuckets"))


def denies_insecure_transport(r: Resource) -> bool:
    """A bucket policy denies every request made without TLS (aws:SecureTransport false)."""
    if r.props.get("policy") is UNKNOWN:
        return True
    for s in statements(r.props.get("policy")):
        secure = get(s, "Condition", "Bool", "aws:SecureTransport")
        if s.get("Effect") == "Deny" and str(secure).lower() == "false":
            return True
    return False


_S3_VERSIONING = companion_check(
    S3_BUCKET, ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"),
    versioning_enabled, "no aws:s3/bucketVersioning:BucketVersioning with status Enabled for this bucket")
_AZURE_VERSIONING = companion_check(
    "azure-native:storage:StorageAccount", ("azure-native:storage:BlobServiceProperties",),
    lambda r: is_true(r.props.get("isVersioningEnabled")),
    "no azure-native:storage:BlobServiceProperties with isVersioningEnabled for this account",
    prop="accountName", name_prop="accountName")


def artifact_store_versioning(resources: list[Resource], config: Mapping[str, Any]
                              ) -> Iterator[tuple[str, str]]:
    """Stack check: every bucket / storage account keeps object versions."""
    yield from _S3_VERSIONING(resources, config)
    yield from _AZURE_VERSIONING(resources, config)
    for r in resources:
        if r.type == "gcp:storage/bucket:Bucket" and not is_true(get(r.props, "versioning", "enabled",
                                                                     default=False)):
            yield r.urn, "versioning.enabled is not true"


VERSIONING = StackRule(
    name="artifact-store-versioning",
    description="Artifact stores (S3 buckets, GCS buckets, Azure storage accounts) keep object versions.",
    check=artifact_store_versioning,
)

_S3_ENCRYPTION_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
_S3_LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")


def sse_s3(r: Resource) -> bool:
    """An S3 encryption configuration uses SSE-S3 (the only default encryption log delivery supports)."""
    return any(get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") in ("AES256", UNKNOWN)
               for rule in as_list(r.props.get("rules")))


def access_log_targets(resources: list[Resource]) -> set[str]:
    """URNs of buckets that receive S3 server access logs (the `targetBucket` of a BucketLogging)."""
    buckets = {r.urn: r for r in resources if r.type == S3_BUCKET}
    return {target.urn for r in resources if r.type in _S3_LOGGING_TYPES
            for target in owners(r, buckets, "targetBucket", "bucket")}


def s3_encryption_configured(resources: list[Resource], config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Stack check: SSE-KMS on every bucket; SSE-S3 on server access log targets.

    S3 server access log delivery supports only SSE-S3 default encryption on the target bucket
    (S3 User Guide, "Enabling Amazon S3 server access logging"), so those buckets are the one exception.
    """
    log_targets = access_log_targets(resources)
    yield from companion_check(S3_BUCKET, _S3_ENCRYPTION_TYPES, sse_kms,
                               "no BucketServerSideEncryptionConfiguration with SSE-KMS for this bucket",
                               applies=lambda b: b.urn not in log_targets)(resources, config)
    yield from companion_check(S3_BUCKET, _S3_ENCRYPTION_TYPES, sse_s3,
                               "access log target bucket has no BucketServerSideEncryptionConfiguration with "
                               "SSE-S3 (log delivery supports no other default encryption)",
                               applies=lambda b: b.urn in log_targets)(resources, config)


S3_ENCRYPTION_CONFIGURED = StackRule(
    name="s3-encryption-configured",
    description="Every S3 bucket has a server-side encryption configuration with SSE-KMS "
                "(SSE-S3 for server access log targets, the only encryption log delivery supports).",
    check=s3_encryption_configured,
)

S3_PUBLIC_ACCESS_BLOCKED = StackRule(
    name="s3-public-access-blocked",
    description="Every S3 bucket has a public access block with all four settings on.",
    check=companion_check(S3_BUCKET, ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",),
                          blocks_all_public_access,
                          "no BucketPublicAccessBlock with all four settings for this bucket"),
)

S3_TLS_ONLY = StackRule(
    name="s3-tls-only",
    description="Every S3 bucket has a bucket policy denying requests without TLS (aws:SecureTransport).",
    check=companion_check(S3_BUCKET, ("aws:s3/bucketPolicy:BucketPolicy",), denies_insecure_transport,
                          "no bucket policy with a Deny on aws:SecureTransport = false for this bucket"),
)

S3_LIFECYCLE = StackRule(
    name="s3-lifecycle-configured",
    description="Every S3 bucket has a lifecycle configuration (noncurrent versions and captures expire).",
    check=companion_check(S3_BUCKET, ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                                      "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"),
                          lambda r: True, "no BucketLifecycleConfiguration for this bucket"),
    level=EnforcementLevel.ADVISORY,
)

ECR_LIFECYCLE = StackRule(
    name="ecr-lifecycle-policy",
    description="Every ECR repository has a lifecycle policy (untagged images expire).",
    check=companion_check("aws:ecr/repository:Repository", ("aws:ecr/lifecyclePolicy:LifecyclePolicy",),
                          lambda r: True, "no aws:ecr/lifecyclePolicy:LifecyclePolicy for this repository",
                          prop="repository", name_prop="name"),
    level=EnforcementLevel.ADVISORY,
)

STATEFUL_TYPES = (
    S3_BUCKET, "aws:ecr/repository:Repository", "aws:kms/key:Key", "aws:eks/cluster:Cluster",
    "gcp:storage/bucket:Bucket", "gcp:artifactregistry/repository:Repository", "gcp:kms/cryptoKey:CryptoKey",
    "gcp:container/cluster:Cluster", "azure-native:storage:StorageAccount",
    "azure-native:containerregistry:Registry", "azure-native:keyvault:Vault",
    "azure-native:containerservice:ManagedCluster",
)


def prod_protected(r: Resource) -> Iterator[str]:
    """Stateful prod resources are protected against accidental deletion."""
    if r.environment == "prod" and not r.protect:
        yield "stateful resource in prod without protect=True"


PROD_PROTECT = ResourceRule(
    name="prod-protect-stateful",
    description="Stateful production resources (buckets, registries, keys, clusters) set protect.",
    checks={t: prod_protected for t in STATEFUL_TYPES},
    level=EnforcementLevel.ADVISORY,
)


def log_retention(r: Resource) -> Iterator[str]:
    """CloudWatch log groups set a retention period."""
    if not is_set(r.props.get("retentionInDays")):
        yield "retentionInDays is not set: logs would be kept (and billed) forever"


LOG_RETENTION = ResourceRule(
    name="log-retention-set",
    description="Log groups set a retention period.",
    checks={"aws:cloudwatch/logGroup:LogGroup": log_retention},
    level=EnforcementLevel.ADVISORY,
)

RULES = [VERSIONING, S3_ENCRYPTION_CONFIGURED, S3_PUBLIC_ACCESS_BLOCKED, S3_TLS_ONLY, S3_LIFECYCLE,
         ECR_LIFECYCLE, PROD_PROTECT, LOG_RETENTION]
