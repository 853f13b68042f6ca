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


def test_recorded_inputs_become_the_sdk_keywords_acronyms_and_clashes_included():
    """The floor (benchmarks/floor.py) rebuilds every planned resource from its recorded inputs; engine names
    with acronyms (`publicIPAllocationMethod`) and an input called like the constructor's own `resource_name`
    (an AKS agent pool's cluster) must land on the SDK's own keyword."""
    from infra.plan.sdk import keyword_arguments

    ip = sdk_class("azure-native:network:PublicIPAddress")
    assert keyword_arguments(ip, {"publicIPAllocationMethod": "Static"}) == {"public_ip_allocation_method": "Static"}
    pool = sdk_class("azure-native:containerservice:AgentPool")
    assert keyword_arguments(pool, {"resourceName": "aks", "count": 1}) == {"resource_name_": "aks", "count": 1}
