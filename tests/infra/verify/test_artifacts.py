"""`python -m infra artifacts STACK`: before the first `pulumi up` with serving on, every slot's model and image exist.

Evidence: CreateModel validates the container image and the model data location when it is called
("Amazon SageMaker ... validates that the model artifacts and image exist", API CreateModel:
ModelDataUrl "must point to a single gzip compressed tar archive"), and CreateEndpoint fails with
"Failed to pull image" when the tag was never pushed (docs.aws.amazon.com/sagemaker/latest/dg/
realtime-endpoints-troubleshooting.html). dev's blue slot pins 1.4.0, which only an earlier build pushed.
Against moto's server mode in a fresh account per test (tests/infra/verify/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.cli import main
from infra.plan.engine import Plan
from infra.plan.fakes import ACCOUNT_ID
from infra.targets.aws.artifacts import check_artifacts
from infra.verify.command import EXIT_DIFFERENT, EXIT_OK
from tests.infra.verify.conftest import Account
from tests.infra.verify.deploy import push

REPOSITORY = "mlops-dev-fraud-detector"


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch, stack_plan: Callable[[str], Plan]) -> Plan:
    monkeypatch.setattr("infra.targets.aws.artifacts.plan_stack", stack_plan)
    return stack_plan("dev")


def _bucket(plan: Plan, account: Account) -> str:
    return plan.outputs["artifactBucket"].replace(ACCOUNT_ID, account.id)


def test_empty_account_names_each_slots_missing_model_and_pinned_image(
        account: Account, planned: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    account.session.client("s3").create_bucket(Bucket=_bucket(planned, account))
    account.session.client("ecr").create_repository(repositoryName=REPOSITORY)

    code = main(["artifacts", "dev"])

    out, err = capsys.readouterr()
    assert code == EXIT_DIFFERENT
    keys = [line.split(": ")[1] for line in out.splitlines()]
    # green pins the build tag 1.5.0: `pulumi up` pushes it before the model, so it is not asked for.
    assert keys == ["mlops-platform:services.fraud-detector.slots.blue.modelVersion",
                    "mlops-platform:services.fraud-detector.slots.blue.imageTag",
                    "mlops-platform:services.fraud-detector.slots.green.modelVersion"]
    assert f"s3://{_bucket(planned, account)}/models/fraud-detector/7/model.tar.gz does not exist" in out
    assert f"{account.id}.dkr.ecr.us-east-1.amazonaws.com/{REPOSITORY}:1.4.0 is not in ECR" in out
    assert all(line.startswith("Pulumi.dev.yaml: ") and "docs/runbooks/first-deploy.md" in line
               for line in out.splitlines())
    assert "mlops-platform:serving: false" in err


def test_after_upload_and_push_every_slot_is_ready(account: Account, planned: Plan,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bucket = _bucket(planned, account)
    s3 = account.session.client("s3")
    s3.create_bucket(Bucket=bucket)
    for version in ("7", "8"):
        s3.put_object(Bucket=bucket, Key=f"models/fraud-detector/{version}/model.tar.gz", Body=b"model")
    account.session.client("ecr").create_repository(repositoryName=REPOSITORY)
    push(account.session, f"{account.id}.dkr.ecr.us-east-1.amazonaws.com/{REPOSITORY}:1.4.0")

    assert check_artifacts("dev") == EXIT_OK
    assert "every slot exist" in capsys.readouterr().out


def test_a_bucket_that_does_not_exist_yet_means_every_model_is_missing(
        account: Account, planned: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    """Before the `serving: false` deploy nothing exists: the check still answers, one line per slot and kind."""
    assert check_artifacts("dev") == EXIT_DIFFERENT
    out = capsys.readouterr().out
    assert out.count(".modelVersion: ") == 2 and out.count(".imageTag: ") == 1


def test_a_pinned_image_with_an_oci_manifest_is_named_before_create_model_refuses_it(
        account: Account, planned: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    """SageMaker's CreateModel takes Docker v2 schema 2 images only: an image pushed as an OCI image index
    (BuildKit's default provenance attestations, Docker's containerd image store) fails with "Unsupported
    manifest media type application/vnd.oci.image.index.v1+json" (aws/amazon-sagemaker-feedback#180,
    mlflow/mlflow#13834, moby/buildkit#5480). The tag exists, so only its media type tells."""
    import json

    bucket = _bucket(planned, account)
    s3 = account.session.client("s3")
    s3.create_bucket(Bucket=bucket)
    for version in ("7", "8"):
        s3.put_object(Bucket=bucket, Key=f"models/fraud-detector/{version}/model.tar.gz", Body=b"model")
    ecr = account.session.client("ecr")
    ecr.create_repository(repositoryName=REPOSITORY)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1, "digest": "sha256:" + "a" * 64,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1, "digest": "sha256:" + "b" * 64,
         "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
         "platform": {"architecture": "unknown", "os": "unknown"}}]}
    ecr.put_image(repositoryName=REPOSITORY, imageManifest=json.dumps(index), imageTag="1.4.0",
                  imageManifestMediaType="application/vnd.oci.image.index.v1+json")

    assert check_artifacts("dev") == EXIT_DIFFERENT
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("Pulumi.dev.yaml: mlops-platform:services.fraud-detector.slots.blue.imageTag: ")
    assert "application/vnd.oci.image.index.v1+json" in line and "--provenance=false" in line
