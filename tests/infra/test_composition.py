"""What every target composes the same way: the service plan, and the exports every cloud shares."""

from __future__ import annotations

import pulumi
import pytest

from components.monitoring import DriftSpec
from infra.composition import alert_thresholds, plan_services, rollout_spec
from infra.exports import ENDPOINT_KEYS, EXPORT_NAMES, EndpointExport, StackExports
from infra.plan.engine import plan_program
from infra.stackfile import read_stack_config
from infra.targets import load_platform_config


def _config(stack: str = "dev", **services: dict):
    values = dict(read_stack_config(stack).values)
    if services:
        import json

        base = json.loads(values["mlops-platform:services"])["fraud-detector"]
        values["mlops-platform:services"] = json.dumps({name: {**base, **over} for name, over in services.items()})
    return load_platform_config(values, f"Pulumi.{stack}.yaml")


def test_service_plan_of_the_dev_stack():
    [plan] = plan_services(_config())
    assert (plan.name, plan.repository, plan.external, plan.build_tag) == ("fraud-detector", "fraud-detector",
                                                                           False, "1.6.0")
    assert {n: (s.image_tag, s.built, s.weight) for n, s in plan.slots.items()} == {
        "blue": ("1.4.0", False, 90), "green": ("1.6.0", True, 10)}
    assert plan.slots["green"].model_key == "models/fraud-detector/8/model.tar.gz"
    assert plan.baseline_keys == {"statistics.json": "models/fraud-detector/7/statistics.json",
                                  "constraints.json": "models/fraud-detector/7/constraints.json"}
    assert plan.drift == DriftSpec(features=("mean radius", "mean texture", "worst area", "worst concave points"),
                                   threshold_psi=0.2, schedule="daily")
    assert plan.tags["service"] == "fraud-detector" and plan.tags["environment"] == "dev"


def test_model_prefix_and_repository_follow_the_service_config():
    [plan] = plan_services(_config(fraud={"modelArtifactUri": "teams/risk/fraud", "imageRepository": "shared"}))
    assert plan.repository == "shared" and plan.model_prefix == "teams/risk/fraud"
    assert plan.slots["blue"].model_key == "teams/risk/fraud/7/model.tar.gz"


def test_slots_run_the_build_for_the_build_tag_else_the_pinned_tag():
    [plan] = plan_services(_config())

    def program() -> None:
        images = plan.images(pulumi.Output.from_input("registry.example/fraud"), pulumi.Output.from_input("BUILT"))
        pulumi.export("images", images)

    assert plan_program(program, stack="dev").outputs["images"] == {"blue": "registry.example/fraud:1.4.0",
                                                                    "green": "BUILT"}


def test_external_repository_is_used_as_is_and_nothing_is_built():
    external = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/fraud"
    [plan] = plan_services(_config(fraud={"imageRepository": external, "buildTag": None}))
    assert plan.external and plan.build_tag is None
    assert plan.images(None, None) == {"blue": f"{external}:1.4.0", "green": f"{external}:1.6.0"}


def test_slot_specs_turn_store_keys_into_the_clouds_uris():
    [plan] = plan_services(_config())
    specs = plan.slot_specs({"blue": "img:1", "green": "img:2"}, lambda key: f"gs://bucket/{key}")
    assert specs["green"].model_uri == "gs://bucket/models/fraud-detector/8/model.tar.gz"
    assert (specs["blue"].image, specs["blue"].instance_type, specs["blue"].weight) == ("img:1", "ml.m5.large", 90)


def test_rollout_and_alert_specs_come_from_the_stack_sections():
    prod = _config("prod")
    assert rollout_spec(prod).steps == (10, 100) and rollout_spec(prod).wait_seconds == 600
    assert (alert_thresholds(prod).error_rate_percent, alert_thresholds(prod).p99_latency_ms) == (0.5, 500)


def test_exports_carry_the_shared_names_and_the_clouds_extras():
    exports = StackExports(region="r", artifact_bucket="b", repository_urls={"s": "u"}, cluster_name="c",
                           kubeconfig="k", dashboard_url="d", alert_destination="a", extras={"vpcId": "v"},
                           endpoints={"s": EndpointExport(name="n", invoke_url="i", weights={"blue": 100},
                                                          extras={"arn": "x"})})

    def program() -> None:
        for name, value in exports.outputs().items():
            pulumi.export(name, value)

    outputs = plan_program(program, stack="dev").outputs
    assert set(outputs) == {*EXPORT_NAMES, "vpcId"}
    assert set(outputs["endpoints"]["s"]) == {*ENDPOINT_KEYS, "arn"}
    assert outputs["kubeconfig"] == "[secret]"  # a secret even when the component hands in plain text


@pytest.mark.parametrize("extras", [{"region": "x"}, {"endpoints": {}}])
def test_an_extra_may_not_replace_a_shared_export(extras):
    exports = StackExports(region="r", artifact_bucket="b", repository_urls={}, cluster_name="c", kubeconfig="k",
                           endpoints={}, dashboard_url="d", alert_destination="a", extras=extras)
    with pytest.raises(ValueError, match="reuse shared names"):
        exports.outputs()


def test_aws_stacks_export_every_shared_name(stack_plan):
    for stack in ("dev", "prod"):
        outputs = stack_plan(stack).outputs
        assert set(EXPORT_NAMES) <= set(outputs), stack
        assert all(set(ENDPOINT_KEYS) <= set(e) for e in outputs["endpoints"].values())
        assert outputs["alertDestination"] == outputs["alertTopicArn"]
