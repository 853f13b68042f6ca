"""The drift monitor as a Kubernetes CronJob on the shared drift spec (issue 13: "the drift monitor as a CronJob
on the shared drift spec"), running the drift-monitor job image the target pushed (issue 11)."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from components.k8s.drift_job import CRON, PUSHGATEWAY_URL, DriftCronJobArgs, drift_manifests, since_hours
from tests.components.k8s.manifests import KUBERNETES_VERSION


def _args(schedule: str = "hourly") -> DriftCronJobArgs:
    return DriftCronJobArgs(service="fraud", namespace="fraud", image="r.example/drift-monitor@sha256:" + "a" * 64,
                            schedule=schedule, threshold_psi=0.25, baseline_uri="s3://b/models/fraud/7/baseline.csv",
                            capture_uri="s3://b/data-capture/fraud/kubernetes/",
                            service_account_annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/d"})


@pytest.mark.parametrize("schedule, cron, hours", [("hourly", "17 * * * *", "1"), ("daily", "17 3 * * *", "24")])
def test_the_schedule_and_the_capture_window_come_from_the_drift_spec(schedule: str, cron: str, hours: str):
    """Each run reads the predictions captured since the previous one: `--since-hours` is the period."""
    _, job = drift_manifests(_args(schedule))
    args = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert job["spec"]["schedule"] == cron == CRON[schedule] and str(since_hours(schedule)) == hours
    assert args[args.index("--since-hours") + 1] == hours
    assert args[args.index("--psi-threshold") + 1] == "0.25"
    assert args[args.index("--pushgateway") + 1] == PUSHGATEWAY_URL
    assert args[args.index("--grouping-key") + 1] == "service=fraud"  # the drift alert's `service` label


def test_a_run_that_finds_drift_is_a_successful_job_and_the_pushed_metric_is_the_alert():
    """A pod exiting 3 (drift) is a failed Job, and kube-prometheus-stack's `KubeJobFailed` (kubernetes-mixin)
    fired beside `ModelDrift` for every drift found, for a day (ttlSecondsAfterFinished). The drift monitor runs
    with `--drift-exit-code 0`, which `services.drift_monitor`'s own parser accepts; only runs that could not
    check (bad input, no capture, publishing failed) fail the Job."""
    from services.drift_monitor.cli import parser

    _, job = drift_manifests(_args())
    args = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert parser().parse_args(args).drift_exit_code == 0


def test_the_pod_is_hardened_and_runs_once_per_schedule():
    account, job = drift_manifests(_args())
    spec = job["spec"]["jobTemplate"]["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/d"}
    assert container["securityContext"]["readOnlyRootFilesystem"] and container["securityContext"]["runAsNonRoot"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert not container["securityContext"]["allowPrivilegeEscalation"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert job["spec"]["concurrencyPolicy"] == "Forbid" and spec["backoffLimit"] == 0
    assert "mlops.dev/service" not in spec["template"]["metadata"]["labels"]  # model servers' PDB / monitors
    for manifest in (account, job):
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_eks_dev_runs_the_pushed_drift_image_with_an_identity_that_reads_only_baseline_and_capture(stack_plan):
    plan = stack_plan("eks-dev")
    (job,) = plan.of_type("kubernetes:batch/v1:CronJob")
    container = job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith(plan.outputs["repositoryUrls"]["drift-monitor"] + "@sha256:")
    assert job["inputs"]["spec"]["schedule"] == CRON["daily"]  # dev: daily (components/monitoring.py)
    args = container["args"]
    assert args[args.index("--baseline") + 1].endswith("/models/fraud-detector/7/baseline.csv")  # the live model
    assert args[args.index("--current") + 1].endswith("/data-capture/fraud-detector/kubernetes/")
    policy = json.loads(plan.named("drift-fraud-detector-identity-policy")["inputs"]["policy"])
    reads = sorted(r.split(":::", 1)[1].split("/", 1)[1] for s in policy["Statement"] if "s3:GetObject" in s["Action"]
                   for r in [s["Resource"]])
    assert reads == ["data-capture/fraud-detector/kubernetes/*", "models/fraud-detector/7/*"]
    assert not [s for s in policy["Statement"] if any(a.startswith(("s3:Put", "s3:Delete")) for a in s["Action"])]
    assert len({s["Sid"] for s in policy["Statement"]}) == len(policy["Statement"])  # IAM refuses repeated Sids
