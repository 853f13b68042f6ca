"""`python -m infra verify`: exit codes, where the lines go, credentials, and `--stack-outputs`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.cli import main
from infra.plan.engine import Plan
from infra.plan.fakes import ACCOUNT_ID
from infra.verify.command import EXIT_DIFFERENT, EXIT_NO_CREDENTIALS, EXIT_OK, verify
from tests.infra.verify.conftest import Account
from tests.infra.verify.deploy import deploy


def test_without_credentials_verify_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The real plan, then boto3's credential chain with nothing in it (no environment, files or instance role)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    code = main(["verify", "dev"])

    out, err = capsys.readouterr()
    assert code == EXIT_NO_CREDENTIALS
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: no usable AWS credentials (Unable to locate")


def _outputs(plan: Plan, account: str, path: Path, **overrides: str) -> Path:
    """What `pulumi stack output --json` prints after the deploy: the plan's exports with the deployed values."""
    outputs = json.loads(json.dumps(plan.outputs).replace(ACCOUNT_ID, account))
    path.write_text(json.dumps({**outputs, **overrides}), encoding="utf-8")
    return path


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch, stack_plan: Callable[[str], Plan]) -> Callable[[str], Plan]:
    """The session's plans instead of planning again in every test (the test above runs the real planner)."""
    monkeypatch.setattr("infra.verify.command.plan_stack", stack_plan)
    return stack_plan


def test_stack_outputs_hand_in_names_the_plan_cannot_know(account: Account, planned: Callable[[str], Plan],
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bucket named otherwise than the plan says (e.g. the naming changed): the exported name makes them agree."""
    bucket = f"mlops-dev-artifacts-{account.id}-us-east-1"
    deploy(account.session, planned("dev"), account.id, renames={bucket: "acme-ml-artifacts"})
    outputs = _outputs(planned("dev"), account.id, tmp_path / "outputs.json", artifactBucket="acme-ml-artifacts")

    assert main(["verify", "dev", "--stack-outputs", str(outputs)]) == EXIT_OK
    assert capsys.readouterr().out.startswith("dev: mlops-dev-fraud-detector agree with the declared stack")

    assert main(["verify", "dev"]) == EXIT_DIFFERENT
    out, err = capsys.readouterr()
    assert "fraud-detector: variant blue model artifact: live s3://acme-ml-artifacts/models/fraud-detector/7/" \
           f"model.tar.gz, declared s3://{bucket}/models/fraud-detector/7/model.tar.gz" in out.splitlines()
    assert err == f"dev: {len(out.splitlines())} difference(s) between AWS (account {account.id}, region us-east-1) " \
                  "and the declared stack\n"


def test_an_unreadable_outputs_file_is_one_error_line(account: Account, planned: Callable[[str], Plan],
                                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "outputs.json"
    broken.write_text("Current stack is dev:\n", encoding="utf-8")

    assert main(["verify", "dev", "--stack-outputs", str(broken)]) == 1
    assert capsys.readouterr().err == (f"error: {broken}: not JSON (Expecting value at line 1); "
                                       "write it with `pulumi stack output --json`\n")


def test_a_stack_without_sagemaker_endpoints_compares_nothing_and_says_so(
        account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    """E.g. a stack with no services yet: nothing to compare is not a difference, but it is said."""
    empty = Plan(project="mlops-platform", stack="staging", outputs={"region": "us-east-1"})

    assert verify("staging", plan=empty) == EXIT_OK
    assert capsys.readouterr().err == "staging: the stack declares no SageMaker endpoint; nothing was compared\n"
