"""The AWS dev and prod stacks: per-environment differences a reviewer would check in a plan."""

from __future__ import annotations

import json

import botocore.session
import pytest

TAGGED_KEYS = {"environment", "owner", "cost-center", "service"}


@pytest.fixture
def dev(stack_plan):
    return stack_plan("dev")


@pytest.fixture
def prod(stack_plan):
    return stack_plan("prod")


def _one(plan, type_):
    found = plan.of_type(type_)
    assert len(found) == 1, [r["name"] for r in found]
    return found[0]


def test_dev_has_two_zones_and_one_nat_prod_three_and_one_per_zone(dev, prod):
    assert len(dev.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3
    assert len(dev.of_type("aws:ec2/subnet:Subnet")) == 4 and len(prod.of_type("aws:ec2/subnet:Subnet")) == 6


def test_prod_protects_stateful_resources_and_retains_buckets_and_repositories(prod, dev):
    for type_ in ("aws:s3/bucket:Bucket", "aws:ecr/repository:Repository"):
        assert all(r["protect"] and r["retainOnDelete"] for r in prod.of_type(type_)), type_
    for type_ in ("aws:kms/key:Key", "aws:eks/cluster:Cluster"):
        assert all(r["protect"] for r in prod.of_type(type_)), type_
    assert not any(r["protect"] for r in dev.resources)


def test_prod_retains_the_key_that_encrypts_its_retained_buckets_and_repositories(prod):
    """Prod's buckets and repositories are retain_on_delete, encrypted with the stack's KMS key. A stack
    deletion that deleted the key would ScheduleKeyDeletion (30-day window), after which the retained
    SSE-KMS objects and ECR images cannot be decrypted by anyone (docs.aws.amazon.com/kms/latest/
    developerguide/deleting-keys.html: "After a KMS key is deleted, you can no longer decrypt the data that
    was encrypted under that KMS key"). The key is retained with what it encrypts."""
    (key,) = prod.of_type("aws:kms/key:Key")
    assert key["protect"] and key["retainOnDelete"]
    for type_ in ("aws:s3/bucket:Bucket", "aws:ecr/repository:Repository"):
        assert all(r["retainOnDelete"] for r in prod.of_type(type_)), type_


def test_a_node_group_replacement_starts_the_new_group_before_the_old_one_goes(tmp_path):
    """amiType, capacityType and instanceTypes are ForceNew on a managed node group (replacement.py,
    eks/node_group.go). With an explicit nodeGroupName the bridge replaces delete-first
    (pulumi-terraform-bridge nameRequiresDeleteBeforeReplace): toggling `gpu.spot` removed every GPU node before
    the new group existed. A name prefix lets the new group join first; EKS then drains the old one
    (docs.aws.amazon.com/eks/latest/userguide/delete-managed-node-group.html)."""
    from infra.plan.diff import diff_plans
    from infra.plan.engine import plan_stack

    before = plan_stack("dev")
    after = _edited(tmp_path, "dev", "    spot: true\n", "    spot: false\n")
    (group,) = [c for c in diff_plans(before, after).changed if c.name == "gpu-gpu"]
    assert group.action == "replace" and "capacityType" in group.replace_reasons
    assert group.delete_first == ""


def test_dev_gpu_nodes_are_spot_prod_on_demand(dev, prod):
    def gpu_group(plan):
        return next(r for r in plan.of_type("aws:eks/nodeGroup:NodeGroup") if "gpu" in r["name"].split("-")[-2:])
    assert gpu_group(dev)["inputs"]["capacityType"] == "SPOT"
    assert gpu_group(prod)["inputs"]["capacityType"] == "ON_DEMAND"
    assert gpu_group(prod)["inputs"]["scalingConfig"]["minSize"] == 1


def test_prod_cluster_endpoint_is_private_dev_restricted(dev, prod):
    prod_vpc = _one(prod, "aws:eks/cluster:Cluster")["inputs"]["vpcConfig"]
    dev_vpc = _one(dev, "aws:eks/cluster:Cluster")["inputs"]["vpcConfig"]
    assert prod_vpc["endpointPublicAccess"] is False and prod_vpc["endpointPrivateAccess"] is True
    assert dev_vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_dev_rolls_out_all_at_once_prod_by_10_percent_canary_with_rollback(dev, prod):
    dev_policy = _one(dev, "aws:sagemaker/endpoint:Endpoint")["inputs"]["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert dev_policy["trafficRoutingConfiguration"]["type"] == "ALL_AT_ONCE"
    deployment = _one(prod, "aws:sagemaker/endpoint:Endpoint")["inputs"]["deploymentConfig"]
    routing = deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY" and routing["canarySize"] == {"type": "CAPACITY_PERCENT", "value": 10}
    assert routing["waitIntervalInSeconds"] == 600
    assert deployment["autoRollbackConfiguration"]["alarms"]


def test_variant_weights_and_counts_follow_the_stack_files(dev, prod):
    config = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
    dev_variants = _one(dev, config)["inputs"]["productionVariants"]
    assert {v["variantName"]: v["initialVariantWeight"] for v in dev_variants} == {"blue": 90, "green": 10}
    prod_variants = _one(prod, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")["inputs"][
        "productionVariants"]
    # green is idle (weight 0): still a variant, on one instance, so promoting it never changes the variant set.
    assert [(v["variantName"], v["initialVariantWeight"], v["initialInstanceCount"]) for v in prod_variants] == [
        ("blue", 100, 2), ("green", 0, 1)]


def test_data_capture_is_full_in_dev_and_sampled_in_prod(dev, prod):
    def sampling(plan):
        config = _one(plan, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")["inputs"]
        return config["dataCaptureConfig"]["initialSamplingPercentage"]
    assert sampling(dev) == 100 and sampling(prod) == 20


def test_model_monitor_runs_daily_in_dev_and_hourly_in_prod(dev, prod):
    def cron(plan):
        schedule = _one(plan, "aws:sagemaker/monitoringSchedule:MonitoringSchedule")["inputs"]
        return schedule["monitoringScheduleConfig"]["scheduleConfig"]["scheduleExpression"]
    assert cron(prod) == "cron(0 * ? * * *)" and cron(dev) != cron(prod)


def test_image_is_built_from_the_model_server_dockerfile_with_the_configured_tag(dev):
    image = dev.named("fraud-detector-image-image")["inputs"]  # job images: tests/infra/test_job_images.py
    assert image["build"]["dockerfile"] == "services/model_server/Dockerfile"
    assert image["imageName"].endswith("/mlops-dev-fraud-detector:1.6.0")
    assert image["registry"]["password"] == "[secret]"


def test_taggable_resources_carry_the_required_tags(dev, prod):
    for plan in (dev, prod):
        for res in plan.resources:
            tags = res["inputs"].get("tags")
            if res["custom"] and isinstance(tags, dict):
                assert set(tags) >= TAGGED_KEYS, (res["urn"], sorted(tags))


def test_planned_instance_types_exist_in_botocores_service_models(dev, prod):
    session = botocore.session.get_session()
    sagemaker = set(session.get_service_model("sagemaker").shape_for("ProductionVariantInstanceType").enum)
    ec2 = set(session.get_service_model("ec2").shape_for("InstanceType").enum)
    for plan in (dev, prod):
        for config in plan.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration"):
            assert {v["instanceType"] for v in config["inputs"]["productionVariants"]} <= sagemaker
        for template in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
            if "instanceType" in template["inputs"]:
                assert template["inputs"]["instanceType"] in ec2
        for group in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
            assert set(group["inputs"].get("instanceTypes", [])) <= ec2


def test_exports_give_operators_what_they_need(dev):
    assert {"artifactBucket", "repositoryUrls", "clusterName", "kubeconfig", "endpoints", "dashboardUrl",
            "alertTopicArn"} <= set(dev.outputs)
    endpoint = dev.outputs["endpoints"]["fraud-detector"]
    assert endpoint["invokeUrl"] == (
        f"https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/{endpoint['name']}/invocations")


def test_endpoint_role_reads_only_its_model_prefix(dev):
    policies = [json.loads(p["inputs"]["policy"]) for p in dev.of_type("aws:iam/rolePolicy:RolePolicy")
                if "fraud-detector" in p["name"]]
    resources = [s["Resource"] for doc in policies for s in doc["Statement"] if "s3:GetObject" in s["Action"]]
    assert resources and all("models/fraud-detector/*" in str(r) for r in resources)


def test_rollback_alarms_notify_the_alert_topic(prod):
    topic = prod.outputs["alertTopicArn"]
    rollback = [a for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "rollback" in a["name"]]
    assert rollback and all(topic in a["inputs"]["alarmActions"] for a in rollback)
    monitoring = [a for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "rollback" not in a["name"]]
    assert all(topic in a["inputs"]["alarmActions"] for a in monitoring)


def test_drift_alarm_threshold_is_the_configured_psi_as_model_monitors_distance(dev):
    """monitoring.driftThreshold is a PSI (0.2 by default); Model Monitor's drift metric is a KS distance, so the
    alarm fires above the KS distance of the same drift (0.1812), not above 0.2 read as a distance."""
    drift = [a for a in dev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a["name"].endswith("-drift")]
    assert [a["inputs"]["threshold"] for a in drift] == [0.1812]


def _stack_with(tmp_path, stack, extra):
    """`Pulumi.<stack>.yaml` with `extra` lines appended under `config:` (a copy in tmp_path)."""
    from pathlib import Path

    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(Path(f"Pulumi.{stack}.yaml").read_text() + extra)
    return path


def test_first_deploy_with_serving_false_creates_storage_and_registries_but_no_sagemaker(tmp_path):
    """CreateModel fails on a model.tar.gz that is not in S3 and endpoint creation on a tag never pushed
    (docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html, ModelDataUrl), so on an empty
    account the first `pulumi up` must create the bucket and repositories without any SageMaker resource."""
    from infra.plan.engine import plan_stack

    plan = plan_stack("dev", _stack_with(tmp_path, "dev", "  mlops-platform:serving: false\n"))
    types = {r["type"] for r in plan.resources}
    assert not {t for t in types if t.startswith(("aws:sagemaker/", "aws:appautoscaling/"))}
    for kept in ("aws:s3/bucket:Bucket", "aws:ecr/repository:Repository", "aws:eks/cluster:Cluster",
                 "aws:sns/topic:Topic", "aws:cloudwatch/dashboard:Dashboard", "docker:index/image:Image"):
        assert kept in types, kept
    assert plan.outputs["endpoints"] == {} and plan.outputs["artifactBucket"]


def test_serving_false_is_refused_where_the_target_cannot_hold_back_endpoints(tmp_path):
    from infra.config_errors import ConfigError
    from infra.plan.engine import plan_stack

    with pytest.raises(ConfigError) as err:
        plan_stack("azure-dev", _stack_with(tmp_path, "azure-dev", "  mlops-platform:serving: false\n"))
    assert any("mlops-platform:serving = false" in line for line in err.value.lines())


def _edited(tmp_path, stack, old, new):
    from pathlib import Path

    from infra.plan.engine import plan_stack

    text = Path(f"Pulumi.{stack}.yaml").read_text()
    assert old in text, old
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(text.replace(old, new, 1))
    return plan_stack(stack, path)


def _endpoint_change(old_plan, new_plan):
    from infra.plan.diff import diff_plans

    return next(c for c in diff_plans(old_plan, new_plan).changed if c.name == "fraud-detector-endpoint-endpoint")


def test_toggling_auto_rollback_replaces_the_endpoint(dev, tmp_path):
    """terraform-provider-aws internal/service/sagemaker/endpoint.go: `auto_rollback_configuration` is
    `ForceNew: true`, and the endpoint's name is set, so the replacement deletes the serving endpoint first."""
    off = _edited(tmp_path, "dev", "  mlops-platform:monitoring:",
                  "  mlops-platform:rollout:\n    autoRollback: false\n  mlops-platform:monitoring:")
    change = _endpoint_change(dev, off)
    assert change.action == "replace" and "deploymentConfig.autoRollbackConfiguration" in change.replace_reasons


def test_a_canary_weight_step_updates_the_endpoint_in_place(dev, tmp_path):
    """The rollback alarm list (force-new) and the variant set stay the same when weights move."""
    moved = _edited_both(tmp_path)
    assert _endpoint_change(dev, moved).action == "update"


def _edited_both(tmp_path):
    from pathlib import Path

    from infra.plan.engine import plan_stack

    text = Path("Pulumi.dev.yaml").read_text().replace("weight: 90", "weight: 80", 1).replace(
        "weight: 10\n", "weight: 20\n", 1)
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    return plan_stack("dev", path)


def test_prod_refuses_turning_auto_rollback_off_and_protects_its_endpoint(prod, tmp_path):
    from infra.config_errors import ConfigError

    with pytest.raises(ConfigError) as err:
        _edited(tmp_path, "prod", "autoRollback: true", "autoRollback: false")
    assert any("mlops-platform:rollout.autoRollback = false: prod keeps automatic rollback on" in line
               for line in err.value.lines())
    assert _one(prod, "aws:sagemaker/endpoint:Endpoint")["protect"] is True


def test_prod_grants_cluster_admin_to_operators_through_access_entries(prod):
    """Prod's EKS API endpoint is private and access is API-mode access entries: without entries beyond the
    creator's (bootstrapClusterCreatorAdminPermissions, the deploy role), operators have no way in
    (docs.aws.amazon.com/eks/latest/userguide/access-entries.html)."""
    entries = {r["inputs"]["principalArn"] for r in prod.of_type("aws:eks/accessEntry:AccessEntry")}
    assert entries == {"arn:aws:iam::123456789012:role/ml-platform-operators"}
    policies = prod.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {p["inputs"]["principalArn"] for p in policies} == entries


def test_prod_without_cluster_admins_exits_2_naming_the_key(tmp_path):
    from infra.config_errors import ConfigError

    with pytest.raises(ConfigError) as err:
        _edited(tmp_path, "prod", '    clusterAdmins: ["ml-platform-operators"]\n', "")
    assert any("mlops-platform:gpu.clusterAdmins: required in prod" in line for line in err.value.lines())


def test_cluster_admin_entries_do_not_depend_on_who_runs_the_update(tmp_path):
    """The entries come from the stack file alone. Leaving out "the caller" made them depend on who ran
    `pulumi up`: when an operator updated a stack the deploy role had created, the operator's own entry was
    replaced by one for the deploy role, whose principal EKS had already bootstrapped as the cluster's creator
    (CreateAccessEntry: ResourceInUseException, docs.aws.amazon.com/eks/latest/APIReference/
    API_CreateAccessEntry.html). The plan engine's caller is role/deployer: listed, it keeps its entry."""
    plan = _edited(tmp_path, "prod", '["ml-platform-operators"]', '["ml-platform-operators", "deployer"]')
    entries = {r["inputs"]["principalArn"] for r in plan.of_type("aws:eks/accessEntry:AccessEntry")}
    assert entries == {"arn:aws:iam::123456789012:role/ml-platform-operators",
                       "arn:aws:iam::123456789012:role/deployer"}


def test_removing_one_cluster_admin_leaves_the_others_entries_untouched(prod, tmp_path):
    """Entries named by position (gpu-admin-0, -1) shifted when an admin was removed from the front: the
    remaining principal moved to another entry, a replacement whose create-before-delete asks EKS for a second
    entry of a principal that still has one (ResourceInUseException). Named after the role, nothing moves."""
    from infra.plan.diff import diff_plans

    before = _edited(tmp_path, "prod", '["ml-platform-operators"]', '["sre-oncall", "ml-platform-operators"]')
    diff = diff_plans(before, prod)
    assert sorted(r["name"] for r in diff.removed) == ["gpu-admin-123456789012-sre-oncall",
                                                        "gpu-admin-123456789012-sre-oncall-policy"]
    assert not [c.name for c in diff.changed if "admin" in c.name]


def _never_expired(plan) -> dict[str, set[str]]:
    """Repository -> tags a rule ranked above every expiring one protects (tagPatternList of one exact tag)."""
    kept = {}
    for policy in plan.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        rules = json.loads(policy["inputs"]["policy"])["rules"]
        first_wildcard_or_untagged = min(r["rulePriority"] for r in rules
                                         if r["selection"]["tagStatus"] != "tagged"
                                         or any("*" in p for p in r["selection"]["tagPatternList"]))
        kept[policy["inputs"]["repository"]] = {
            r["selection"]["tagPatternList"][0] for r in rules if r["rulePriority"] < first_wildcard_or_untagged
            and r["selection"]["tagPatternList"] and r["selection"]["countNumber"] >= 1}
    return kept


def test_prod_registry_never_expires_the_tags_its_slots_pin_or_the_build_tag(prod):
    """Prod blue runs `1.4.0`, older than the build tag `1.6.0`: under the count rule alone ECR expires it once
    `registry.keepTaggedImages` newer tags exist, and every new SageMaker instance (scale-out, replacement, a
    rollout's new fleet) fails with CannotPullContainerError. A higher-priority rule matching the tag protects it
    (docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html, evaluation rules). The job images
    (trainer, drift-monitor) keep the build tag they are built with."""
    assert _never_expired(prod) == {"mlops-prod-fraud-detector": {"1.4.0", "1.6.0"},
                                    "mlops-prod-trainer": {"1.6.0"}, "mlops-prod-drift-monitor": {"1.6.0"}}
