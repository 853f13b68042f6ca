"""`mlops:aws:Monitoring`: alerts, dashboard and Model Monitor for a stack's SageMaker endpoints.

An SNS topic (stack KMS key) with email subscriptions and a policy letting only this account's
CloudWatch alarms publish; per endpoint variant, alarms on 5XX and 4XX rates, p99 model latency,
CPU / GPU / disk utilization; one dashboard (body from `dashboard.dashboard_body`); per endpoint, a
Model Monitor data-quality job + schedule (hourly in prod, daily elsewhere) and a drift alarm.
The KMS key's policy must let `cloudwatch.amazonaws.com` use the key (kms:GenerateDataKey*,
kms:Decrypt), or CloudWatch cannot publish to the encrypted topic.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws import catalog, model_monitor, sagemaker_iam
from components.aws.alert_topic import AlertTopic, AlertTopicArgs
from components.aws.dashboard import DashboardEndpoint, console_url, dashboard_body
from components.aws.endpoint_alarms import AlarmSpec, create_alarm, error_rate_alarm, latency_alarm, utilization_alarm
from components.aws.endpoint_variants import volume_kms_supported
from components.aws.iam import assume_role_policy, policy_document
from components.aws.model_endpoint import VpcArgs
from components.aws.naming import check_aws_name
from components.monitoring import AlertThresholds, DriftSpec, default_drift_schedule
from components.naming import Namer


@dataclass(frozen=True)
class MonitoredVariant:
    name: str
    """Production variant name (`blue` / `green`)."""
    cpus: int = 2
    """vCPUs per instance (CloudWatch's CPUUtilization sums cores, so the alarm threshold scales)."""
    gpus: int = 0
    """GPUs per instance; 0 means no GPU alarm."""


@dataclass(frozen=True)
class MonitoredEndpoint:
    """One endpoint to watch (take the names from ModelEndpoint's outputs)."""

    service: str
    endpoint_name: pulumi.Input[str]
    variants: tuple[MonitoredVariant, ...] = (MonitoredVariant("blue"),)
    model_monitor: bool = True
    """Run a Model Monitor data-quality schedule on the endpoint's data capture."""
    baseline_statistics_uri: pulumi.Input[str] | None = None
    """s3:// URI of the baseline statistics.json (required with model_monitor)."""
    baseline_constraints_uri: pulumi.Input[str] | None = None
    """s3:// URI of the baseline constraints.json (required with model_monitor)."""
    baseline_prefix: str | None = None
    """Key prefix holding the baselines (monitor role read scope); default `models/<service>`."""
    capture_prefix: str | None = None
    """Key prefix of the endpoint's data capture; default `data-capture/<service>` (as ModelEndpoint)."""
    drift: DriftSpec = field(default_factory=DriftSpec)
    """Features whose `feature_baseline_drift_<name>` metric the drift alarm watches, the PSI that counts as
    drift (converted to Model Monitor's KS distance) and the check's schedule (default per environment)."""


@dataclass(frozen=True)
class AlarmThresholds(AlertThresholds):
    """The shared alert thresholds (error rate, p99 latency) plus the SageMaker instance metrics'."""

    client_error_rate_percent: float = 5.0
    cpu_percent: float = 80
    """Per core."""
    gpu_percent: float = 90
    """Per GPU."""
    disk_percent: float = 80


@dataclass(frozen=True)
class MonitoringArgs:
    namer: Namer
    kms_key_arn: pulumi.Input[str]
    """Stack key: encrypts the topic, monitoring reports and monitoring volumes."""
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    endpoints: tuple[MonitoredEndpoint, ...] = ()
    alert_emails: tuple[str, ...] = ()
    """Email subscribers of the topic this component creates (ignored with `topic_arn`)."""
    topic_arn: pulumi.Input[str] | None = None
    """An existing alert topic (e.g. an AlertTopic the endpoints also notify); default: create one."""
    thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)
    monitoring_prefix: str = "monitoring"
    """Reports go to `s3://<bucket>/<prefix>/<service>/data-quality`."""
    monitor_instance_type: str = "ml.m5.xlarge"
    monitor_max_runtime_seconds: int = 1800
    vpc: VpcArgs | None = None
    region: str | None = None
    """Default: the provider's region."""
    account_id: str | None = None
    """AWS account of the stack (IAM conditions and ARNs). Default: asked of the provider (a blocking invoke)."""
    environment: str | None = None
    """Default: `namer.environment`."""
    allow_no_drift_alarm: bool = False
    """Permit model-monitored endpoints without drift features (no drift alarm then)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class MonitoringArgsError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Monitoring:\n  " + "\n  ".join(problems))


@functools.cache
def _processing_instance_types() -> frozenset[str]:
    return catalog.enum("sagemaker", "ProcessingInstanceType")


def endpoint_alarm_specs(args: MonitoringArgs, endpoint: MonitoredEndpoint) -> list[AlarmSpec]:
    """The notification alarms of one endpoint, per variant."""
    t, n, specs = args.thresholds, args.namer, []
    for v in endpoint.variants:
        def named(kind: str, v: MonitoredVariant = v) -> tuple[str, str]:
            return f"{endpoint.service}-{v.name}-{kind}", n.name(endpoint.service, v.name, kind, limit=255)
        ep = endpoint.endpoint_name
        specs += [
            error_rate_alarm(*named("5xx"), ep, v.name, status="5XX", threshold_percent=t.error_rate_percent,
                             period=300),
            error_rate_alarm(*named("4xx"), ep, v.name, status="4XX", threshold_percent=t.client_error_rate_percent,
                             period=300),
            latency_alarm(*named("p99"), ep, v.name, p99_ms=t.p99_latency_ms, period=300),
            utilization_alarm(*named("cpu"), ep, v.name, metric="CPUUtilization", threshold_percent=t.cpu_percent,
                              units=v.cpus),
            utilization_alarm(*named("disk"), ep, v.name, metric="DiskUtilization", threshold_percent=t.disk_percent),
        ]
        if v.gpus:
            specs.append(utilization_alarm(*named("gpu"), ep, v.name, metric="GPUUtilization",
                                           threshold_percent=t.gpu_percent, units=v.gpus))
    return specs


def monitoring_problems(args: MonitoringArgs, region: str) -> list[str]:
    problems, n = [], args.namer
    monitored = [e for e in args.endpoints if e.model_monitor]
    for e in monitored:
        if e.baseline_statistics_uri is None or e.baseline_constraints_uri is None:
            problems.append(f"endpoints.{e.service}: model_monitor needs baseline_statistics_uri and "
                            "baseline_constraints_uri (the trainer writes statistics.json / constraints.json)")
        if not e.drift.features and not args.allow_no_drift_alarm:
            problems.append(f"endpoints.{e.service}: list drift.features (Model Monitor publishes drift per feature, "
                            "feature_baseline_drift_<name>) or set allow_no_drift_alarm")
        problems += [p for p in (check_aws_name("sagemaker-monitoring-schedule", n.name(e.service, "data-quality")),
                                 check_aws_name("sagemaker-job-definition", n.versioned(e.service, "dq", content="")))
                     if p]
    if monitored and region not in model_monitor.ANALYZER_ACCOUNTS:
        problems.append(f"region {region!r}: no Model Monitor analyzer image known (known: "
                        f"{', '.join(sorted(model_monitor.ANALYZER_ACCOUNTS))})")
    if monitored and args.monitor_instance_type not in _processing_instance_types():
        problems.append(f"monitor_instance_type {args.monitor_instance_type!r} is not a SageMaker processing "
                        "instance type (botocore ProcessingInstanceType)")
    if not 1 <= args.monitor_max_runtime_seconds <= model_monitor.MAX_RUNTIME_SECONDS:
        problems.append(f"monitor_max_runtime_seconds must be 1..{model_monitor.MAX_RUNTIME_SECONDS}")
        if e.drift.schedule not in (None, *model_monitor.SCHEDULES):
            problems.append(f"endpoints.{e.service}: drift.schedule: expected hourly or daily, "
                            f"got {e.drift.schedule!r}")
    names = [("cloudwatch-alarm", s.name) for e in args.endpoints for s in endpoint_alarm_specs(args, e)]
    names += [("sns-topic", n.name("alerts")), ("cloudwatch-dashboard", n.name("serving")),
              ("iam-role", n.name("model-monitor", limit=64))]
    return problems + [p for kind, value in names if (p := check_aws_name(kind, value))]


class Monitoring(pulumi.ComponentResource):
    """Alerts, dashboard and drift monitoring of a stack's SageMaker endpoints."""

    topic_arn: pulumi.Output[str]
    dashboard_name: str
    dashboard_url: str
    alarm_names: list[str]
    drift_alarm_names: list[str]
    monitoring_schedule_names: list[str]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:Monitoring", name, None, opts)
        scope = sagemaker_iam.resolve_scope(args.region, args.account_id, self)
        region = scope.region
        problems = monitoring_problems(args, region)
        if problems:
            raise MonitoringArgsError(problems)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        environment = args.environment or args.namer.environment

        topic_arn = args.topic_arn
        if topic_arn is None:
            topic_arn = AlertTopic(f"{name}-alerts", AlertTopicArgs(
                namer=args.namer, kms_key_arn=args.kms_key_arn, alert_emails=args.alert_emails,
                region=scope.region, account_id=scope.account, tags=tags), opts=child).topic_arn
        actions = [topic_arn]

        alarm_names: list[str] = []
        for endpoint in args.endpoints:
            for spec in endpoint_alarm_specs(args, endpoint):
                create_alarm(f"{name}-{spec.key}", spec, actions=actions,
                             tags={**tags, "service": endpoint.service}, opts=child)
                alarm_names.append(spec.name)

        drift_names, schedules = self._model_monitor(name, args, scope, environment, actions, tags)

        dashboard_name = args.namer.name("serving")
        aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=dashboard_name, opts=child,
            dashboard_body=pulumi.Output.all(*(e.endpoint_name for e in args.endpoints)).apply(
                lambda names: dashboard_body(region, [
                    DashboardEndpoint(n, tuple(v.name for v in e.variants), any(v.gpus for v in e.variants))
                    for n, e in zip(names, args.endpoints, strict=True)])))

        self.topic_arn = pulumi.Output.from_input(topic_arn)
        self.dashboard_name = dashboard_name
        self.dashboard_url = console_url(region, dashboard_name)
        self.alarm_names = alarm_names
        self.drift_alarm_names = drift_names
        self.monitoring_schedule_names = schedules
        self.register_outputs({
            "topic_arn": self.topic_arn, "dashboard_name": self.dashboard_name, "dashboard_url": self.dashboard_url,
            "alarm_names": self.alarm_names, "drift_alarm_names": self.drift_alarm_names,
            "monitoring_schedule_names": self.monitoring_schedule_names,
        })

    def _model_monitor(self, name: str, args: MonitoringArgs, scope: sagemaker_iam.Scope, environment: str,
                       actions: list[pulumi.Input[str]], tags: dict[str, str]) -> tuple[list[str], list[str]]:
        monitored = [e for e in args.endpoints if e.model_monitor]
        if not monitored:
            return [], []
        child = pulumi.ResourceOptions(parent=self)
        vpc = (args.vpc.subnet_ids, args.vpc.security_group_ids) if args.vpc else None
        prefix = args.monitoring_prefix.strip("/")
        role = aws.iam.Role(f"{name}-monitor-role", name=args.namer.name("model-monitor", limit=64), tags=tags,
                            opts=child, description="SageMaker Model Monitor jobs (data quality)",
                            assume_role_policy=assume_role_policy("sagemaker.amazonaws.com",
                                                                  sagemaker_iam.sagemaker_trust_conditions(scope)))
        reads = sorted({p for e in monitored for p in (e.capture_prefix or f"data-capture/{e.service}",
                                                        e.baseline_prefix or f"models/{e.service}")})
        policy = aws.iam.RolePolicy(f"{name}-monitor-role-policy", role=role.id, opts=child, policy=policy_document(
            sagemaker_iam.monitor_statements(scope=scope, bucket_arn=args.bucket_arn, read_prefixes=reads,
                                             report_prefix=prefix, kms_key_arn=args.kms_key_arn,
                                             metrics_namespace=model_monitor.DRIFT_NAMESPACE, vpc=vpc,
                                             volume_kms=volume_kms_supported(args.monitor_instance_type))))
        image = model_monitor.analyzer_image_uri(scope.region)
        drift_names, schedule_names = [], []
        for e in monitored:
            frequency = e.drift.schedule or default_drift_schedule(environment)
            schedule_name = args.namer.name(e.service, "data-quality")
            output_uri = pulumi.Output.concat("s3://", args.bucket_name, f"/{prefix}/{e.service}/data-quality")
            inputs = pulumi.Output.all(e.endpoint_name, e.baseline_statistics_uri, e.baseline_constraints_uri,
                                       output_uri, args.kms_key_arn, role.arn)
            job_name = inputs.apply(lambda v, svc=e.service: args.namer.versioned(svc, "dq", content=(
                model_monitor.job_definition_content(inputs=v, image=image, instance=args.monitor_instance_type,
                                                     runtime=args.monitor_max_runtime_seconds, vpc=vpc is not None))))
            schedule = model_monitor.data_quality_monitor(
                f"{name}-{e.service}", job_definition_name=job_name, schedule_name=schedule_name,
                endpoint_name=e.endpoint_name, image_uri=image, role_arn=role.arn,
                statistics_uri=e.baseline_statistics_uri, constraints_uri=e.baseline_constraints_uri,
                output_uri=output_uri, kms_key_arn=args.kms_key_arn, instance_type=args.monitor_instance_type,
                max_runtime_seconds=args.monitor_max_runtime_seconds, frequency=frequency, vpc=vpc,
                tags={**tags, "service": e.service}, opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
            schedule_names.append(schedule_name)
            for spec in model_monitor.drift_alarm_specs(
                    key=f"{e.service}-drift", name=args.namer.name(e.service, "drift", limit=255),
                    endpoint_name=e.endpoint_name, schedule_name=schedule.name, features=e.drift.features,
                    frequency=frequency, threshold_psi=e.drift.threshold_psi):
                create_alarm(f"{name}-{spec.key}", spec, actions=actions, tags={**tags, "service": e.service},
                             opts=child)
                drift_names.append(spec.name)
        return drift_names, schedule_names
