"""ArtifactStore: a hardened, versioned, KMS-encrypted bucket with per-env lifecycle and access logs."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs, lifecycle_rules
from components.aws.iam import policy_document
from components.aws.naming import check_aws_name
from components.naming import Namer
from infra.plan.engine import plan_program

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/stack"
BUCKET = "aws:s3/bucket:Bucket"


def _args(env: str = "dev", **overrides) -> ArtifactStoreArgs:
    return ArtifactStoreArgs(**{"namer": Namer("mlops", env), "kms_key_arn": KEY_ARN, **overrides})


def _build(args: ArtifactStoreArgs) -> None:
    store = ArtifactStore("art", args)
    pulumi.export("read", policy_document(store.grant_read("models/fraud")))
    pulumi.export("write", policy_document(store.grant_write("data-capture/fraud")))


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: _build(_args(retention_days=14)), stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(lambda: _build(_args("prod", protect=True, access_logs=True)), stack="prod")


def _one(plan, type_, name):
    resource = plan.named(name)
    assert resource["type"] == type_
    return resource["inputs"]


def test_bucket_name_is_valid_and_unique_per_account_and_region(dev):
    name = dev.of_type(BUCKET)[0]["inputs"]["bucket"]
    assert name == "mlops-dev-artifacts-123456789012-us-east-1" and check_aws_name("s3-bucket", name) is None


def test_all_four_public_access_blocks_are_on(dev):
    block = _one(dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "art-public-access")
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))


def test_acls_are_disabled(dev):
    rule = _one(dev, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "art-ownership")["rule"]
    assert rule == {"objectOwnership": "BucketOwnerEnforced"}


def test_bucket_is_versioned(dev):
    versioning = _one(dev, "aws:s3/bucketVersioning:BucketVersioning", "art-versioning")
    assert versioning["versioningConfiguration"]["status"] == "Enabled"


def test_default_encryption_is_the_stack_key_with_bucket_key(dev):
    rule = _one(dev, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "art-encryption")["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}
    assert rule["bucketKeyEnabled"] is True and rule["blockedEncryptionTypes"] == ["SSE-C"]


def test_policy_denies_plain_http(dev):
    statements = json.loads(_one(dev, "aws:s3/bucketPolicy:BucketPolicy", "art-policy")["policy"])["Statement"]
    tls = next(s for s in statements if s["Sid"] == "DenyInsecureTransport")
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_policy_denies_non_kms_encryption_headers(dev):
    statements = json.loads(_one(dev, "aws:s3/bucketPolicy:BucketPolicy", "art-policy")["policy"])["Statement"]
    header = next(s for s in statements if s["Sid"] == "DenyNonKmsEncryptionHeader")
    assert header["Condition"]["StringNotEquals"] == {"s3:x-amz-server-side-encryption": "aws:kms"}


def test_capture_and_reports_expire_after_retention(dev):
    rules = {r["id"]: r for r in _one(dev, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                                      "art-lifecycle")["rules"]}
    assert rules["expire-data-capture"]["filter"] == {"prefix": "data-capture/"}
    assert rules["expire-data-capture"]["expiration"] == {"days": 14} == rules["expire-monitoring"]["expiration"]


def test_noncurrent_versions_and_multipart_uploads_expire():
    rule = lifecycle_rules(_args(noncurrent_version_days=10, abort_multipart_days=2))[0]
    assert rule.noncurrent_version_expiration.noncurrent_days == 10
    assert rule.abort_incomplete_multipart_upload.days_after_initiation == 2


def test_lifecycle_waits_for_versioning(dev):
    lifecycle = dev.named("art-lifecycle")
    assert dev.named("art-versioning")["urn"] in lifecycle["dependencies"]


def test_dev_has_no_access_logs_and_no_protection(dev):
    assert len(dev.of_type(BUCKET)) == 1 and not dev.of_type("aws:s3/bucketLogging:BucketLogging")
    assert dev.of_type(BUCKET)[0]["protect"] is False


def test_prod_protects_and_retains_both_buckets(prod):
    assert all(b["protect"] and b["retainOnDelete"] for b in prod.of_type(BUCKET))


def test_prod_logs_access_to_an_sse_s3_log_bucket(prod):
    logging = prod.of_type("aws:s3/bucketLogging:BucketLogging")[0]["inputs"]
    assert logging["targetBucket"] == "mlops-prod-access-logs-123456789012-us-east-1"
    encryption = _one(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                      "art-logs-encryption")["rules"][0]["applyServerSideEncryptionByDefault"]
    assert encryption == {"sseAlgorithm": "AES256"}


def test_log_bucket_is_hardened_the_same_way(prod):
    block = _one(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "art-logs-public-access")
    assert block["restrictPublicBuckets"] and prod.named("art-logs-versioning")


def test_only_the_logging_service_writes_logs_for_this_bucket(prod):
    statements = json.loads(prod.named("art-logs-policy")["inputs"]["policy"])["Statement"]
    delivery = next(s for s in statements if s["Sid"] == "S3ServerAccessLogDelivery")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    source = "arn:aws:s3:::mlops-prod-artifacts-123456789012-us-east-1"
    assert delivery["Condition"]["ArnLike"] == {"aws:SourceArn": source}


def test_grant_read_is_scoped_to_its_prefix(dev):
    read = {s["Sid"]: s for s in json.loads(dev.outputs["read"])["Statement"]}
    bucket = "arn:aws:s3:::mlops-dev-artifacts-123456789012-us-east-1"
    assert read["ReadModelsFraud"]["Resource"] == f"{bucket}/models/fraud/*"
    assert read["ListModelsFraud"]["Condition"] == {"StringLike": {"s3:prefix": ["models/fraud", "models/fraud/*"]}}
    assert read["DecryptModelsFraud"]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]


def test_grant_write_cannot_read(dev):
    write = json.loads(dev.outputs["write"])["Statement"]
    actions = {a for s in write for a in s["Action"]}
    assert "s3:PutObject" in actions and "s3:GetObject" not in actions and "kms:GenerateDataKey" in actions


@pytest.mark.parametrize("prefix", ["", "*", "models/*"])
def test_grants_refuse_wildcards_and_the_whole_bucket(prefix):
    store = ArtifactStore.__new__(ArtifactStore)  # the prefix is checked before the bucket is touched
    with pytest.raises(ValueError, match="prefix"):
        store.grant_read(prefix)


def test_force_destroy_conflicts_with_protect():
    with pytest.raises(ValueError, match="allow_force_destroy=True with protect=True"):
        _args(protect=True, allow_force_destroy=True)


def test_invalid_explicit_bucket_name_is_rejected():
    with pytest.raises(ValueError, match="s3-bucket name 'Bad_Name'"):
        _args(bucket_name="Bad_Name")
