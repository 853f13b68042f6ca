"""`mlops:aws:AlertTopic`: the stack's KMS-encrypted SNS topic for alarms, with email subscriptions.

Its own component so it can exist before the things that alarm into it: the composition creates it
first, then the endpoints (whose rollback alarms notify it) and Monitoring (whose alarms do too).
The stack key's policy must let `cloudwatch.amazonaws.com` use the key, or CloudWatch cannot publish
to the encrypted topic (components/aws/encryption.py grants it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws import sagemaker_iam
from components.naming import Namer, content_hash

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class AlertTopicArgs:
    """What the alert topic needs."""

    namer: Namer
    """Physical names: `<prefix>-<env>-alerts`."""
    kms_key_arn: pulumi.Input[str]
    """Stack key encrypting the topic."""
    alert_emails: tuple[str, ...] = ()
    """Addresses subscribed by email (each confirms the subscription once)."""
    webhook_url: pulumi.Input[str] | None = None
    """HTTPS endpoint of an on-call integration, subscribed over `https`; pass a secret Output (it carries a key)."""
    region: str | None = None
    """Region of the stack. Default: the provider's (asked with an invoke)."""
    account_id: str | None = None
    """AWS account of the stack. Default: the caller's (asked with an invoke)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the topic."""

    def __post_init__(self) -> None:
        bad = [e for e in self.alert_emails if not _EMAIL.fullmatch(e)]
        if bad:
            raise ValueError(f"alert_emails: not email addresses: {', '.join(bad)}")


def alarm_publish_policy(topic_arn: str, scope: sagemaker_iam.Scope) -> str:
    """Topic policy: only this account's CloudWatch alarms may publish."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish", "Resource": topic_arn,
        "Condition": {"StringEquals": {"aws:SourceAccount": scope.account},
                      "ArnLike": {"aws:SourceArn": scope.arn("cloudwatch", "alarm:*")}},
    }]}, sort_keys=True)


class AlertTopic(pulumi.ComponentResource):
    """An encrypted SNS topic only this account's CloudWatch alarms may publish to."""

    topic_arn: pulumi.Output[str]
    """ARN to use as an alarm action."""

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:AlertTopic", name, None, opts)
        scope = sagemaker_iam.resolve_scope(args.region, args.account_id, self)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(f"{name}-topic", name=args.namer.name("alerts"), kms_master_key_id=args.kms_key_arn,
                              tags=dict(args.tags), opts=child)
        aws.sns.TopicPolicy(f"{name}-policy", arn=topic.arn, opts=child,
                            policy=topic.arn.apply(lambda arn: alarm_publish_policy(arn, scope)))
        for email in args.alert_emails:
            aws.sns.TopicSubscription(f"{name}-{content_hash(email)}", topic=topic.arn, protocol="email",
                                      endpoint=email, opts=child)
        if args.webhook_url is not None:
            # On-call integrations (PagerDuty, Opsgenie) confirm SNS subscriptions themselves; waiting for that
            # makes a wrong URL fail `pulumi up` instead of leaving a silent "PendingConfirmation" subscription.
            aws.sns.TopicSubscription(f"{name}-webhook", topic=topic.arn, protocol="https",
                                      endpoint=pulumi.Output.secret(args.webhook_url), endpoint_auto_confirms=True,
                                      confirmation_timeout_in_minutes=5, opts=child)
        self.topic_arn = topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})
