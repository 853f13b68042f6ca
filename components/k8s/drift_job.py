"""`mlops:k8s:DriftCronJob`: the drift monitor as a Kubernetes CronJob per service, on the shared DriftSpec.

The drift-monitor job image (`infra.composition.JOB_IMAGES`, pushed by the target beside the model server's) runs
`services.drift_monitor` on the drift spec's schedule (hourly / daily) with `--since-hours` equal to the schedule's
period, so each run compares the live model's baseline with exactly the predictions captured since the last one
(`data-capture/<service>/kubernetes`, where the service's model servers on the cluster write). It pushes the PSI
per feature to the Pushgateway the monitoring stack runs (components/k8s/observability.py), grouped by
`service=<name>` as components/alert_rules.py's drift rule expects. The pod runs under its own service account,
bound by the target to a cloud identity that may read only the baseline and the capture prefix, with the same
hardened pod spec as the model server's (non-root, read-only root filesystem, no capabilities, RuntimeDefault
seccomp) and a writable `/tmp` for the report. Exit codes (services/drift_monitor/README.md): 0 whether or not drift was
found (`--drift-exit-code 0`: the pushed PSI raises `ModelDrift`, and a pod exiting 3 would also make the Job
failed and fire kube-prometheus-stack's `KubeJobFailed` for every drift), 2 bad input (e.g. no capture in the
window), 1 publishing failed; a Job's failed pod is not retried (`backoffLimit: 0`): the next schedule runs again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.k8s import charts
from components.k8s.names import MONITORING_NAMESPACE
from components.k8s.resources import declare
from components.monitoring import SCHEDULE_SECONDS, DriftSchedule

SERVICE_ACCOUNT = "drift-monitor"
DRIFT_LABEL = "mlops.dev/drift-of"
"""The service a drift check's pods watch."""
USER_ID = 10001
"""The drift-monitor image's non-root user (services/drift_monitor/Dockerfile)."""
PUSHGATEWAY_URL = f"http://{charts.PUSHGATEWAY.release_name}.{MONITORING_NAMESPACE}.svc:9091"
"""The Pushgateway release's Service (chart prometheus-pushgateway: the release name is its fullname)."""
CRON: dict[str, str] = {"hourly": "17 * * * *", "daily": "17 3 * * *"}
"""Off the hour, so the stack's drift checks do not start with every other cluster CronJob at :00."""


def since_hours(schedule: DriftSchedule) -> int:
    """The capture window of one run: the schedule's period, so runs neither overlap nor leave gaps."""
    return SCHEDULE_SECONDS[schedule] // 3600


@dataclass(frozen=True)
class DriftCronJobArgs:
    service: str
    namespace: str
    """The service's namespace (its ModelService's)."""
    image: pulumi.Input[str]
    """The drift-monitor job image's pushed digest."""
    schedule: DriftSchedule
    threshold_psi: float
    baseline_uri: pulumi.Input[str]
    """The live model's `baseline.csv` in the artifact store, in the cloud's scheme."""
    capture_uri: pulumi.Input[str]
    """The service's capture prefix on the cluster (`.../data-capture/<service>/kubernetes/`)."""
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The cloud identity binding (IRSA role ARN, Workload Identity) of the service account."""
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on the check's pods (AKS: `azure.workload.identity/use: "true"`, without which the webhook
    injects no token into the pod)."""
    pushgateway: str = PUSHGATEWAY_URL


def drift_manifests(args: DriftCronJobArgs) -> list[dict[str, Any]]:
    """The service account and the CronJob of one service's drift check."""
    # Not the model servers' `mlops.dev/service` label: their PodMonitor, PDB and NetworkPolicy select by it.
    labels = {"app.kubernetes.io/name": "drift-monitor", DRIFT_LABEL: args.service}
    meta = {"namespace": args.namespace, "labels": labels}
    command = ["--baseline", args.baseline_uri, "--current", args.capture_uri,
               "--since-hours", str(since_hours(args.schedule)), "--out", "/tmp/drift-report.json",
               "--psi-threshold", f"{args.threshold_psi:g}", "--pushgateway", args.pushgateway,
               "--grouping-key", f"service={args.service}", "--drift-exit-code", "0"]
    pod = {
        "serviceAccountName": SERVICE_ACCOUNT,
        "automountServiceAccountToken": True,  # the projected token is the IRSA / workload-identity credential
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": USER_ID, "runAsGroup": USER_ID, "fsGroup": USER_ID,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "drift-monitor", "image": args.image, "args": command,
            "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
            "securityContext": {"runAsNonRoot": True, "runAsUser": USER_ID, "runAsGroup": USER_ID,
                                "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": SERVICE_ACCOUNT, **meta, "annotations": dict(args.service_account_annotations)}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "drift-monitor", **meta},
         "spec": {"schedule": CRON[args.schedule], "timeZone": "Etc/UTC", "concurrencyPolicy": "Forbid",
                  "startingDeadlineSeconds": 600, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3,
                  "jobTemplate": {"spec": {
                      "backoffLimit": 0, "activeDeadlineSeconds": SCHEDULE_SECONDS[args.schedule] // 2,
                      "ttlSecondsAfterFinished": 86400,
                      "template": {"metadata": {"labels": {**args.pod_labels, **labels}}, "spec": pod}}}}},
    ]


class DriftCronJob(pulumi.ComponentResource):
    """One service's scheduled drift check on the cluster."""

    def __init__(self, name: str, args: DriftCronJobArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:k8s:DriftCronJob", name, None, opts)
        account, cron = drift_manifests(args)
        created = declare(f"{name}-service-account", account, pulumi.ResourceOptions(parent=self))
        declare(f"{name}-cronjob", cron, pulumi.ResourceOptions(parent=self, depends_on=[created]))
        self.register_outputs({})
