"""`python -m infra verify STACK [--stack-outputs FILE]`: plan the stack, read AWS, list the differences.

Exit codes: 0 every declared endpoint agrees with what runs; 4 differences, one line each on stdout
(`<service>: <difference>`); 5 no usable AWS credentials (one line on stderr); 2 invalid stack config;
1 anything else (an AWS error such as AccessDenied, an unreadable outputs file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from infra.plan.engine import Plan, plan_stack
from infra.verify.compare import DigestOf, Observed, config_matches, endpoint_differences
from infra.verify.declared import DeclaredEndpoint, ImageRef, declared_endpoints, rewrite_for
from infra.verify.live import AwsReader

EXIT_OK, EXIT_DIFFERENT, EXIT_NO_CREDENTIALS = 0, 4, 5

_MISSING_CREDENTIALS = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError,
                        UnauthorizedSSOTokenError)
_REJECTED_CREDENTIALS = {"InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch",
                         "UnrecognizedClientException"}


def read_stack_outputs(path: Path) -> dict[str, Any]:
    """The JSON of `pulumi stack output --json`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read stack outputs ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}); "
                         "write it with `pulumi stack output --json`") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected the object `pulumi stack output --json` writes")
    return doc


class NoCredentials(Exception):
    """boto3 found no usable credentials, or AWS rejected them; the message says how to log in."""

    exit_code = EXIT_NO_CREDENTIALS


def caller_account(reader: AwsReader) -> str:
    """The caller's account id (sts:GetCallerIdentity). Raises NoCredentials with what to do."""
    try:
        return reader.account()
    except _MISSING_CREDENTIALS as exc:
        raise NoCredentials(f"no usable AWS credentials ({exc}); boto3 looks in the environment, AWS_PROFILE / "
                            "~/.aws, SSO and the instance or container role: log in (e.g. `aws sso login`)") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in _REJECTED_CREDENTIALS:
            raise
        raise NoCredentials(f"AWS rejected the credentials ({code}): refresh them (e.g. `aws sso login`)") from None


def verify(stack: str, stack_outputs: Path | None = None, *, plan: Plan | None = None) -> int:
    """Compare the stack's live SageMaker endpoints with its declaration; print the result; return the exit code."""
    outputs = read_stack_outputs(stack_outputs) if stack_outputs else None
    plan = plan or plan_stack(stack)
    region = (outputs or {}).get("region") or plan.outputs.get("region")
    session = boto3.session.Session(region_name=region or None)
    reader = AwsReader(session)
    try:
        account = caller_account(reader)
    except NoCredentials as exc:
        print(f"error: {exc}; then run verify again", file=sys.stderr)
        return exc.exit_code
    except NoRegionError:
        raise ValueError(f"stack {stack} exports no region: set AWS_REGION (or pass --stack-outputs)") from None

    declared = declared_endpoints(plan, rewrite_for(account, plan.outputs, outputs))
    if not declared:
        print(f"{stack}: the stack declares no SageMaker endpoint; nothing was compared", file=sys.stderr)
        return EXIT_OK
    digests: dict[str, str | None] = {}

    def digest_of(image: ImageRef) -> str | None:
        if str(image) not in digests:
            digests[str(image)] = reader.image_digest(image)
        return digests[str(image)]

    lines = [f"{d.service}: {line}" for d in declared
             for line in endpoint_differences(d, observe(reader, d, digest_of), digest_of)]
    for line in lines:
        print(line)
    where = f"account {account}, region {session.region_name}"
    if lines:
        print(f"{stack}: {len(lines)} difference(s) between AWS ({where}) and the declared stack", file=sys.stderr)
        return EXIT_DIFFERENT
    print(f"{stack}: {', '.join(d.name for d in declared)} agree with the declared stack ({where})")
    return EXIT_OK


def observe(reader: AwsReader, declared: DeclaredEndpoint, digest_of: DigestOf) -> Observed:
    """Read one endpoint, find the live configuration with the declared content, read its rollback alarms."""
    endpoint = reader.endpoint(declared.name)
    if endpoint is None:
        return Observed(None, None, {})
    if endpoint.config is not None and config_matches(declared, endpoint.config, digest_of):
        declared_config = endpoint.config
    else:
        declared_config = next((c for c in reader.configs_of(declared.name)
                                if config_matches(declared, c, digest_of)), None)
    return Observed(endpoint, declared_config, reader.alarm_states(declared.rollback_alarms))
