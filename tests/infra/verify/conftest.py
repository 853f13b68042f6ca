"""Each verify test runs in its own AWS account inside the session's moto server.

`account` assumes a role in a fresh account (moto keeps one backend per account) and exports the
role's credentials through the standard environment variables, so tests never see each other's
endpoints and the account differs from the plan's fake one, as a real deploy's does.
moto 5.2.5 checks endpoint instance types against its own list, which predates ml.g5 (prod's type);
the real API's list is botocore's ProductionVariantInstanceType enum, so moto checks against that here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from components.aws.endpoint_variants import sagemaker_instance_types

_ACCOUNTS = itertools.count(210_000_000_001)


@dataclass(frozen=True)
class Account:
    id: str
    session: boto3.session.Session

    def moto_endpoint_state(self, name: str, region: str = "us-east-1") -> Any:
        """moto's in-process model of an endpoint, for state its API cannot produce (see each test's docstring)."""
        from moto.sagemaker.models import sagemaker_backends

        return sagemaker_backends[self.id][region].endpoints[name]


def _validate_instance_type(self: Any, instance_type: str) -> None:
    from moto.sagemaker.exceptions import ValidationError

    if instance_type not in sagemaker_instance_types():
        raise ValidationError(message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint")


@pytest.fixture
def account(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> Account:
    from moto.sagemaker.models import FakeEndpointConfig

    monkeypatch.setattr(FakeEndpointConfig, "validate_instance_type", _validate_instance_type)
    account_id = str(next(_ACCOUNTS))
    role = f"arn:aws:iam::{account_id}:role/verify"
    creds = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="verify-test")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    return Account(account_id, boto3.session.Session(region_name="us-east-1"))
