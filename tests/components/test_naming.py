"""Physical names: the neutral Namer on every cloud, and one cloud's rules (AWS) checked through NameRule."""

from __future__ import annotations

import pytest

from components.aws.naming import aws_name_rule, check_aws_name
from components.naming import Namer, NameRule, content_hash, shorten, stack_qualifier


def test_names_are_prefix_environment_parts_lowercase_hyphenated():
    assert Namer("mlops", "dev").name("Fraud Detector", "endpoint") == "mlops-dev-fraud-detector-endpoint"


def test_long_names_are_shortened_to_the_limit_and_stay_unique():
    a, b = shorten("x" * 70 + "a", 63), shorten("x" * 70 + "b", 63)
    assert len(a) == len(b) == 63 and a != b
    assert shorten("short", 63) == "short"


def test_versioned_names_change_exactly_with_their_content():
    namer = Namer("mlops", "prod")
    assert namer.versioned("fraud", content="a") == namer.versioned("fraud", content="a")
    assert namer.versioned("fraud", content="a") != namer.versioned("fraud", content="b")
    assert namer.versioned("fraud", content="a").endswith("-" + content_hash("a"))


def test_name_rule_names_the_limit_and_its_source():
    rule = NameRule(3, 8, r"[a-z]+", "doc page")
    assert rule.problem("thing", "abcd") is None
    assert rule.problem("thing", "ab") == "thing name 'ab' is 2 characters; 3-8 allowed (doc page)"
    assert rule.problem("thing", "ab-c") == "thing name 'ab-c' does not match [a-z]+ (doc page)"


def test_aws_rules_come_from_botocore_where_aws_publishes_them():
    assert aws_name_rule("sagemaker-endpoint").source == "botocore sagemaker EndpointName"
    assert aws_name_rule("sagemaker-endpoint").max == 63
    assert check_aws_name("sagemaker-endpoint", "mlops-dev-fraud") is None
    assert "63" in (check_aws_name("sagemaker-endpoint", "a" * 64) or "")
    assert check_aws_name("s3-bucket", "Bad_Bucket") == ("s3-bucket name 'Bad_Bucket' does not match "
                                                         "[a-z0-9][a-z0-9.-]*[a-z0-9] (S3 bucket naming rules)")


def test_unknown_kind_of_aws_name_is_an_error():
    with pytest.raises(KeyError, match="no naming rule"):
        aws_name_rule("s4-bucket")


@pytest.mark.parametrize(("stack", "environment", "cloud", "qualifier"), [
    ("prod", "prod", "aws", ""),              # the bare environment keeps its names
    ("azure-prod", "prod", "azure", ""),      # so does <cloud>-<environment>
    ("prod-usw2", "prod", "aws", "usw2"),     # the disaster-recovery copy of prod
    ("staging", "prod", "aws", "staging"),    # a stack named for something else is qualified by its name
    ("Prod_DR", "prod", "aws", "dr"),
])
def test_stack_qualifier_is_what_the_stack_name_adds(stack, environment, cloud, qualifier):
    assert stack_qualifier(stack, environment, cloud) == qualifier


def test_a_qualified_namer_keeps_its_names_apart_from_the_bare_environments():
    bare, copy = Namer("mlops", "prod"), Namer("mlops", "prod", stack_qualifier("prod-usw2", "prod", "aws"))
    assert bare.name("eks", "cluster") == "mlops-prod-eks-cluster"
    assert copy.name("eks", "cluster") == "mlops-prod-usw2-eks-cluster"
    assert len(Namer("mlops", "prod", stack_qualifier("prod-" + "x" * 40, "prod")).stack) <= len("prod-") + 12
