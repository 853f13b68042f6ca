"""Monitoring under mocks: topic, alarms, dashboard, Model Monitor schedule and drift alarm."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.aws.model_monitor import analyzer_image_uri, drift_alarm_specs, ks_distance_for_psi
from components.aws.monitoring import (
    MonitoredEndpoint,
    MonitoredVariant,
    Monitoring,
    MonitoringArgs,
    MonitoringArgsError,
)
from components.monitoring import DriftSpec
from components.naming import Namer

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
JOB = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234"
BUCKET_ARN = "arn:aws:s3:::mlops-artifacts"

FRAUD = MonitoredEndpoint(
    "fraud", "mlops-prod-fraud", (MonitoredVariant("blue", cpus=2), MonitoredVariant("green", cpus=2, gpus=1)),
    baseline_statistics_uri="s3://mlops-artifacts/models/fraud/1/statistics.json",
    baseline_constraints_uri="s3://mlops-artifacts/models/fraud/1/constraints.json",
    drift=DriftSpec(features=("amount", "age")))


def monitoring_args(env: str = "prod", **overrides) -> MonitoringArgs:
    args = MonitoringArgs(namer=Namer("mlops", env), kms_key_arn=KEY, bucket_name="mlops-artifacts",
                          bucket_arn=BUCKET_ARN, endpoints=(FRAUD,), alert_emails=("oncall@example.com",),
                          region="us-east-1")
    return dataclasses.replace(args, **overrides)


@pytest.fixture
def plan_monitoring(plan_component):
    def run(args: MonitoringArgs | None = None, stack: str = "prod"):
        return plan_component(lambda: Monitoring("mon", args or monitoring_args()), stack=stack)
    return run


def alarms(plan) -> dict[str, dict]:
    return {r["inputs"]["name"]: r["inputs"] for r in plan.of_type(ALARM)}


def test_topic_is_encrypted_with_stack_key(plan_monitoring):
    assert plan_monitoring().named("mon-alerts-topic")["inputs"]["kmsMasterKeyId"] == KEY


def test_topic_policy_admits_only_this_accounts_alarms(plan_monitoring):
    statement = json.loads(plan_monitoring().named("mon-alerts-policy")["inputs"]["policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:aws:cloudwatch:us-east-1:")


def test_email_subscription_per_address(plan_monitoring):
    subs = plan_monitoring().of_type("aws:sns/topicSubscription:TopicSubscription")
    assert [(s["inputs"]["protocol"], s["inputs"]["endpoint"]) for s in subs] == [("email", "oncall@example.com")]


def test_alarms_per_variant(plan_monitoring):
    names = set(alarms(plan_monitoring()))
    for kind in ("5xx", "4xx", "p99", "cpu", "disk"):
        assert {f"mlops-prod-fraud-blue-{kind}", f"mlops-prod-fraud-green-{kind}"} <= names


def test_gpu_alarm_only_for_gpu_variant(plan_monitoring):
    names = set(alarms(plan_monitoring()))
    assert "mlops-prod-fraud-green-gpu" in names and "mlops-prod-fraud-blue-gpu" not in names


def test_every_alarm_notifies_the_topic(plan_monitoring):
    plan = plan_monitoring()
    topic = plan.named("mon-alerts-topic")
    arn = "arn:aws:sns:us-east-1:123456789012:mlops-prod-alerts"
    assert topic["inputs"]["name"] == "mlops-prod-alerts"
    assert all(a["alarmActions"] == [arn] and a["okActions"] == [arn] for a in alarms(plan).values())


def test_latency_alarm_is_p99_in_microseconds(plan_monitoring):
    p99 = alarms(plan_monitoring())["mlops-prod-fraud-blue-p99"]
    assert (p99["extendedStatistic"], p99["threshold"], p99["namespace"]) == ("p99", 1_000_000, "AWS/SageMaker")


def test_missing_data_choices(plan_monitoring):
    by_name = alarms(plan_monitoring())
    assert by_name["mlops-prod-fraud-blue-5xx"]["treatMissingData"] == "notBreaching"
    assert by_name["mlops-prod-fraud-blue-cpu"]["treatMissingData"] == "missing"


def test_dashboard_has_endpoint_row(plan_monitoring):
    dashboard = plan_monitoring().named("mon-dashboard")["inputs"]
    assert dashboard["dashboardName"] == "mlops-prod-serving"
    assert "mlops-prod-fraud" in dashboard["dashboardBody"]


def test_prod_monitors_hourly(plan_monitoring):
    config = plan_monitoring().of_type(SCHEDULE)[0]["inputs"]["monitoringScheduleConfig"]
    assert config["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)"
    assert config["monitoringType"] == "DataQuality"


def test_dev_monitors_daily(plan_monitoring):
    config = plan_monitoring(monitoring_args("dev"), "dev").of_type(SCHEDULE)[0]["inputs"]["monitoringScheduleConfig"]
    assert config["scheduleConfig"]["scheduleExpression"] == "cron(0 0 ? * * *)"


def test_schedule_runs_the_job_definition(plan_monitoring):
    plan = plan_monitoring()
    job = plan.of_type(JOB)[0]["inputs"]
    assert plan.of_type(SCHEDULE)[0]["inputs"]["monitoringScheduleConfig"]["monitoringJobDefinitionName"] == job["name"]


def test_job_reads_endpoint_capture_against_baseline(plan_monitoring):
    job = plan_monitoring().of_type(JOB)[0]["inputs"]
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "mlops-prod-fraud"
    assert job["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"].endswith("statistics.json")
    assert job["dataQualityAppSpecification"]["imageUri"] == analyzer_image_uri("us-east-1")


def test_job_writes_encrypted_reports_to_monitoring_prefix(plan_monitoring):
    job = plan_monitoring().of_type(JOB)[0]["inputs"]
    output = job["dataQualityJobOutputConfig"]
    assert output["monitoringOutputs"]["s3Output"]["s3Uri"] == "s3://mlops-artifacts/monitoring/fraud/data-quality"
    assert output["kmsKeyId"] == KEY and job["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == KEY
    assert job["jobResources"]["clusterConfig"]["instanceType"] == "ml.m5.xlarge"
    assert job["networkConfig"]["enableNetworkIsolation"] is True


def test_monitor_role_scoped_to_capture_baselines_and_reports(plan_monitoring):
    statements = {s["Sid"]: s for s in json.loads(
        plan_monitoring().named("mon-monitor-role-policy")["inputs"]["policy"])["Statement"]}
    assert statements["InputsRead"]["Resource"] == [f"{BUCKET_ARN}/data-capture/fraud/*",
                                                    f"{BUCKET_ARN}/models/fraud/*"]
    assert statements["WriteReports"]["Resource"] == f"{BUCKET_ARN}/monitoring/*"


def test_monitor_role_may_grant_the_key_only_to_its_processing_volumes(plan_monitoring):
    """The job's volume is encrypted with the stack key (volumeKmsKeyId above): EBS needs kms:CreateGrant made
    with the role, conditioned on kms:GrantIsForAWSResource (SageMaker processing-job role permissions)."""
    statements = {s["Sid"]: s for s in json.loads(
        plan_monitoring().named("mon-monitor-role-policy")["inputs"]["policy"])["Statement"]}
    grant = statements["GrantKeyToVolumes"]
    assert grant["Action"] == ["kms:CreateGrant"] and grant["Resource"] == KEY
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_drift_alarm_on_model_monitor_metrics(plan_monitoring):
    drift = alarms(plan_monitoring())["mlops-prod-fraud-drift"]
    metrics = [q["metric"] for q in drift["metricQueries"] if "metric" in q]
    assert {m["metricName"] for m in metrics} == {"feature_baseline_drift_amount", "feature_baseline_drift_age"}
    assert {m["namespace"] for m in metrics} == {"aws/sagemaker/Endpoints/data-metrics"}
    assert metrics[0]["dimensions"] == {"Endpoint": "mlops-prod-fraud",
                                        "MonitoringSchedule": "mlops-prod-fraud-data-quality"}
    assert drift["threshold"] == 0.1812  # the KS distance of the default PSI 0.2


def test_drift_threshold_is_a_psi_converted_to_model_monitors_distance(plan_monitoring):
    strict = dataclasses.replace(FRAUD, drift=DriftSpec(features=("amount",), threshold_psi=0.1))
    drift = alarms(plan_monitoring(monitoring_args(endpoints=(strict,))))["mlops-prod-fraud-drift"]
    assert drift["threshold"] == 0.1285
    assert "KS distance) above 0.1285, i.e. PSI 0.1," in drift["alarmDescription"]


@pytest.mark.parametrize(("psi", "distance"), [(0.05, 0.091), (0.1, 0.1285), (0.2, 0.1812), (0.25, 0.2024),
                                               (1.0, 0.3972)])
def test_ks_distance_for_psi(psi, distance):
    """Model Monitor's `feature_baseline_drift_<f>` is a KS distance: "the maximum absolute difference between the
    cumulative distribution functions" (SageMaker developer guide, constraints.json schema, comparison_threshold)."""
    assert ks_distance_for_psi(psi) == distance


def test_drift_schedule_of_the_spec_beats_the_environment_default(plan_monitoring):
    daily = dataclasses.replace(FRAUD, drift=DriftSpec(features=("amount",), schedule="daily"))
    config = plan_monitoring(monitoring_args(endpoints=(daily,))).of_type(SCHEDULE)[0]["inputs"]
    assert config["monitoringScheduleConfig"]["scheduleConfig"]["scheduleExpression"] == "cron(0 0 ? * * *)"


def test_many_features_split_across_alarms():
    specs = drift_alarm_specs(key="k", name="n", endpoint_name="e", schedule_name="s",
                              features=[f"f{i}" for i in range(20)], frequency="hourly", threshold_psi=0.2)
    assert len(specs) == 3 and all(len(s.queries) <= 10 for s in specs)


def test_no_model_monitor_when_disabled(plan_monitoring):
    plan = plan_monitoring(monitoring_args(endpoints=(dataclasses.replace(FRAUD, model_monitor=False),)))
    assert plan.of_type(SCHEDULE) == [] and plan.of_type(JOB) == []


def test_unknown_region_is_a_clear_error():
    with pytest.raises(ValueError, match="mars-east-1"):
        analyzer_image_uri("mars-east-1")


def test_missing_baseline_and_features_are_reported():
    bare = dataclasses.replace(FRAUD, baseline_statistics_uri=None, drift=DriftSpec())
    with pytest.raises(MonitoringArgsError) as error:
        Monitoring("mon", monitoring_args(endpoints=(bare,), monitor_instance_type="ml.nope"))
    assert len(error.value.problems) == 3
