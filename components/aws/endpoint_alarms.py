"""CloudWatch alarms on SageMaker endpoint metrics, specified as data and created from the specs.

The spec builders are pure (unit-tested on their own); `create_alarm` is the one place that turns a
spec into an `aws.cloudwatch.MetricAlarm`. Units and sources:
- `Invocations`, `Invocation4XXErrors`, `Invocation5XXErrors`, `ModelLatency` (microseconds!) live in
  namespace `AWS/SageMaker`; `CPUUtilization` (sum over cores: 0..100 x vCPUs), `GPUUtilization`
  (0..100 x GPUs) and `DiskUtilization` (percent) in `/aws/sagemaker/Endpoints`; all with dimensions
  EndpointName + VariantName.
- Error *rates* are metric math (errors / invocations), so a busy endpoint and a quiet one share a
  threshold. With no traffic the expression has no data: treated as not breaching (no errors).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws

INVOCATION_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
MICROSECONDS_PER_MS = 1000


@dataclass(frozen=True)
class MetricQuery:
    """One entry of an alarm's metric math: a metric (`metric_name` set) or an expression."""

    id: str
    metric_name: str | None = None
    namespace: str | None = None
    stat: str | None = None
    dimensions: dict[str, Any] = field(default_factory=dict)
    expression: str | None = None
    label: str | None = None
    return_data: bool = False


@dataclass(frozen=True)
class AlarmSpec:
    """Everything an alarm needs except where it sends notifications."""

    key: str
    """Suffix of the Pulumi resource name (unique within the component)."""
    name: str
    """Physical alarm name."""
    description: str
    threshold: float
    comparison: str = "GreaterThanThreshold"
    period: int = 60
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2
    treat_missing_data: str = "notBreaching"
    metric_name: str | None = None
    namespace: str | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    dimensions: dict[str, Any] = field(default_factory=dict)
    queries: tuple[MetricQuery, ...] = ()


def variant_dimensions(endpoint_name: pulumi.Input[str], variant: str) -> dict[str, Any]:
    return {"EndpointName": endpoint_name, "VariantName": variant}


def error_rate_alarm(key: str, name: str, endpoint_name: pulumi.Input[str], variant: str, *, status: str,
                     threshold_percent: float, period: int = 60, evaluation_periods: int = 3,
                     datapoints_to_alarm: int = 2) -> AlarmSpec:
    """`status` (4XX or 5XX) errors as a percentage of invocations of one variant."""
    dims = variant_dimensions(endpoint_name, variant)
    return AlarmSpec(
        key=key, name=name, threshold=threshold_percent, period=period, evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        description=f"{status} errors above {threshold_percent}% of invocations on variant {variant}",
        queries=(
            MetricQuery("errors", f"Invocation{status}Errors", INVOCATION_NAMESPACE, "Sum", dims),
            MetricQuery("invocations", "Invocations", INVOCATION_NAMESPACE, "Sum", dims),
            MetricQuery("rate", expression="100 * FILL(errors, 0) / invocations", label=f"{status} rate (%)",
                        return_data=True),
        ),
    )


def latency_alarm(key: str, name: str, endpoint_name: pulumi.Input[str], variant: str, *, p99_ms: float,
                  period: int = 60, evaluation_periods: int = 3, datapoints_to_alarm: int = 2) -> AlarmSpec:
    """p99 ModelLatency of one variant above `p99_ms` (CloudWatch reports it in microseconds)."""
    return AlarmSpec(
        key=key, name=name, threshold=p99_ms * MICROSECONDS_PER_MS, period=period,
        evaluation_periods=evaluation_periods, datapoints_to_alarm=datapoints_to_alarm,
        description=f"p99 model latency above {p99_ms} ms on variant {variant}",
        metric_name="ModelLatency", namespace=INVOCATION_NAMESPACE, extended_statistic="p99",
        dimensions=variant_dimensions(endpoint_name, variant),
    )


def utilization_alarm(key: str, name: str, endpoint_name: pulumi.Input[str], variant: str, *, metric: str,
                      threshold_percent: float, units: int = 1) -> AlarmSpec:
    """Average instance utilization of one variant above `threshold_percent` per unit (core/GPU).

    CloudWatch sums CPU/GPU utilization over the instance's cores/GPUs, so the threshold scales with
    `units`. Missing data keeps the state: an endpoint that stops reporting is not declared healthy.
    """
    return AlarmSpec(
        key=key, name=name, threshold=threshold_percent * units, period=300, evaluation_periods=3,
        datapoints_to_alarm=3, treat_missing_data="missing",
        description=f"{metric} above {threshold_percent}% (x{units}) on variant {variant} for 15 minutes",
        metric_name=metric, namespace=INSTANCE_NAMESPACE, statistic="Average",
        dimensions=variant_dimensions(endpoint_name, variant),
    )


def on_fleet(spec: AlarmSpec, endpoint_config_name: pulumi.Input[str]) -> AlarmSpec:
    """`spec` narrowed to the fleet serving `endpoint_config_name` (dimension EndpointConfigName).

    During a blue/green update SageMaker publishes invocation metrics per endpoint configuration, so an
    alarm on the new configuration sees only the new fleet: a 10% canary failing every request breaches
    it at once, where a variant-wide rate would dilute it ten times. AWS's guardrail examples do this
    ("Monitor invocation errors on the new fleet", docs.aws.amazon.com/sagemaker/latest/dg/deployment-
    guardrails-configuration.html). Config names are content-hashed, so the alarm updates with each.
    """
    def narrowed(dims: dict[str, Any]) -> dict[str, Any]:
        return {**dims, "EndpointConfigName": endpoint_config_name} if dims else dims

    return replace(spec, dimensions=narrowed(spec.dimensions),
                   queries=tuple(replace(q, dimensions=narrowed(q.dimensions)) for q in spec.queries))


def _query_args(q: MetricQuery, period: int) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    metric = None
    if q.metric_name:  # metric math carries the period on each metric, not on the alarm
        metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            metric_name=q.metric_name, namespace=q.namespace, stat=q.stat, period=period, dimensions=q.dimensions)
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(id=q.id, metric=metric, expression=q.expression,
                                                     label=q.label, return_data=q.return_data)


def create_alarm(resource_name: str, spec: AlarmSpec, *, actions: list[pulumi.Input[str]],
                 tags: dict[str, str], opts: pulumi.ResourceOptions) -> aws.cloudwatch.MetricAlarm:
    """The MetricAlarm for `spec`, notifying `actions` on ALARM and OK."""
    queries = [_query_args(q, spec.period) for q in spec.queries]
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=spec.name,
        alarm_description=spec.description,
        comparison_operator=spec.comparison,
        threshold=spec.threshold,
        evaluation_periods=spec.evaluation_periods,
        datapoints_to_alarm=spec.datapoints_to_alarm,
        treat_missing_data=spec.treat_missing_data,
        period=None if queries else spec.period,
        metric_name=spec.metric_name,
        namespace=spec.namespace,
        statistic=spec.statistic,
        extended_statistic=spec.extended_statistic,
        dimensions=spec.dimensions or None,
        metric_queries=queries or None,
        alarm_actions=actions,
        ok_actions=actions,
        tags=tags,
        opts=opts,
    )
