"""Encryption: the stack key, its rotation, and a key policy that names its users."""

from __future__ import annotations

import json

import pytest

from components.aws.encryption import Encryption, EncryptionArgs, key_policy_statements
from components.aws.naming import check_aws_name
from components.naming import Namer
from infra.plan.engine import plan_program

KEY = "aws:kms/key:Key"


def _args(**overrides) -> EncryptionArgs:
    return EncryptionArgs(**{"namer": Namer("mlops", "dev"), "tags": {"team": "ml"}, **overrides})


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: Encryption("enc", _args()), stack="dev")


@pytest.fixture(scope="module")
def policy(dev):
    return {s["Sid"]: s for s in json.loads(dev.of_type(KEY)[0]["inputs"]["policy"])["Statement"]}


def test_key_rotates(dev):
    key = dev.of_type(KEY)[0]["inputs"]
    assert key["enableKeyRotation"] is True and key["rotationPeriodInDays"] == 365


def test_key_is_tagged_and_parented(dev):
    key = dev.of_type(KEY)[0]
    assert key["inputs"]["tags"] == {"team": "ml"}
    assert key["parent"] == dev.of_type("mlops:aws:Encryption")[0]["urn"]


def test_alias_name_is_valid(dev):
    alias = dev.of_type("aws:kms/alias:Alias")[0]["inputs"]["name"]
    assert alias == "alias/mlops-dev-platform" and check_aws_name("kms-alias", alias) is None


def test_root_administers_but_cannot_use_the_key(policy):
    admin = policy["KeyAdministration"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert not {"kms:*", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"} & set(admin["Action"])


def test_no_principal_may_create_a_grant_that_is_not_for_an_aws_resource(policy):
    """An unconditioned kms:CreateGrant (here hidden in `kms:Create*`) lets a key administrator grant itself
    Decrypt (docs.aws.amazon.com/kms/latest/developerguide/grants.html: "a grant ... allows the grantee
    principal to use the KMS key in cryptographic operations"; best practice: kms:GrantIsForAWSResource)."""
    def grants(actions):
        return any(a in ("kms:*", "kms:Create*", "kms:CreateGrant") for a in actions)

    granting = {sid: s for sid, s in policy.items()
                if grants(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert granting, "platform services still need grants (EBS volumes, SageMaker)"
    for sid, statement in granting.items():
        assert statement["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}, sid


def test_account_principals_use_it_only_through_platform_services(policy):
    via = policy["UseThroughPlatformServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == [f"{svc}.us-east-1.amazonaws.com" for svc in ("ecr", "eks", "s3", "sagemaker", "sns")]


def test_stack_roles_are_named_by_prefix(policy):
    condition = policy["UseByStackRoles"]["Condition"]["ArnLike"]
    assert condition == {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/mlops-dev-*"}


def test_cloudwatch_logs_is_limited_to_this_accounts_log_groups(policy):
    logs = policy["CloudWatchLogsEncryptLogGroups"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:*"}}


def test_alarms_may_publish_to_encrypted_topics(policy):
    alarms = policy["CloudWatchAlarmsPublishToEncryptedTopics"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_key_policy_is_pure_and_partition_aware():
    statements = key_policy_statements("111122223333", "cn-north-1", "aws-cn", "mlops-prod")
    assert statements[0].principals == {"AWS": "arn:aws-cn:iam::111122223333:root"}


def test_dev_key_is_not_protected(dev):
    assert dev.of_type(KEY)[0]["protect"] is False


def test_prod_key_is_protected():
    plan = plan_program(lambda: Encryption("enc", _args(namer=Namer("mlops", "prod"), protect=True)), stack="prod")
    assert plan.of_type(KEY)[0]["protect"] is True


def test_grants_are_scoped_to_the_key():
    plan = plan_program(lambda: _grants(), stack="dev")
    assert json.loads(plan.outputs["grants"])["Statement"][0]["Resource"].startswith("arn:aws:kms:us-east-1:")


def _grants():
    import pulumi

    from components.aws.iam import policy_document

    enc = Encryption("enc", _args())
    pulumi.export("grants", policy_document(enc.grant_encrypt_decrypt() + enc.grant_decrypt()))


@pytest.mark.parametrize(("field", "value"), [("deletion_window_days", 3), ("rotation_period_days", 30)])
def test_out_of_range_settings_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        _args(**{field: value})
