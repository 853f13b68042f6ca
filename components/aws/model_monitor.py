"""SageMaker Model Monitor (data quality) for one endpoint, and the alarm on its drift metrics.

Facts this module relies on (SageMaker developer guide, Model Monitor):
- The analyzer is AWS's prebuilt `sagemaker-model-monitor-analyzer` image, hosted in a per-region
  AWS account (`ANALYZER_ACCOUNTS`, from the SageMaker Python SDK's image_uri_config/model-monitor.json).
- With `emit_metrics: Enabled` in the baseline constraints (the trainer's constraints.json sets it),
  each run publishes, per feature, `feature_baseline_drift_<feature>` in namespace
  `aws/sagemaker/Endpoints/data-metrics` with dimensions `Endpoint` and `MonitoringSchedule`. For a
  numerical feature that value is a distance, "the maximum absolute difference between the cumulative
  distribution functions of two distributions" (constraints.json schema, `comparison_threshold` and
  `comparison_method` linf_simple / linf_robust; Deequ's KLL `numericalDistance`): the Kolmogorov-Smirnov
  distance between captured and baseline data, not a PSI. The platform's drift threshold is a PSI
  (components/monitoring.py), so `ks_distance_for_psi` converts it explicitly before it becomes the
  alarm threshold. The drift alarm takes the MAX over the listed features by metric math; there is no
  feature-independent drift metric, so features must be listed.
- AWS has closed Model Monitor to new customers (existing accounts keep it); `model_monitor=False`
  on an endpoint skips it (the drift-monitor service covers drift then).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.endpoint_alarms import AlarmSpec, MetricQuery
from components.aws.endpoint_variants import volume_kms_supported
from components.monitoring import SCHEDULE_SECONDS, ks_distance_of_mean_shift, mean_shift_for_psi

sm = aws.sagemaker

DRIFT_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
SCHEDULES = {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}
MAX_RUNTIME_SECONDS = 3600  # a scheduled monitoring job must finish within the hour
METRICS_PER_ALARM = 9  # metric math alarms take 10 queries: 9 features + the MAX expression

ANALYZER_ACCOUNTS: dict[str, str] = {
    "us-east-1": "156813124566", "us-east-2": "777275614652", "us-west-1": "890145073186",
    "us-west-2": "159807026194", "ca-central-1": "536280801234", "sa-east-1": "539772159869",
    "eu-west-1": "468650794304", "eu-west-2": "749857270468", "eu-west-3": "680080141114",
    "eu-central-1": "048819808253", "eu-north-1": "895015795356", "me-south-1": "607024016150",
    "ap-south-1": "126357580389", "ap-east-1": "001633400207", "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524", "ap-southeast-1": "245545462676", "ap-southeast-2": "563025443158",
    "cn-north-1": "453000072557", "cn-northwest-1": "453252182341",
}


def analyzer_image_uri(region: str) -> str:
    """The Model Monitor analyzer image of `region`; ValueError naming the known regions otherwise."""
    if region not in ANALYZER_ACCOUNTS:
        raise ValueError(f"no Model Monitor analyzer image known for region {region!r}; known: "
                         f"{', '.join(sorted(ANALYZER_ACCOUNTS))} (add the account from the SageMaker docs' "
                         "Docker registry paths, or disable model_monitor for this stack)")
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"{ANALYZER_ACCOUNTS[region]}.dkr.ecr.{region}.amazonaws.com{suffix}/sagemaker-model-monitor-analyzer"


def ks_distance_for_psi(psi: float) -> float:
    """The Model Monitor drift distance (KS) that means the same drift as PSI `psi`, to 4 decimals.

    Both are measured on the shared reference model (components/monitoring.py): a feature whose mean moves
    by the shift at which PSI reaches `psi`; its KS distance at that shift is the threshold. PSI 0.1 ->
    0.1285, 0.2 -> 0.1812, 0.25 -> 0.2024.
    """
    return round(ks_distance_of_mean_shift(mean_shift_for_psi(psi)), 4)


def drift_alarm_specs(*, key: str, name: str, endpoint_name: pulumi.Input[str], schedule_name: pulumi.Input[str],
                      features: Sequence[str], frequency: str, threshold_psi: float) -> list[AlarmSpec]:
    """Alarms firing when any listed feature drifts beyond PSI `threshold_psi` (9 features per alarm)."""
    dims = {"Endpoint": endpoint_name, "MonitoringSchedule": schedule_name}
    distance = ks_distance_for_psi(threshold_psi)
    chunks = [features[i: i + METRICS_PER_ALARM] for i in range(0, len(features), METRICS_PER_ALARM)]
    specs = []
    for n, chunk in enumerate(chunks, start=1):
        suffix = f"-{n}" if len(chunks) > 1 else ""
        queries = tuple(MetricQuery(f"f{i}", f"feature_baseline_drift_{f}", DRIFT_NAMESPACE, "Maximum", dims)
                        for i, f in enumerate(chunk))
        specs.append(AlarmSpec(
            key=f"{key}{suffix}", name=f"{name}{suffix}", threshold=distance,
            description=f"Model Monitor: baseline drift (KS distance) above {distance}, i.e. PSI {threshold_psi}, "
                        f"on any of {', '.join(chunk)}",
            period=SCHEDULE_SECONDS[frequency], evaluation_periods=1, datapoints_to_alarm=1,
            # Between runs there is no data; only a run that measures drift may alarm.
            treat_missing_data="notBreaching",
            queries=(*queries, MetricQuery("drift", expression=f"MAX([{', '.join(q.id for q in queries)}])",
                                           label="max feature drift", return_data=True)),
        ))
    return specs


def job_definition_content(**fields: Any) -> str:
    """Canonical JSON of a job definition's inputs (its name hashes it: job definitions are immutable)."""
    return json.dumps(fields, sort_keys=True, default=str)


def data_quality_monitor(name: str, *, job_definition_name: pulumi.Input[str], schedule_name: str,
                         endpoint_name: pulumi.Input[str], image_uri: str, role_arn: pulumi.Input[str],
                         statistics_uri: pulumi.Input[str], constraints_uri: pulumi.Input[str],
                         output_uri: pulumi.Input[str], kms_key_arn: pulumi.Input[str], instance_type: str,
                         max_runtime_seconds: int, frequency: str, vpc: tuple[Sequence[Any], Sequence[Any]] | None,
                         tags: dict[str, str], opts: pulumi.ResourceOptions) -> sm.MonitoringSchedule:
    """A data-quality job definition reading the endpoint's capture, and its schedule."""
    network = sm.DataQualityJobDefinitionNetworkConfigArgs(
        enable_network_isolation=True, enable_inter_container_traffic_encryption=True,
        vpc_config=sm.DataQualityJobDefinitionNetworkConfigVpcConfigArgs(
            subnets=list(vpc[0]), security_group_ids=list(vpc[1])) if vpc else None)
    job = sm.DataQualityJobDefinition(
        f"{name}-data-quality-job", name=job_definition_name, role_arn=role_arn, tags=tags,
        data_quality_app_specification=sm.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
            image_uri=image_uri, environment={"publish_cloudwatch_metrics": "Enabled"}),
        data_quality_baseline_config=sm.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
            statistics_resource=sm.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(
                s3_uri=statistics_uri),
            constraints_resource=sm.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(
                s3_uri=constraints_uri)),
        data_quality_job_input=sm.DataQualityJobDefinitionDataQualityJobInputArgs(
            endpoint_input=sm.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                endpoint_name=endpoint_name, local_path="/opt/ml/processing/input/endpoint",
                s3_data_distribution_type="FullyReplicated", s3_input_mode="File")),
        data_quality_job_output_config=sm.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
            kms_key_id=kms_key_arn,
            monitoring_outputs=sm.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                s3_output=sm.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                    s3_uri=output_uri, local_path="/opt/ml/processing/output", s3_upload_mode="EndOfJob"))),
        job_resources=sm.DataQualityJobDefinitionJobResourcesArgs(
            cluster_config=sm.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                instance_count=1, instance_type=instance_type, volume_size_in_gb=20,
                volume_kms_key_id=kms_key_arn if volume_kms_supported(instance_type) else None)),
        network_config=network,
        stopping_condition=sm.DataQualityJobDefinitionStoppingConditionArgs(max_runtime_in_seconds=max_runtime_seconds),
        # A new name per content: the schedule moves to the new definition before the old one goes.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=False)),
    )
    return sm.MonitoringSchedule(
        f"{name}-data-quality-schedule", name=schedule_name, tags=tags, opts=opts,
        monitoring_schedule_config=sm.MonitoringScheduleMonitoringScheduleConfigArgs(
            monitoring_type="DataQuality", monitoring_job_definition_name=job.name,
            schedule_config=sm.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(
                schedule_expression=SCHEDULES[frequency])),
    )
