"""`VertexModelMonitor`: Vertex AI Model Monitoring (drift) on an endpoint's deployed models, at the stack's PSI.

The stack's drift threshold is a PSI (components/monitoring.py). Vertex AI measures drift of a numerical
feature as the Jensen-Shannon divergence between the distributions of two windows
(cloud.google.com/vertex-ai/docs/model-monitoring/overview#calculating-skew-and-drift), so the threshold is
converted explicitly through the shared reference model (a unit normal feature whose mean moves by `shift`
standard deviations): `js_threshold_for_psi(psi)` is the JS divergence (base 2, between 0 and 1) at the shift
where PSI reaches `psi`. Under that model both alarms fire on the same drift. Vertex's pages bound the
divergence by 1 without naming the logarithm's base; base 2 is assumed here (with natural logs the same drift
reads ln 2 times lower: 0.0256 instead of 0.0369 for PSI 0.2). Vertex also bins feature values its own way;
the reference model uses the continuous distributions.

The provider has no resource for a monitoring job, so this is a dynamic resource on `google-cloud-aiplatform`'s
JobService: create, update (objective configs follow the deployed model ids, which change whenever a slot is
redeployed; thresholds, schedule, sampling, alert recipients), delete and read. When drift is found Vertex
e-mails the stack's alert addresses and notifies its Cloud Monitoring channels (the alert).
A job is replaced delete-first, so two jobs never watch one endpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from components.monitoring import SCHEDULE_SECONDS, mean_shift_for_psi

OPERATION_TIMEOUT_S = 600
IDENTITY = ("project", "region", "endpoint")
_NORMAL = NormalDist()


def js_divergence_of_mean_shift(shift: float, steps: int = 4000) -> float:
    """Jensen-Shannon divergence (base 2) of two unit normals `shift` apart (Simpson's rule)."""
    low, high = min(0.0, shift) - 12, max(0.0, shift) + 12
    width = (high - low) / steps

    def integrand(x: float) -> float:
        p, q = _NORMAL.pdf(x), _NORMAL.pdf(x - shift)
        m = (p + q) / 2
        return sum(v * math.log2(v / m) for v in (p, q) if v > 0) / 2

    total = integrand(low) + integrand(high)
    total += sum((4 if i % 2 else 2) * integrand(low + i * width) for i in range(1, steps))
    return total * width / 3


def js_threshold_for_psi(psi: float) -> float:
    """The Vertex AI drift threshold (JS divergence) equivalent to a PSI threshold, rounded to 4 places."""
    return round(js_divergence_of_mean_shift(mean_shift_for_psi(psi)), 4)


def job_clients(region: str) -> Any:
    from google.cloud import aiplatform_v1

    return aiplatform_v1.JobServiceClient(client_options={"api_endpoint": f"{region}-aiplatform.googleapis.com"})


def _job(props: Mapping[str, Any]) -> Any:
    from google.cloud.aiplatform_v1 import types
    from google.protobuf import duration_pb2

    drift = types.ModelMonitoringObjectiveConfig.PredictionDriftDetectionConfig(drift_thresholds={
        feature: types.ThresholdConfig(value=float(value)) for feature, value in sorted(props["thresholds"].items())})
    objective = types.ModelMonitoringObjectiveConfig(prediction_drift_detection_config=drift)
    return types.ModelDeploymentMonitoringJob(
        display_name=props["displayName"], endpoint=props["endpoint"], labels=dict(props.get("labels") or {}),
        model_deployment_monitoring_objective_configs=[
            types.ModelDeploymentMonitoringObjectiveConfig(deployed_model_id=model_id, objective_config=objective)
            for _, model_id in sorted(props["deployedModelIds"].items())],
        model_deployment_monitoring_schedule_config=types.ModelDeploymentMonitoringScheduleConfig(
            monitor_interval=duration_pb2.Duration(seconds=int(props["intervalSeconds"]))),
        logging_sampling_strategy=types.SamplingStrategy(random_sample_config=types.SamplingStrategy.RandomSampleConfig(
            sample_rate=float(props["sampleRate"]))),
        model_monitoring_alert_config=types.ModelMonitoringAlertConfig(
            email_alert_config=types.ModelMonitoringAlertConfig.EmailAlertConfig(user_emails=list(props["emails"])),
            notification_channels=list(props["notificationChannels"]), enable_logging=True),
        encryption_spec=types.EncryptionSpec(kms_key_name=props["encryptionKey"]) if props.get("encryptionKey")
        else None)


UPDATABLE = ("model_deployment_monitoring_objective_configs", "model_deployment_monitoring_schedule_config",
             "logging_sampling_strategy", "model_monitoring_alert_config", "labels", "display_name")
_COMPARED = ("thresholds", "deployedModelIds", "intervalSeconds", "sampleRate", "emails", "notificationChannels",
             "labels", "displayName", "encryptionKey")


class MonitorProvider(dyn.ResourceProvider):
    def __init__(self, clients: Callable[[str], Any] = job_clients):
        super().__init__()
        self._clients = clients

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        replaces = [key for key in (*IDENTITY, "encryptionKey") if olds.get(key) != news.get(key)]
        changed = [key for key in _COMPARED if olds.get(key) != news.get(key)]
        return dyn.DiffResult(changes=bool(replaces or changed), replaces=replaces, stables=[],
                              delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        parent = f"projects/{props['project']}/locations/{props['region']}"
        job = self._clients(props["region"]).create_model_deployment_monitoring_job(
            parent=parent, model_deployment_monitoring_job=_job(props))
        return dyn.CreateResult(job.name, {**props, "jobName": job.name})

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        from google.protobuf import field_mask_pb2

        job = _job(news)
        job.name = id_
        self._clients(news["region"]).update_model_deployment_monitoring_job(
            model_deployment_monitoring_job=job, update_mask=field_mask_pb2.FieldMask(paths=list(UPDATABLE))
        ).result(timeout=OPERATION_TIMEOUT_S)
        return dyn.UpdateResult({**news, "jobName": id_})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from google.api_core.exceptions import NotFound

        try:
            self._clients(props["region"]).delete_model_deployment_monitoring_job(name=id_).result(
                timeout=OPERATION_TIMEOUT_S)
        except NotFound:
            return

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        from google.api_core.exceptions import NotFound

        try:
            job = self._clients(props["region"]).get_model_deployment_monitoring_job(name=id_)
        except NotFound:
            return dyn.ReadResult("", {})
        ids = {c.deployed_model_id for c in job.model_deployment_monitoring_objective_configs}
        watched = {slot: model for slot, model in props["deployedModelIds"].items() if model in ids}
        return dyn.ReadResult(id_, {**props, "deployedModelIds": watched,
                                    "emails": list(job.model_monitoring_alert_config.email_alert_config.user_emails),
                                    "intervalSeconds": int(job.model_deployment_monitoring_schedule_config
                                                           .monitor_interval.total_seconds())})


@dataclass(frozen=True)
class VertexModelMonitorArgs:
    project: str
    region: str
    endpoint: pulumi.Input[str]
    display_name: str
    deployed_model_ids: pulumi.Input[Mapping[str, str]]
    """Slot -> deployed model id (`VertexDeployment.deployedModelIds`)."""
    features: Sequence[str]
    threshold_psi: float
    schedule: str
    """hourly / daily (components.monitoring.SCHEDULE_SECONDS)."""
    sample_rate: float
    emails: Sequence[str]
    notification_channels: Sequence[pulumi.Input[str]]
    encryption_key: pulumi.Input[str] | None = None
    labels: Mapping[str, str] | None = None


class VertexModelMonitor(dyn.Resource, module="vertex", name="VertexModelMonitor"):
    """A Vertex AI model deployment monitoring job (`pulumi-python:dynamic/vertex:VertexModelMonitor`)."""

    jobName: pulumi.Output[str]

    def __init__(self, name: str, args: VertexModelMonitorArgs, opts: pulumi.ResourceOptions | None = None,
                 provider: MonitorProvider | None = None):
        threshold = js_threshold_for_psi(args.threshold_psi)
        props = {"project": args.project, "region": args.region, "endpoint": args.endpoint,
                 "displayName": args.display_name, "deployedModelIds": args.deployed_model_ids,
                 "thresholds": {feature: threshold for feature in args.features},
                 "intervalSeconds": SCHEDULE_SECONDS[args.schedule], "sampleRate": args.sample_rate,
                 "emails": list(args.emails), "notificationChannels": list(args.notification_channels),
                 "encryptionKey": args.encryption_key or "", "labels": dict(args.labels or {}), "jobName": None}
        super().__init__(provider or MonitorProvider(), name, props, opts)
