from __future__ import annotations

import json

import pytest

from components.aws.alert_topic import AlertTopic, AlertTopicArgs
from components.naming import Namer

KEY = "arn:aws:kms:us-east-1:123456789012:key/k"


def _plan(plan_component, **overrides):
    args = AlertTopicArgs(namer=Namer("mlops", "prod"), kms_key_arn=KEY, alert_emails=("oncall@example.com",),
                          region="us-east-1", account_id="123456789012", **overrides)
    return plan_component(lambda: AlertTopic("alerts", args), stack="prod")


def test_topic_is_encrypted_and_named_for_the_stack(plan_component):
    topic = _plan(plan_component).named("alerts-topic")["inputs"]
    assert topic["kmsMasterKeyId"] == KEY and topic["name"] == "mlops-prod-alerts"


def test_only_this_accounts_alarms_may_publish(plan_component):
    statement = json.loads(_plan(plan_component).named("alerts-policy")["inputs"]["policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_each_address_gets_an_email_subscription(plan_component):
    subs = _plan(plan_component).of_type("aws:sns/topicSubscription:TopicSubscription")
    assert [(s["inputs"]["protocol"], s["inputs"]["endpoint"]) for s in subs] == [("email", "oncall@example.com")]


def test_a_malformed_address_is_refused():
    with pytest.raises(ValueError, match="not email addresses: oncall"):
        AlertTopicArgs(namer=Namer("mlops", "dev"), kms_key_arn=KEY, alert_emails=("oncall",))
