from __future__ import annotations

from infra.plan.sdk import sdk_class, snake, unknown_inputs


def test_type_tokens_resolve_to_provider_classes():
    import pulumi_aws

    assert sdk_class("aws:s3/bucket:Bucket") is pulumi_aws.s3.Bucket
    assert sdk_class("nope:index/thing:Thing") is None


def test_engine_names_map_to_sdk_arguments():
    assert snake("kmsKeyArn") == "kms_key_arn" and snake("tags") == "tags"


def test_a_misspelled_input_is_reported():
    assert unknown_inputs("aws:s3/bucket:Bucket", {"bucket": "b", "forceDestory": True}) == ["force_destory"]
