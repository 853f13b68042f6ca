"""`verify` against moto in server mode: deploy a stack's endpoints as `pulumi up` would, then drift them.

What moto 5.2.5 (the pinned version) does and does not do for SageMaker endpoints, which decides how
each case is produced:
- It implements CreateModel / CreateEndpointConfig / CreateEndpoint / DescribeEndpoint /
  UpdateEndpointWeightsAndCapacities / DeleteEndpointConfig, and ProductionVariants' CurrentWeight,
  DesiredWeight, CurrentInstanceCount and DesiredInstanceCount (it leaves out a weight of 0).
- It has no UpdateEndpoint, so no blue/green update and no rollback happen in moto. A rollback's
  outcome is what DescribeEndpoint shows afterwards: the endpoint InService on the previous
  configuration while the new one exists (terraform-provider-aws#46663, PR #49020: FailureReason may
  be empty). The tests create exactly that state through the API.
- Every endpoint is InService at once; there is no API to make it Failed or Updating, and it never
  reports PendingDeploymentSummary, LastDeploymentConfig or DeployedImages. Those tests set the fields
  on moto's own endpoint model (the server runs in this process) with the shapes of the real API, and
  boto3 still reads them over HTTP through the real service model.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.plan.engine import Plan
from infra.verify.command import EXIT_DIFFERENT, EXIT_OK, verify
from tests.infra.verify.conftest import Account
from tests.infra.verify.deploy import deploy

DEV = "mlops-dev-fraud-detector"


def _run(stack: str, plan: Plan, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = verify(stack, plan=plan)
    return code, capsys.readouterr().out.splitlines()


def _model_version(version: str) -> Callable[[dict[str, Any]], None]:
    def edit(inputs: dict[str, Any]) -> None:
        inputs["primaryContainer"]["environment"]["MODEL_VERSION"] = version
        inputs["primaryContainer"]["modelDataUrl"] = inputs["primaryContainer"]["modelDataUrl"].replace(
            "/8/", f"/{version}/")
    return edit


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_stack_as_deployed_agrees(stack: str, account: Account, stack_plan: Callable[[str], Plan],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The deploy names configs and models by their real content, never as the plan does: verify must not care."""
    plan = stack_plan(stack)
    deployed = deploy(account.session, plan, account.id)
    assert set(deployed.configs.values()).isdisjoint(deployed.configs)  # the plan's hashed names are not real

    code, out = _run(stack, plan, capsys)

    assert (code, out) == (EXIT_OK, [f"{stack}: mlops-{stack}-fraud-detector agree with the declared stack "
                                     f"(account {account.id}, region us-east-1)"])


def test_changed_weights_are_one_line_per_variant(account: Account, stack_plan: Callable[[str], Plan],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    deploy(account.session, stack_plan("dev"), account.id)
    account.session.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=DEV, DesiredWeightsAndCapacities=[{"VariantName": "blue", "DesiredWeight": 1.0},
                                                       {"VariantName": "green", "DesiredWeight": 1.0}])

    code, out = _run("dev", stack_plan("dev"), capsys)

    assert code == EXIT_DIFFERENT
    assert out == ["fraud-detector: variant blue weight: live 50%, declared 90%",
                   "fraud-detector: variant green weight: live 50%, declared 10%"]


def test_instances_beyond_the_autoscaling_range_differ_and_within_it_agree(
        account: Account, stack_plan: Callable[[str], Plan], capsys: pytest.CaptureFixture[str]) -> None:
    deploy(account.session, stack_plan("dev"), account.id)
    sagemaker = account.session.client("sagemaker")

    def scale(count: int) -> tuple[int, list[str]]:
        sagemaker.update_endpoint_weights_and_capacities(EndpointName=DEV, DesiredWeightsAndCapacities=[
            {"VariantName": "blue", "DesiredWeight": 90.0, "DesiredInstanceCount": count}])
        return _run("dev", stack_plan("dev"), capsys)

    assert scale(3)[0] == EXIT_OK  # autoscaled out: dev declares 1..4 per variant
    assert scale(6) == (EXIT_DIFFERENT, ["fraud-detector: variant blue instances: live 6, declared 1..4 (autoscaling)"])


def test_another_model_version_is_named_with_the_config_it_came_from(
        account: Account, stack_plan: Callable[[str], Plan], capsys: pytest.CaptureFixture[str]) -> None:
    """The live config serves model 7 in green and no config with the declared content exists: not deployed."""
    deployed = deploy(account.session, stack_plan("dev"), account.id,
                      edits={"fraud-detector-endpoint-green-model": _model_version("7")})

    code, out = _run("dev", stack_plan("dev"), capsys)

    assert code == EXIT_DIFFERENT
    assert out == [
        f"fraud-detector: live config {deployed.config} is not the declared one, and no endpoint configuration has "
        "the declared content: run pulumi up",
        "fraud-detector: variant green model version: live 7, declared 8",
        f"fraud-detector: variant green model artifact: live s3://mlops-dev-artifacts-{account.id}-us-east-1/models/"
        f"fraud-detector/7/model.tar.gz, declared s3://mlops-dev-artifacts-{account.id}-us-east-1/models/"
        "fraud-detector/8/model.tar.gz",
    ]


def test_a_rolled_back_endpoint_is_reported_although_pulumi_up_succeeded(
        account: Account, stack_plan: Callable[[str], Plan], capsys: pytest.CaptureFixture[str]) -> None:
    """terraform-provider-aws#46663: after SageMaker rolls an update back, the endpoint is InService on the old
    config, FailureReason may be empty (PR #49020), and the provider reports success. The state: the previous
    release's endpoint, plus the declared models and config that `pulumi up` created before UpdateEndpoint."""
    before = deploy(account.session, stack_plan("dev"), account.id,
                    edits={"fraud-detector-endpoint-green-model": _model_version("7")})
    declared = deploy(account.session, stack_plan("dev"), account.id, endpoint=False)

    code, out = _run("dev", stack_plan("dev"), capsys)

    assert code == EXIT_DIFFERENT
    assert out[:2] == [
        f"fraud-detector: the endpoint rolled back: live config {before.config}, declared {declared.config}",
        "fraud-detector: variant green model version: live 7, declared 8"]


def test_a_rollback_whose_live_config_pulumi_deleted_says_so(
        account: Account, stack_plan: Callable[[str], Plan], capsys: pytest.CaptureFixture[str]) -> None:
    """terraform-provider-aws#48997: believing the update succeeded, Pulumi deletes the replaced config and models,
    which the rolled-back endpoint still runs. DeleteEndpointConfig / DeleteModel produce that state in moto."""
    before = deploy(account.session, stack_plan("dev"), account.id,
                    edits={"fraud-detector-endpoint-green-model": _model_version("7")})
    declared = deploy(account.session, stack_plan("dev"), account.id, endpoint=False)
    sagemaker = account.session.client("sagemaker")
    sagemaker.delete_endpoint_config(EndpointConfigName=before.config)
    for model in set(before.models.values()) - set(declared.models.values()):
        sagemaker.delete_model(ModelName=model)

    code, out = _run("dev", stack_plan("dev"), capsys)

    assert code == EXIT_DIFFERENT
    assert out == [
        f"fraud-detector: the endpoint rolled back: live config {before.config}, declared {declared.config}",
        f"fraud-detector: live config {before.config} no longer exists: pulumi up deleted it as replaced although "
        "the endpoint still runs it (terraform-provider-aws#48997); see docs/runbooks/rollback.md",
    ]


def test_a_missing_endpoint_is_one_line(account: Account, stack_plan: Callable[[str], Plan],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    deploy(account.session, stack_plan("dev"), account.id, endpoint=False)

    assert _run("dev", stack_plan("dev"), capsys) == (EXIT_DIFFERENT, [
        f"fraud-detector: endpoint {DEV} does not exist (not deployed yet, or deleted): run pulumi up"])


def test_a_failed_endpoint_reports_its_failure_reason(account: Account, stack_plan: Callable[[str], Plan],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """moto has no way to fail an endpoint: EndpointStatus and FailureReason are set on its model."""
    deploy(account.session, stack_plan("dev"), account.id)
    state = account.moto_endpoint_state(DEV)
    state.endpoint_status, state.failure_reason = "Failed", "The primary container for production variant green " \
                                                            "did not pass the ping health check."

    assert _run("dev", stack_plan("dev"), capsys) == (EXIT_DIFFERENT, [
        f"fraud-detector: endpoint {DEV} is Failed: The primary container for production variant green did not "
        "pass the ping health check.; see docs/runbooks/rollback.md"])


def test_an_update_in_progress_names_what_it_deploys(account: Account, stack_plan: Callable[[str], Plan],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """moto never reports Updating nor PendingDeploymentSummary: both are set on its model, in the real API's shape
    (PendingDeploymentSummary: EndpointConfigName, ProductionVariants with VariantStatus, StartTime)."""
    before = deploy(account.session, stack_plan("dev"), account.id,
                    edits={"fraud-detector-endpoint-green-model": _model_version("7")})
    declared = deploy(account.session, stack_plan("dev"), account.id, endpoint=False)
    state = account.moto_endpoint_state(DEV)
    state.endpoint_status = "Updating"
    state.pending_deployment_summary = {
        "EndpointConfigName": declared.config, "StartTime": datetime(2026, 7, 1, 12, 30, tzinfo=UTC),
        "ProductionVariants": [{"VariantName": "green", "VariantStatus": [{"Status": "Baking"}]}]}

    code, out = _run("dev", stack_plan("dev"), capsys)

    assert before.config != declared.config
    assert (code, out) == (EXIT_DIFFERENT, [
        f"fraud-detector: endpoint {DEV} is Updating; deploying config {declared.config} (the declared content) "
        "since 2026-07-01 12:30 UTC; run verify again when it is InService"])


def test_an_update_that_failed_in_service_is_reported(account: Account, stack_plan: Callable[[str], Plan],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """terraform-provider-aws#39099: a failed UpdateEndpoint can leave the endpoint InService with a FailureReason.
    moto never sets FailureReason: it is set on its model."""
    deploy(account.session, stack_plan("dev"), account.id)
    account.moto_endpoint_state(DEV).failure_reason = "Request to service failed. Rollback alarm fired."

    assert _run("dev", stack_plan("dev"), capsys) == (EXIT_DIFFERENT, [
        f"fraud-detector: the last update of endpoint {DEV} failed: Request to service failed. Rollback alarm fired."])


def test_rollback_alarms_in_alarm_or_missing_are_reported(account: Account, stack_plan: Callable[[str], Plan],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    deploy(account.session, stack_plan("dev"), account.id)
    cloudwatch = account.session.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=f"{DEV}-green-5xx-rollback", StateValue="ALARM",
                               StateReason="Threshold Crossed: 2 out of the last 3 datapoints were greater than 1.0")
    cloudwatch.delete_alarms(AlarmNames=[f"{DEV}-blue-p99-rollback"])

    assert _run("dev", stack_plan("dev"), capsys) == (EXIT_DIFFERENT, [
        f"fraud-detector: rollback alarm {DEV}-blue-p99-rollback does not exist: SageMaker cannot roll back on it",
        f"fraud-detector: rollback alarm {DEV}-green-5xx-rollback is in ALARM: Threshold Crossed: 2 out of the last "
        "3 datapoints were greater than 1.0"])


def test_a_built_slot_running_another_digest_than_its_tag_differs(
        account: Account, stack_plan: Callable[[str], Plan], capsys: pytest.CaptureFixture[str]) -> None:
    """A built image's digest is unknown offline: the declared repository and tag are resolved in ECR."""
    repository = f"{account.id}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-fraud-detector"
    pushed = deploy(account.session, stack_plan("dev"), account.id, endpoint=False).digests
    old, new = pushed[f"{repository}:1.4.0"], pushed[f"{repository}:1.6.0"]

    def older_build(inputs: dict[str, Any]) -> None:
        inputs["primaryContainer"]["image"] = f"{repository}@{old}"

    deploy(account.session, stack_plan("dev"), account.id, edits={"fraud-detector-endpoint-green-model": older_build})

    code, out = _run("dev", stack_plan("dev"), capsys)

    assert code == EXIT_DIFFERENT
    assert f"fraud-detector: variant green image: live {repository}@{old}, declared {repository}:1.6.0 ({new})" in out


def test_a_built_tag_missing_from_ecr_is_named(account: Account, stack_plan: Callable[[str], Plan],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The live model names a digest; without the declared tag in ECR (e.g. expired) they cannot be compared."""
    deploy(account.session, stack_plan("dev"), account.id)
    account.session.client("ecr").batch_delete_image(repositoryName="mlops-dev-fraud-detector",
                                                     imageIds=[{"imageTag": "1.6.0"}])

    code, out = _run("dev", stack_plan("dev"), capsys)

    repository = f"{account.id}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-fraud-detector"
    assert code == EXIT_DIFFERENT
    assert any(line.startswith(f"fraud-detector: variant green image: live {repository}@sha256:")
               and line.endswith(f"declared {repository}:1.6.0, a tag ECR does not have") for line in out)


def test_deployed_images_resolved_to_another_digest_differ(account: Account, stack_plan: Callable[[str], Plan],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """DescribeEndpoint's DeployedImages say which digest SageMaker pulled for a tag; moto never reports them, so
    they are set on its model in the real API's shape (SpecifiedImage, ResolvedImage)."""
    deployed = deploy(account.session, stack_plan("dev"), account.id)
    repository = f"{account.id}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-fraud-detector"
    stale = "sha256:" + "0" * 64
    blue = account.moto_endpoint_state(DEV).production_variants[0]
    blue["DeployedImages"] = [{"SpecifiedImage": f"{repository}:1.4.0", "ResolvedImage": f"{repository}@{stale}"}]

    code, out = _run("dev", stack_plan("dev"), capsys)

    assert (code, out) == (EXIT_DIFFERENT, [
        f"fraud-detector: variant blue runs image {repository}@{stale}, declared {repository}:1.4.0 "
        f"({deployed.digests[f'{repository}:1.4.0']})"])
