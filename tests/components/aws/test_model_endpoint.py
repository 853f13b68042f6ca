"""ModelEndpoint under mocks: variants, versioned config, deployment config, rollback, IAM, autoscaling."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.aws.endpoint_autoscaling import AutoscalingArgs
from components.aws.model_endpoint import (
    DataCaptureArgs,
    ModelEndpoint,
    ModelEndpointArgs,
    ModelEndpointArgsError,
    VpcArgs,
)
from components.naming import Namer
from components.serving import RolloutSpec, SlotSpec

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
BUCKET = "arn:aws:s3:::mlops-prod-artifacts"
REPO = "arn:aws:ecr:us-east-1:123456789012:repository/fraud"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234"


def slot(tag: str, weight: int, count: int = 2, instance_type: str = "ml.m5.large") -> SlotSpec:
    return SlotSpec(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud:{tag}",
                    f"s3://mlops-prod-artifacts/models/fraud/{tag}/model.tar.gz", tag, instance_type, count, weight)


def endpoint_args(env: str = "prod", blue: SlotSpec | None = None, green: SlotSpec | None = None,
                  **overrides) -> ModelEndpointArgs:
    args = ModelEndpointArgs(
        service="fraud", namer=Namer("mlops", env),
        slots={"blue": blue or slot("1.0", 90), "green": green or slot("1.1", 10)},
        bucket_arn=BUCKET, model_prefix="models/fraud", ecr_repository_arn=REPO, kms_key_arn=KEY,
        data_capture=DataCaptureArgs("mlops-prod-artifacts"), region="us-east-1",
        rollout=RolloutSpec(strategy="canary", wait_seconds=600),
    )
    return dataclasses.replace(args, **overrides)


@pytest.fixture
def plan_endpoint(plan_component):
    def run(args: ModelEndpointArgs | None = None, stack: str = "prod"):
        return plan_component(lambda: ModelEndpoint("fraud", args or endpoint_args()), stack=stack)
    return run


def config_of(plan) -> dict:
    return plan.of_type(CONFIG)[0]["inputs"]


def policy_of(plan) -> list[dict]:
    return json.loads(plan.named("fraud-role-policy")["inputs"]["policy"])["Statement"]


def test_variants_are_named_blue_and_green_with_weights(plan_endpoint):
    variants = config_of(plan_endpoint())["productionVariants"]
    assert [(v["variantName"], v["initialVariantWeight"]) for v in variants] == [("blue", 90), ("green", 10)]


def test_variant_instance_type_and_count_come_from_slots(plan_endpoint):
    variant = config_of(plan_endpoint())["productionVariants"][0]
    assert (variant["instanceType"], variant["initialInstanceCount"]) == ("ml.m5.large", 2)


def test_weight_zero_slot_is_an_idle_variant_registered_for_autoscaling_like_the_other(plan_endpoint):
    """Both variants always exist (see test_endpoint_variants: same names across a blue/green update), and
    each has its scalable target, so no update ever removes a variant still registered for autoscaling."""
    plan = plan_endpoint(endpoint_args(blue=slot("1.0", 100), green=slot("1.1", 0)))
    variants = config_of(plan)["productionVariants"]
    assert [(v["variantName"], v["initialVariantWeight"], v["initialInstanceCount"]) for v in variants] == [
        ("blue", 100, 2), ("green", 0, 1)]
    assert [m["name"] for m in plan.of_type(MODEL)] == ["fraud-blue-model", "fraud-green-model"]
    targets = {t["inputs"]["resourceId"].rsplit("/", 1)[1]: t["inputs"]["minCapacity"]
               for t in plan.of_type("aws:appautoscaling/target:Target")}
    assert targets == {"blue": 2, "green": 1}


def test_weight_zero_slot_stays_when_kept_warm(plan_endpoint):
    plan = plan_endpoint(endpoint_args(blue=slot("1.0", 100), green=slot("1.1", 0), keep_warm=True))
    assert [(v["variantName"], v["initialVariantWeight"]) for v in config_of(plan)["productionVariants"]] == [
        ("blue", 100), ("green", 0)]


def test_config_name_changes_when_a_weight_changes(plan_endpoint):
    before = config_of(plan_endpoint())["name"]
    after = config_of(plan_endpoint(endpoint_args(blue=slot("1.0", 80), green=slot("1.1", 20))))["name"]
    assert before != after


def test_config_name_changes_when_an_image_changes(plan_endpoint):
    before = config_of(plan_endpoint())["name"]
    after = config_of(plan_endpoint(endpoint_args(green=slot("1.2", 10))))["name"]
    assert before != after


def test_config_name_is_stable_when_nothing_changes(plan_endpoint):
    assert config_of(plan_endpoint())["name"] == config_of(plan_endpoint())["name"]


def test_config_is_replaced_create_before_delete(plan_endpoint):
    assert plan_endpoint().of_type(CONFIG)[0]["deleteBeforeReplace"] is False


def test_endpoint_uses_the_config(plan_endpoint):
    plan = plan_endpoint()
    assert plan.of_type(ENDPOINT)[0]["inputs"]["endpointConfigName"] == config_of(plan)["name"]


def test_canary_deployment_config(plan_endpoint):
    policy = plan_endpoint().of_type(ENDPOINT)[0]["inputs"]["deploymentConfig"]["blueGreenUpdatePolicy"]
    routing = policy["trafficRoutingConfiguration"]
    assert routing == {"type": "CANARY", "waitIntervalInSeconds": 600,
                       "canarySize": {"type": "CAPACITY_PERCENT", "value": 10}}
    assert policy["terminationWaitInSeconds"] == 600
    assert policy["maximumExecutionTimeoutInSeconds"] >= 2 * 600 + 600


def test_linear_deployment_config(plan_endpoint):
    plan = plan_endpoint(endpoint_args(rollout=RolloutSpec(strategy="linear", step_percent=25, wait_seconds=300,
                                                                termination_wait_seconds=300)))
    routing = plan.of_type(ENDPOINT)[0]["inputs"]["deploymentConfig"]["blueGreenUpdatePolicy"][
        "trafficRoutingConfiguration"]
    assert routing["type"] == "LINEAR" and routing["linearStepSize"] == {"type": "CAPACITY_PERCENT", "value": 25}


def test_all_at_once_in_dev(plan_endpoint):
    args = endpoint_args("dev", rollout=RolloutSpec())
    routing = plan_endpoint(args, "dev").of_type(ENDPOINT)[0]["inputs"]["deploymentConfig"][
        "blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing == {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 600}


def test_rollback_alarms_exist_and_are_wired(plan_endpoint):
    plan = plan_endpoint()
    endpoint = plan.of_type(ENDPOINT)[0]
    wired = [a["alarmName"] for a in endpoint["inputs"]["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]]
    created = {r["inputs"]["name"]: r["urn"] for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert sorted(wired) == sorted(created)
    assert set(created.values()) <= set(endpoint["dependencies"])


def test_no_rollback_config_without_auto_rollback(plan_endpoint):
    plan = plan_endpoint(endpoint_args(rollout=RolloutSpec(strategy="canary", auto_rollback=False)))
    assert "autoRollbackConfiguration" not in plan.of_type(ENDPOINT)[0]["inputs"]["deploymentConfig"]
    assert plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []


def test_endpoint_sets_no_custom_timeouts_the_provider_would_ignore(plan_endpoint):
    """aws_sagemaker_endpoint has no `timeouts` block (terraform-provider-aws#39040): a Pulumi custom timeout
    there promises a wait the provider does not do."""
    assert plan_endpoint().of_type(ENDPOINT)[0]["customTimeouts"] is None


def test_data_capture_input_and_output_to_bucket_with_key(plan_endpoint):
    capture = config_of(plan_endpoint())["dataCaptureConfig"]
    assert [o["captureMode"] for o in capture["captureOptions"]] == ["Input", "Output"]
    assert capture["destinationS3Uri"] == "s3://mlops-prod-artifacts/data-capture/fraud"
    assert capture["kmsKeyId"] == KEY and capture["initialSamplingPercentage"] == 20


def test_dev_captures_every_request(plan_endpoint):
    capture = config_of(plan_endpoint(endpoint_args("dev"), "dev"))["dataCaptureConfig"]
    assert capture["initialSamplingPercentage"] == 100


def test_volume_key_set_for_ebs_instances(plan_endpoint):
    assert config_of(plan_endpoint())["kmsKeyArn"] == KEY


def test_volume_key_omitted_for_nvme_instances(plan_endpoint):
    gpu = endpoint_args(blue=slot("1.0", 90, instance_type="ml.g5.xlarge"))
    assert "kmsKeyArn" not in config_of(plan_endpoint(gpu))


def test_models_run_network_isolated_with_version(plan_endpoint):
    model = plan_endpoint().named("fraud-green-model")["inputs"]
    assert model["enableNetworkIsolation"] is True
    assert model["primaryContainer"]["environment"]["MODEL_VERSION"] == "1.1"
    assert "SAGEMAKER_CONTAINER_LOG_LEVEL" in model["primaryContainer"]["environment"]


def test_role_trusts_only_this_accounts_sagemaker(plan_endpoint):
    trust = json.loads(plan_endpoint().named("fraud-role")["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_role_reads_only_its_model_prefix(plan_endpoint):
    statements = {s["Sid"]: s for s in policy_of(plan_endpoint())}
    assert statements["ModelRead"]["Resource"] == f"{BUCKET}/models/fraud/*"
    assert statements["ModelList"]["Condition"]["StringLike"]["s3:prefix"] == ["models/fraud", "models/fraud/*"]


def test_role_writes_only_its_capture_prefix(plan_endpoint):
    statements = {s["Sid"]: s for s in policy_of(plan_endpoint())}
    assert statements["WriteCapture"]["Resource"] == f"{BUCKET}/data-capture/fraud/*"


def test_role_scoped_to_repository_key_and_log_group(plan_endpoint):
    statements = {s["Sid"]: s for s in policy_of(plan_endpoint())}
    assert statements["PullImage"]["Resource"] == REPO
    assert statements["UseKey"]["Resource"] == KEY
    assert all("/aws/sagemaker/Endpoints/mlops-prod-fraud" in r for r in statements["WriteLogs"]["Resource"])


def test_role_has_no_wildcards_beyond_ecr_auth_and_namespaced_metrics(plan_endpoint):
    for statement in policy_of(plan_endpoint(endpoint_args(allow_network_access=True))):
        assert not any(a == "*" or a.endswith(":*") for a in statement["Action"])
        if statement["Resource"] == "*":
            assert statement["Sid"] in {"EcrAuth", "PutMetrics"}
    metrics = next(s for s in policy_of(plan_endpoint(endpoint_args(allow_network_access=True)))
                   if s["Sid"] == "PutMetrics")
    assert metrics["Condition"]["StringEquals"]["cloudwatch:namespace"] == "MLOps/ModelServer"


def test_isolated_container_gets_no_metrics_grant(plan_endpoint):
    assert "PutMetrics" not in {s["Sid"] for s in policy_of(plan_endpoint())}


def test_vpc_permissions_only_with_vpc(plan_endpoint):
    assert not any(s["Sid"] == "ManageEnis" for s in policy_of(plan_endpoint()))
    plan = plan_endpoint(endpoint_args(vpc=VpcArgs(["subnet-1"], ["sg-1"])))
    assert any(s["Sid"] == "ManageEnis" for s in policy_of(plan))
    assert plan.named("fraud-blue-model")["inputs"]["vpcConfig"] == {"subnets": ["subnet-1"],
                                                                      "securityGroupIds": ["sg-1"]}


def test_autoscaling_target_per_variant(plan_endpoint):
    targets = plan_endpoint(endpoint_args(autoscaling=AutoscalingArgs(max_instances=6))).of_type(
        "aws:appautoscaling/target:Target")
    assert sorted(t["inputs"]["resourceId"] for t in targets) == [
        "endpoint/mlops-prod-fraud/variant/blue", "endpoint/mlops-prod-fraud/variant/green"]
    assert {(t["inputs"]["minCapacity"], t["inputs"]["maxCapacity"]) for t in targets} == {(2, 6)}
    assert {t["inputs"]["scalableDimension"] for t in targets} == {"sagemaker:variant:DesiredInstanceCount"}


def test_autoscaling_tracks_invocations_per_instance(plan_endpoint):
    policy = plan_endpoint().of_type("aws:appautoscaling/policy:Policy")[0]["inputs"]
    spec = policy["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
    assert spec["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"


def test_children_are_tagged_with_service(plan_endpoint):
    plan = plan_endpoint(endpoint_args(tags={"team": "risk"}))
    for type_ in (ENDPOINT, CONFIG, MODEL, "aws:iam/role:Role"):
        assert all(r["inputs"]["tags"]["service"] == "fraud" and r["inputs"]["tags"]["team"] == "risk"
                   for r in plan.of_type(type_))


def test_outputs_name_url_and_weights(plan_component):
    endpoints = []

    def build():
        endpoints.append(ModelEndpoint("fraud", endpoint_args()))

    plan_component(build, stack="prod")
    endpoint = endpoints[0]
    assert endpoint.variant_weights == {"blue": 90, "green": 10}
    assert len(endpoint.rollback_alarm_names) == 4


def test_invalid_args_report_every_problem():
    bad = endpoint_args(blue=slot("1.0", 90, count=1, instance_type="ml.m5.enormous"),
                        rollout=RolloutSpec(strategy="canary", canary_percent=70))
    with pytest.raises(ModelEndpointArgsError) as error:
        ModelEndpoint("fraud", bad)
    assert len(error.value.problems) >= 3


def test_execution_role_may_describe_exactly_the_rollback_alarms(plan_endpoint):
    """"Ensure that your IAM execution role has permission to perform the cloudwatch:DescribeAlarms action on
    the auto-rollback alarms you specify" (docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-
    configuration.html). Without it a guarded update cannot read its alarms."""
    plan = plan_endpoint()
    wired = [a["alarmName"] for a in plan.of_type(ENDPOINT)[0]["inputs"]["deploymentConfig"][
        "autoRollbackConfiguration"]["alarms"]]
    (statement,) = [s for s in policy_of(plan) if s["Sid"] == "ReadRollbackAlarms"]
    assert statement["Action"] == ["cloudwatch:DescribeAlarms"]
    assert sorted(statement["Resource"]) == sorted(f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{n}"
                                                   for n in wired)


def test_volume_key_grant_only_for_aws_resources_and_only_when_the_key_encrypts_volumes(plan_endpoint):
    """A KMS-encrypted ML storage volume needs kms:CreateGrant in the execution role (SageMaker roles page,
    docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html: CreateEndpointConfig with KmsKeyId),
    conditioned on kms:GrantIsForAWSResource so the role cannot grant itself. NVMe types carry no volume key."""
    grants = [s for s in policy_of(plan_endpoint()) if s["Sid"] == "GrantKeyToVolumes"]
    assert grants == [{"Sid": "GrantKeyToVolumes", "Effect": "Allow", "Action": ["kms:CreateGrant"], "Resource": KEY,
                       "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}]
    nvme = endpoint_args(blue=slot("1.0", 90, instance_type="ml.g5.xlarge"),
                         green=slot("1.1", 10, instance_type="ml.g5.xlarge"))
    assert not [s for s in policy_of(plan_endpoint(nvme)) if s["Sid"] == "GrantKeyToVolumes"]


def test_rollback_alarms_watch_only_the_fleet_of_the_declared_configuration(plan_endpoint):
    """AWS's guardrail example "Monitor invocation errors on the new fleet" adds the EndpointConfigName
    dimension (docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html). Without it
    a 10% canary's errors are diluted by the old fleet's 90% healthy traffic: a canary failing every request
    shows a 10% variant rate, and a 1% threshold needs 10% of all requests to fail before rollback."""
    plan = plan_endpoint()
    config_name = config_of(plan)["name"]
    alarms = [r["inputs"] for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    assert len(alarms) == 4
    for alarm in alarms:
        dims = ([q["metric"]["dimensions"] for q in alarm["metricQueries"] if "metric" in q]
                if "metricQueries" in alarm else [alarm["dimensions"]])
        assert dims and all(d["EndpointConfigName"] == config_name for d in dims), alarm["name"]


def test_replaced_configurations_and_models_are_retained_for_a_rolled_back_endpoint(plan_endpoint):
    """After SageMaker rolls an update back the endpoint runs the OLD configuration, while the provider may
    report success; Pulumi then deletes the old configuration and its models, and the next update fails with
    "Could not find endpoint configuration" (terraform-provider-aws issue #48997, PR #49020). Retained, they
    stay; `python -m infra verify` reports the rollback (tests/infra/verify)."""
    plan = plan_endpoint()
    for resource in [*plan.of_type(CONFIG), *plan.of_type(MODEL)]:
        assert resource["retainOnDelete"] is True and resource["deleteBeforeReplace"] is False, resource["name"]
    assert plan.of_type(ENDPOINT)[0]["retainOnDelete"] is False


def test_initial_instance_counts_are_the_autoscaling_floor(plan_endpoint):
    """UpdateEndpoint without RetainAllVariantProperties (the provider never sends it; PR #49069 open) resets
    every variant to its initial count on each update. Initial count = min capacity, so an update scales a
    scaled-out variant down to its floor, never below it, and autoscaling takes it from there."""
    plan = plan_endpoint()
    floors = {t["inputs"]["resourceId"].rsplit("/", 1)[1]: t["inputs"]["minCapacity"]
              for t in plan.of_type("aws:appautoscaling/target:Target")}
    assert {v["variantName"]: v["initialInstanceCount"] for v in config_of(plan)["productionVariants"]} == floors
