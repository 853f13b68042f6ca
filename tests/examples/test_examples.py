"""Every program under examples/ plans offline, passes the policy pack, and composes what it promises.

Examples are a means of testing the components: each is planned like `pulumi preview` would run it
(its own project name, stack and config), under the same recording mocks as the main stacks.
"""

from __future__ import annotations

import json
import re
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra.plan.engine import Plan, plan_program
from infra.stackfile import PROJECT_ROOT
from policy.check import run_pack

EXAMPLES_DIR = PROJECT_ROOT / "examples"
EXAMPLES = sorted(p.parent.name for p in EXAMPLES_DIR.glob("*/Pulumi.yaml"))
SCHEMA = PROJECT_ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"
SHARED = "shared-registry-two-endpoints"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
_PLANS: dict[tuple[str, str], Plan] = {}


def project(example: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES_DIR / example / "Pulumi.yaml").read_text(encoding="utf-8"))


def plan_example(example: str, environment: str = "dev", extra: dict[str, str] | None = None) -> Plan:
    """Plan examples/<example> as stack `environment`, with config as the engine passes it."""
    name = project(example)["name"]
    config = {f"{name}:environment": environment, "aws:region": "us-east-1", **(extra or {})}
    main = EXAMPLES_DIR / example / "__main__.py"
    return plan_program(lambda: runpy.run_path(str(main), run_name="__main__"), stack=environment,
                        config=config, project=name)


@pytest.fixture
def example_plan() -> Callable[..., Plan]:
    """The plan of an example per environment (computed once per session; treat it as read-only)."""

    def get(example: str, environment: str = "dev") -> Plan:
        if (example, environment) not in _PLANS:
            _PLANS[example, environment] = plan_example(example, environment)
        return _PLANS[example, environment]

    return get


def by_service(plan: Plan, type_: str) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["tags"]["service"]: r for r in plan.of_type(type_)}


def test_there_is_an_example_composing_a_shared_registry():
    assert SHARED in EXAMPLES


# --- every example -----------------------------------------------------------------------------


@pytest.mark.skipif(not SCHEMA.is_file(), reason="Pulumi's project schema lives in ../shared/schemas")
@pytest.mark.parametrize("example", EXAMPLES)
def test_pulumi_yaml_validates_against_pulumis_project_schema(example):
    jsonschema.validate(project(example), json.loads(SCHEMA.read_text(encoding="utf-8")))


@pytest.mark.parametrize("example", EXAMPLES)
def test_project_is_a_python_program_of_its_own(example):
    doc = project(example)
    assert doc["name"] == example
    assert doc["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert (EXAMPLES_DIR / example / doc.get("main", "") / "__main__.py").is_file()
    assert (EXAMPLES_DIR / example / "README.md").is_file()


@pytest.mark.parametrize("example", EXAMPLES)
def test_requirements_install_this_project_with_the_same_pins(example):
    def pins(path: Path) -> dict[str, str]:
        lines = [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return dict(line.split("==") for line in lines if "==" in line)

    lines = (EXAMPLES_DIR / example / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "-e ../.." in lines, "the example imports `components` from this checkout"
    root = pins(PROJECT_ROOT / "requirements.txt")
    for package, version in pins(EXAMPLES_DIR / example / "requirements.txt").items():
        assert root.get(package) == version, f"{package}=={version} differs from requirements.txt"


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_policy_pack_finds_no_mandatory_violation(example, environment, example_plan):
    violations = run_pack(example_plan(example, environment).to_dict())
    mandatory = [f"{v.policy} {v.urn}: {v.message}" for v in violations if v.level == "mandatory"]
    assert mandatory == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_resource_is_declared_inside_a_component(example, example_plan):
    plan = example_plan(example)
    root = plan.of_type("pulumi:pulumi:Stack")[0]["urn"]
    assert [r["name"] for r in plan.resources if r["parent"] == root and r["custom"]] == []
    components = [r["type"] for r in plan.resources if not r["custom"] and r["type"] != "pulumi:pulumi:Stack"]
    assert components and all(re.fullmatch(r"mlops:(aws|images):[A-Z]\w+", t) for t in components)


@pytest.mark.parametrize("example", EXAMPLES)
def test_plans_without_any_config(example):
    plan = plan_program(lambda: runpy.run_path(str(EXAMPLES_DIR / example / "__main__.py"), run_name="__main__"),
                        stack="dev", config={}, project=project(example)["name"])
    assert plan.outputs


@pytest.mark.parametrize("example", EXAMPLES)
def test_prod_protects_stateful_resources(example, example_plan):
    prod, dev = example_plan(example, "prod"), example_plan(example, "dev")
    stateful = ("aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository")
    assert all(r["protect"] for r in prod.resources if r["type"] in stateful)
    assert not any(r["protect"] for r in dev.resources)


# --- shared-registry-two-endpoints -----------------------------------------------------------


@pytest.fixture
def shared(example_plan) -> Plan:
    return example_plan(SHARED)


def test_one_registry_holds_a_repository_per_service(shared):
    registry = shared.of_type("mlops:aws:ContainerRegistry")
    assert len(registry) == 1
    repositories = shared.of_type("aws:ecr/repository:Repository")
    assert sorted(r["inputs"]["name"] for r in repositories) == ["shop-dev-churn", "shop-dev-fraud"]
    assert all(r["parent"] == registry[0]["urn"] for r in repositories)
    assert set(shared.outputs["repositoryUrls"]) == {"fraud", "churn"}


def test_one_bucket_and_one_key_serve_both_endpoints(shared):
    (bucket,) = shared.of_type("aws:s3/bucket:Bucket")
    assert len(shared.of_type("aws:kms/key:Key")) == 1
    assert shared.outputs["artifactBucket"] == bucket["inputs"]["bucket"]
    key_arn = shared.outputs["kmsKeyArn"]
    for service, config in by_service(shared, ENDPOINT_CONFIG).items():
        capture = config["inputs"]["dataCaptureConfig"]
        assert capture["destinationS3Uri"] == f"s3://{bucket['inputs']['bucket']}/data-capture/{service}"
        assert capture["kmsKeyId"] == key_arn and config["inputs"]["kmsKeyArn"] == key_arn
    for service, model in by_service(shared, "aws:sagemaker/model:Model").items():
        assert model["inputs"]["primaryContainer"]["modelDataUrl"].startswith(
            f"s3://{bucket['inputs']['bucket']}/models/{service}/")


def test_each_endpoint_runs_its_own_image_and_may_pull_only_its_own_repository(shared):
    urls = shared.outputs["repositoryUrls"]
    for service, model in by_service(shared, "aws:sagemaker/model:Model").items():
        assert model["inputs"]["primaryContainer"]["image"].startswith(f"{urls[service]}@sha256:")
    for policy in shared.of_type("aws:iam/rolePolicy:RolePolicy"):
        statements = json.loads(policy["inputs"]["policy"])["Statement"]
        pulls = [s["Resource"] for s in statements if s["Sid"] == "PullImage"]
        service = policy["name"].removesuffix("-endpoint-role-policy")
        if service in urls:
            assert pulls == [f"arn:aws:ecr:us-east-1:123456789012:repository/shop-dev-{service}"]


def test_fraud_rolls_out_by_10_percent_canary_churn_by_20_percent_steps(shared):
    endpoints = by_service(shared, ENDPOINT)
    assert set(endpoints) == {"fraud", "churn"}
    fraud = endpoints["fraud"]["inputs"]["deploymentConfig"]
    churn = endpoints["churn"]["inputs"]["deploymentConfig"]
    fraud_routing = fraud["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    churn_routing = churn["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert fraud_routing["type"] == "CANARY"
    assert fraud_routing["canarySize"] == {"type": "CAPACITY_PERCENT", "value": 10}
    assert churn_routing["type"] == "LINEAR"
    assert churn_routing["linearStepSize"] == {"type": "CAPACITY_PERCENT", "value": 20}
    assert "linearStepSize" not in fraud_routing and "canarySize" not in churn_routing
    for service, config in (("fraud", fraud), ("churn", churn)):
        alarms = {a["alarmName"] for a in config["autoRollbackConfiguration"]["alarms"]}
        assert alarms == {f"shop-dev-{service}-{slot}-{kind}-rollback"
                          for slot in ("blue", "green") for kind in ("5xx", "p99")}


def test_guarded_rollouts_run_two_instances_in_the_live_variant(shared):
    for config in shared.of_type(ENDPOINT_CONFIG):
        assert [(v["variantName"], v["initialVariantWeight"], v["initialInstanceCount"])
                for v in config["inputs"]["productionVariants"]] == [("blue", 100, 2), ("green", 0, 1)]


def test_endpoints_run_without_a_vpc_but_network_isolated(shared):
    assert not [r for r in shared.resources if r["type"].startswith(("aws:ec2/", "aws:eks/"))]
    for model in shared.of_type("aws:sagemaker/model:Model"):
        assert model["inputs"]["enableNetworkIsolation"] is True
        assert "vpcConfig" not in model["inputs"]


def test_monitoring_covers_both_endpoints(shared):
    (monitoring,) = shared.of_type("mlops:aws:Monitoring")
    alarms = [r["inputs"] for r in shared.children(monitoring["urn"])
              if r["type"] == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    names = {"shop-dev-fraud", "shop-dev-churn"}
    watched = {q["metric"]["dimensions"].get("EndpointName") or q["metric"]["dimensions"].get("Endpoint")
               for a in alarms for q in a.get("metricQueries", []) if q.get("metric")}
    watched |= {a["dimensions"]["EndpointName"] for a in alarms if "EndpointName" in a.get("dimensions", {})}
    assert watched == names
    assert {"shop-dev-fraud-drift", "shop-dev-churn-drift"} <= {a["name"] for a in alarms}
    schedules = shared.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    assert sorted(s["inputs"]["name"] for s in schedules) == ["shop-dev-churn-data-quality",
                                                             "shop-dev-fraud-data-quality"]
    (dashboard,) = shared.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert all(name in dashboard["inputs"]["dashboardBody"] for name in names)


def test_exports_what_callers_and_operators_need(shared):
    outputs = shared.outputs
    assert outputs["endpoints"]["fraud"] == {
        "name": "shop-dev-fraud", "rollout": "canary",
        "invokeUrl": "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/shop-dev-fraud/invocations"}
    assert outputs["endpoints"]["churn"]["rollout"] == "linear"
    assert outputs["alertTopicArn"].endswith(":shop-dev-alerts") and "shop-dev-serving" in outputs["dashboardUrl"]


def test_alert_emails_from_config_subscribe_to_the_topic():
    plan = plan_example(SHARED, extra={f"{SHARED}:alertEmails": '["oncall@example.com"]'})
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert [s["inputs"]["endpoint"] for s in subscriptions] == ["oncall@example.com"]


def test_an_unknown_environment_stops_the_program_with_the_fix():
    with pytest.raises(Exception, match=r"environment 'qa': expected one of dev, staging, prod"):
        plan_example(SHARED, "qa")


# --- bring-your-own-image --------------------------------------------------------------------

BYOI = "bring-your-own-image"


def test_pinned_images_are_served_without_a_registry_or_a_build(example_plan):
    plan = example_plan(BYOI)
    assert not plan.of_type("aws:ecr/repository:Repository") and not plan.of_type("docker:index/image:Image")
    images = {m["inputs"]["tags"]["slot"]: m["inputs"]["primaryContainer"]["image"]
              for m in plan.of_type("aws:sagemaker/model:Model")}
    assert images == {slot: f"123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker@sha256:{digit * 64}"
                      for slot, digit in (("blue", "1"), ("green", "2"))}
    assert plan.outputs["endpoint"]["weights"] == {"blue": 90, "green": 10}
    (policy,) = plan.of_type("aws:iam/rolePolicy:RolePolicy")
    pulls = [s["Resource"] for s in json.loads(policy["inputs"]["policy"])["Statement"] if s["Sid"] == "PullImage"]
    assert pulls == ["arn:aws:ecr:us-east-1:123456789012:repository/ranker"]


def test_images_from_two_repositories_are_refused():
    other = "123456789012.dkr.ecr.us-east-1.amazonaws.com/other:1.0.0"
    with pytest.raises(Exception, match="must come from one repository"):
        plan_example(BYOI, extra={f"{BYOI}:greenImage": other})
