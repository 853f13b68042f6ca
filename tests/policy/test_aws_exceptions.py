"""Where AWS itself rules out a customer key, the pack accepts the only configuration AWS allows."""

from __future__ import annotations

import botocore.session
import pytest

from components.aws.endpoint_variants import volume_kms_supported
from policy.check import run_pack
from policy.rules.encryption import has_instance_storage
from tests.policy.cases import s3_set, variant
from tests.policy.helpers import plan, resource

SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


def _log_target_plan(with_logging: bool) -> dict:
    resources = s3_set()
    bucket = resources[0]
    for r in resources:
        if r["type"] == SSE:
            r["inputs"]["rules"] = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    source = resource("aws:s3/bucket:Bucket", "data", {"bucket": "data-9f9f"})
    logging = resource("aws:s3/bucketLogging:BucketLogging", "data-logging",
                       {"bucket": "data-9f9f", "targetBucket": bucket["inputs"]["bucket"], "targetPrefix": "logs/"},
                       dependencies=[bucket["urn"], source["urn"]])
    return plan(*resources, *([logging] if with_logging else []))


def _violations(doc: dict, policy: str) -> list:
    return [v for v in run_pack(doc) if v.policy == policy]


def test_access_log_target_bucket_may_use_sse_s3():
    found = _violations(_log_target_plan(with_logging=True), "s3-encryption-configured")
    assert [v.urn for v in found if "artifacts" in v.urn] == []


def test_sse_s3_on_an_ordinary_bucket_is_a_violation():
    found = _violations(_log_target_plan(with_logging=False), "s3-encryption-configured")
    assert any(v.urn.endswith("::artifacts") for v in found)


@pytest.mark.parametrize(("instance", "allowed"), [("ml.g5.xlarge", True), ("ml.m5.large", False)])
def test_volume_key_may_be_absent_only_on_instance_storage_types(instance, allowed):
    config = resource(CONFIG, "subject", {"productionVariants": [variant(2, instance=instance)],
                                          "dataCaptureConfig": {"kmsKeyId": "arn:aws:kms:us-east-1:1:key/k"}})
    found = _violations(plan(config), "encryption-customer-managed-keys")
    assert (found == []) is allowed


def test_policy_and_component_agree_on_every_sagemaker_instance_type():
    model = botocore.session.get_session().get_service_model("sagemaker")
    for instance_type in model.shape_for("ProductionVariantInstanceType").enum:
        assert has_instance_storage(instance_type) is not volume_kms_supported(instance_type), instance_type
