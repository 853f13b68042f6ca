"""`mlops:aws:ModelEndpoint`: one service on SageMaker, with blue/green slots and guarded rollouts.

Creates an execution role (least privilege), a SageMaker Model per deployed slot, an endpoint
configuration whose production variants are named `blue` / `green` with the slots' weights (name
versioned by content, so any change is a SageMaker blue/green update), rollback alarms, the endpoint
with its blue/green update policy and auto-rollback, and autoscaling per variant.
See docs/composing.md for the args/outputs tables and docs/sagemaker-serving.md for how canaries run and roll back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws import sagemaker_iam
from components.aws.endpoint_alarms import AlarmSpec, create_alarm, error_rate_alarm, latency_alarm, on_fleet
from components.aws.endpoint_autoscaling import AutoscalingArgs, autoscaling_problems, scale_variants
from components.aws.endpoint_rollout import DeploymentPlan, deployment_plan, rollout_problems
from components.aws.endpoint_variants import (
    Variant,
    config_content,
    deployed_variants,
    sagemaker_slot_problems,
    volume_kms_supported,
)
from components.aws.iam import assume_role_policy, policy_document
from components.aws.naming import check_aws_name
from components.monitoring import AlertThresholds
from components.naming import Namer
from components.serving import RolloutSpec, SlotSpec, slot_problems

sm = aws.sagemaker


@dataclass(frozen=True)
class VpcArgs:
    """Run the endpoint's or job's instances in these private subnets."""

    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class DataCaptureArgs:
    """Request/response capture to S3 (input and output, JSON), encrypted with the stack key."""

    bucket_name: pulumi.Input[str]
    """Artifact bucket receiving the captures."""
    prefix: str | None = None
    """Key prefix; default `data-capture/<service>`."""
    sampling_percent: int | None = None
    """Share of requests captured; default 100 in dev, 20 elsewhere."""


@dataclass(frozen=True)
class ModelEndpointArgs:
    """What one service's SageMaker endpoint needs. Defaults are the secure, dev-sized choice."""

    service: str
    """Service name (lowercase, hyphens); physical names derive from it through `namer`."""
    namer: Namer
    slots: Mapping[str, SlotSpec]
    """Exactly `blue` and `green`; `model_uri` is the `s3://` URL of the slot's model.tar.gz."""
    bucket_arn: pulumi.Input[str]
    """Artifact bucket: the role reads `<model_prefix>/*` and writes the capture prefix in it."""
    model_prefix: str
    """Key prefix of this service's models, e.g. `models/fraud` (IAM read scope)."""
    ecr_repository_arn: pulumi.Input[str]
    """The service's ECR repository (IAM pull scope)."""
    kms_key_arn: pulumi.Input[str]
    """Stack key: data capture and (where the instance type allows) ML storage volumes."""
    data_capture: DataCaptureArgs
    live: str = "blue"
    """The slot carrying production traffic (always deployed)."""
    keep_warm: bool = False
    """A weight-0 slot keeps its instance count (instant cut-over; costs its instances) instead of idling on one."""
    autoscaling: AutoscalingArgs = field(default_factory=AutoscalingArgs)
    rollout: RolloutSpec = field(default_factory=RolloutSpec)
    rollback_alarms: AlertThresholds = field(default_factory=AlertThresholds)
    """Error rate and p99 latency above which a variant's alarm rolls a deployment back."""
    extra_rollback_alarm_names: tuple[str, ...] = ()
    """Existing alarms that also roll deployments back (SageMaker allows 10 in all)."""
    alarm_topic_arn: pulumi.Input[str] | None = None
    """SNS topic notified when a rollback alarm changes state (e.g. Monitoring's topic)."""
    vpc: VpcArgs | None = None
    container_environment: Mapping[str, str] = field(default_factory=dict)
    """Extra container environment (MODEL_VERSION and log levels are set for you)."""
    container_log_level: int = 20
    """SAGEMAKER_CONTAINER_LOG_LEVEL (Python logging level: 10 debug .. 40 error)."""
    metrics_namespace: str = "MLOps/ModelServer"
    """The only CloudWatch namespace the container may publish to (granted only with allow_network_access:
    an isolated container cannot reach CloudWatch)."""
    region: str | None = None
    """Default: the provider's region."""
    account_id: str | None = None
    """AWS account of the stack (IAM conditions and ARNs). Default: asked of the provider (a blocking invoke)."""
    environment: str | None = None
    """Per-environment defaults (capture sampling); default `namer.environment`."""
    allow_network_access: bool = False
    """Containers run with network isolation unless this is set."""
    protect: bool = False
    """Protect the endpoint (prod): a change that would replace it (e.g. the rollback alarms, which the
    provider forces new) fails instead of deleting the serving endpoint first."""
    tags: Mapping[str, str] = field(default_factory=dict)


class ModelEndpointArgsError(ValueError):
    """The args cannot make a working endpoint; `problems` has one line each."""

    def __init__(self, service: str, problems: list[str]):
        self.service = service
        self.problems = problems
        super().__init__(f"ModelEndpoint {service!r}:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Resolved:
    """Names and defaults resolved from the args in one place."""

    environment: str
    variants: tuple[Variant, ...]
    endpoint_name: str
    role_name: str
    capture_prefix: str
    sampling_percent: int
    plan: DeploymentPlan
    rollback_alarms: tuple[AlarmSpec, ...]
    volume_kms: bool


def resolve(args: ModelEndpointArgs) -> Resolved:
    """Validate `args` (all problems at once) and resolve defaults and names. Raises ModelEndpointArgsError."""
    variants = deployed_variants(args.slots, args.live, args.keep_warm)
    problems = slot_problems(args.slots, args.live, max(args.autoscaling.max_instances, 1))
    problems += sagemaker_slot_problems(args.slots)
    problems += rollout_problems(args.rollout, variants) + autoscaling_problems(args.autoscaling, variants)
    environment = args.environment or args.namer.environment
    endpoint_name = args.namer.name(args.service)
    prefix = (args.data_capture.prefix or f"data-capture/{args.service}").strip("/")
    sampling = args.data_capture.sampling_percent
    sampling = sampling if sampling is not None else (100 if environment == "dev" else 20)
    if not 0 <= sampling <= 100:
        problems.append(f"data_capture.sampling_percent: {sampling} must be 0..100")
    alarms: list[AlarmSpec] = []
    if args.rollout.auto_rollback:
        for v in variants:
            five_xx, p99 = f"{v.name}-5xx-rollback", f"{v.name}-p99-rollback"
            alarms.append(error_rate_alarm(five_xx, args.namer.name(args.service, five_xx), endpoint_name, v.name,
                                           status="5XX", threshold_percent=args.rollback_alarms.error_rate_percent))
            alarms.append(latency_alarm(p99, args.namer.name(args.service, p99), endpoint_name, v.name,
                                        p99_ms=args.rollback_alarms.p99_latency_ms))
        if len(alarms) + len(args.extra_rollback_alarm_names) > 10:
            problems.append("rollback alarms: SageMaker accepts at most 10 (AutoRollbackConfig.Alarms)")
    names = [("sagemaker-endpoint", endpoint_name), ("iam-role", args.namer.name(args.service, "sagemaker", limit=64)),
             ("sagemaker-endpoint-config", args.namer.versioned(args.service, content="")),
             *(("sagemaker-model", args.namer.versioned(args.service, v.name, content="")) for v in variants),
             *(("sagemaker-variant", v.name) for v in variants), *(("cloudwatch-alarm", a.name) for a in alarms)]
    problems += [p for kind, value in names if (p := check_aws_name(kind, value))]
    if problems:
        raise ModelEndpointArgsError(args.service, problems)
    return Resolved(environment, variants, endpoint_name, args.namer.name(args.service, "sagemaker", limit=64),
                    prefix, sampling, deployment_plan(args.rollout), tuple(alarms),
                    all(volume_kms_supported(v.instance_type) for v in variants))


def invoke_url(region: str, endpoint_name: str) -> str:
    return f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint_name}/invocations"


def deployment_config(plan: DeploymentPlan, alarm_names: Sequence[str]) -> sm.EndpointDeploymentConfigArgs:
    """The endpoint's `deployment_config` for a resolved plan and its rollback alarms."""
    routing = sm.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(
        type=plan.routing_type,
        wait_interval_in_seconds=plan.wait_seconds,
        canary_size=sm.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
            type="CAPACITY_PERCENT", value=plan.canary_percent) if plan.canary_percent else None,
        linear_step_size=sm.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationLinearStepSizeArgs(
            type="CAPACITY_PERCENT", value=plan.step_percent) if plan.step_percent else None,
    )
    rollback = sm.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
        alarms=[sm.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=n) for n in alarm_names],
    ) if alarm_names else None
    return sm.EndpointDeploymentConfigArgs(
        blue_green_update_policy=sm.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
            traffic_routing_configuration=routing,
            termination_wait_in_seconds=plan.termination_wait_seconds,
            maximum_execution_timeout_in_seconds=plan.maximum_execution_timeout_seconds,
        ),
        auto_rollback_configuration=rollback,
    )


class ModelEndpoint(pulumi.ComponentResource):
    """A service's SageMaker endpoint with `blue`/`green` production variants."""

    endpoint_name: pulumi.Output[str]
    endpoint_arn: pulumi.Output[str]
    endpoint_config_name: pulumi.Output[str]
    invoke_url: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    data_capture_uri: pulumi.Output[str]
    variant_weights: dict[str, int]
    rollback_alarm_names: list[str]

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:ModelEndpoint", name, None, opts)
        r = resolve(args)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "service": args.service}
        scope = sagemaker_iam.resolve_scope(args.region, args.account_id, self)
        region = scope.region
        vpc = (args.vpc.subnet_ids, args.vpc.security_group_ids) if args.vpc else None

        role = aws.iam.Role(f"{name}-role", name=r.role_name, tags=tags, opts=child,
                            description=f"SageMaker execution role of endpoint {r.endpoint_name}",
                            assume_role_policy=assume_role_policy("sagemaker.amazonaws.com",
                                                                  sagemaker_iam.sagemaker_trust_conditions(scope)))
        policy = aws.iam.RolePolicy(f"{name}-role-policy", role=role.id, opts=child, policy=policy_document(
            sagemaker_iam.endpoint_statements(
                scope=scope, bucket_arn=args.bucket_arn, model_prefix=args.model_prefix,
                capture_prefix=r.capture_prefix, repository_arn=args.ecr_repository_arn,
                kms_key_arn=args.kms_key_arn, endpoint_name=r.endpoint_name,
                metrics_namespace=args.metrics_namespace, vpc=vpc, publish_metrics=args.allow_network_access,
                rollback_alarm_names=[a.name for a in r.rollback_alarms] + list(args.extra_rollback_alarm_names),
                volume_kms=r.volume_kms)))

        models = {v.name: self._model(name, args, v.name, role, policy, tags) for v in r.variants}
        capture_uri = pulumi.Output.concat("s3://", args.data_capture.bucket_name, "/", r.capture_prefix)
        volume_key = args.kms_key_arn if r.volume_kms else None
        if not r.volume_kms:
            pulumi.log.info(f"{args.service}: instance storage is NVMe (hardware-encrypted); no volume KMS key",
                            resource=self)
        config_name = pulumi.Output.all(*(m.name for m in models.values()), capture_uri, args.kms_key_arn).apply(
            lambda vals: args.namer.versioned(args.service, content=config_content(
                r.variants, dict(zip(models, vals[: len(models)], strict=True)),
                {"capture": {"uri": vals[-2], "kms": vals[-1], "sampling": r.sampling_percent},
                 "volume_kms": vals[-1] if r.volume_kms else None})))
        config = sm.EndpointConfiguration(
            f"{name}-config", name=config_name, kms_key_arn=volume_key, tags=tags,
            production_variants=[sm.EndpointConfigurationProductionVariantArgs(
                variant_name=v.name, model_name=models[v.name].name, instance_type=v.instance_type,
                initial_instance_count=v.instance_count, initial_variant_weight=float(v.weight),
            ) for v in r.variants],
            data_capture_config=sm.EndpointConfigurationDataCaptureConfigArgs(
                enable_capture=True, initial_sampling_percentage=r.sampling_percent, destination_s3_uri=capture_uri,
                kms_key_id=args.kms_key_arn,
                capture_options=[sm.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode=m)
                                 for m in ("Input", "Output")],
                capture_content_type_header=sm.EndpointConfigurationDataCaptureConfigCaptureContentTypeHeaderArgs(
                    json_content_types=["application/json"]),
            ),
            # A new name per content: Pulumi creates the new config before the endpoint moves to it. The old one
            # is retained, not deleted: after a silent rollback the endpoint still runs it (PR #49020).
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False, retain_on_delete=True),
        )

        actions = [args.alarm_topic_arn] if args.alarm_topic_arn is not None else []
        # On the new fleet only: the alarm follows the (content-named) configuration the update deploys.
        alarms = [create_alarm(f"{name}-{a.key}", on_fleet(a, config.name), actions=actions, tags=tags, opts=child)
                  for a in r.rollback_alarms]
        alarm_names = [a.name for a in r.rollback_alarms] + list(args.extra_rollback_alarm_names)
        endpoint = sm.Endpoint(
            f"{name}-endpoint", name=r.endpoint_name, endpoint_config_name=config.name, tags=tags,
            deployment_config=deployment_config(r.plan, alarm_names),
            # The rollback alarms must exist before SageMaker validates the deployment config. No custom
            # timeouts: the provider ignores them and waits 60 min (endpoint_rollout.PROVIDER_WAIT_SECONDS).
            opts=pulumi.ResourceOptions(parent=self, depends_on=alarms, protect=args.protect),
        )
        if args.autoscaling.enabled:
            scale_variants(name, endpoint.name, r.variants, args.autoscaling, tags, self)

        self.endpoint_name = endpoint.name
        self.endpoint_arn = endpoint.arn
        self.endpoint_config_name = config.name
        self.invoke_url = endpoint.name.apply(lambda n: invoke_url(region, n))
        self.role_arn = role.arn
        self.data_capture_uri = capture_uri
        self.variant_weights = {v.name: v.weight for v in r.variants}
        self.rollback_alarm_names = alarm_names
        self.register_outputs({
            "endpoint_name": self.endpoint_name, "endpoint_arn": self.endpoint_arn,
            "endpoint_config_name": self.endpoint_config_name, "invoke_url": self.invoke_url,
            "role_arn": self.role_arn, "data_capture_uri": self.data_capture_uri,
            "variant_weights": self.variant_weights, "rollback_alarm_names": self.rollback_alarm_names,
        })

    def _model(self, name: str, args: ModelEndpointArgs, slot_name: str, role: aws.iam.Role,
               policy: aws.iam.RolePolicy, tags: dict[str, str]) -> sm.Model:
        slot = args.slots[slot_name]
        env = {"MODEL_VERSION": slot.model_version, "SERVICE_NAME": args.service,
               "SAGEMAKER_CONTAINER_LOG_LEVEL": str(args.container_log_level), **args.container_environment}
        isolated = not args.allow_network_access
        model_name = pulumi.Output.all(slot.image, slot.model_uri).apply(
            lambda v: args.namer.versioned(args.service, slot_name, content=json.dumps(
                {"image": v[0], "data": v[1], "env": env, "isolated": isolated, "vpc": args.vpc is not None},
                sort_keys=True)))
        vpc = sm.ModelVpcConfigArgs(subnets=list(args.vpc.subnet_ids),
                                    security_group_ids=list(args.vpc.security_group_ids)) if args.vpc else None
        return sm.Model(
            f"{name}-{slot_name}-model", name=model_name, execution_role_arn=role.arn,
            primary_container=sm.ModelPrimaryContainerArgs(image=slot.image, model_data_url=slot.model_uri,
                                                           environment=env, mode="SingleModel"),
            enable_network_isolation=isolated, vpc_config=vpc, tags={**tags, "slot": slot_name},
            # CreateModel checks the role can pull the image and read the model: permissions first. Retained
            # like the configuration: a rolled-back endpoint's configuration still names the old model.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy], delete_before_replace=False,
                                        retain_on_delete=True),
        )
