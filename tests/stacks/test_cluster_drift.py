"""Prediction capture and the drift CronJob on GKE (gke-dev) and AKS (aks-dev): each URI the model server writes and
the drift monitor reads falls under a prefix its identity is granted, the identities wait for what makes them
usable, and the pods can reach what they call."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from components.gcp.workload_identity import (
    MAX_CONDITION_OPERATORS,
    MAX_READ_PREFIXES,
    WorkloadIdentityArgs,
    objects_condition,
)
from components.k8s.drift_job import CRON
from infra.plan.engine import Plan
from tests.services.drift_monitor.test_publishers import pushgateway  # noqa: F401 (a fixture: records pushes)

CRONJOB = "kubernetes:batch/v1:CronJob"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


def _drift_args(plan: Plan) -> dict[str, str]:
    (job,) = plan.of_type(CRONJOB)
    args = job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    return {"baseline": args[args.index("--baseline") + 1], "current": args[args.index("--current") + 1]}


def _capture_destination(plan: Plan) -> str:
    (value,) = {e["value"] for d in plan.of_type("kubernetes:apps/v1:Deployment")
                for e in d["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]
                if e["name"] == "CAPTURE_DESTINATION"}
    return value


@pytest.mark.parametrize("stack", ["gke-dev", "aks-dev"])
def test_each_gke_and_aks_service_gets_a_drift_cronjob_running_the_pushed_image(stack_plan, stack: str):
    """The composition hands the drift-monitor job image to the cluster as EKS's does; dev checks daily."""
    plan = stack_plan(stack)
    (job,) = plan.of_type(CRONJOB)
    container = job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith(plan.outputs["repositoryUrls"]["drift-monitor"] + "@sha256:")
    assert job["inputs"]["spec"]["schedule"] == CRON["daily"]
    assert job["inputs"]["metadata"]["namespace"] == "fraud-detector"


# ---- GKE --------------------------------------------------------------------------------------------------------


def _gke_grants(plan: Plan, account_name: str) -> list[dict]:
    (account,) = [r for r in plan.of_type("kubernetes:core/v1:ServiceAccount")
                  if r["inputs"]["metadata"]["name"] == account_name]
    member = "serviceAccount:" + account["inputs"]["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
    return [r["inputs"] for r in plan.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
            if r["inputs"]["member"] == member]


def _allowed_object(expression: str, bucket: str, name: str) -> bool:
    """Whether a conditioned grant admits a get of object `name` (its `resource.name.startsWith` clauses)."""
    starts = re.findall(r'resource\.name\.startsWith\("([^"]+)"\)', expression)
    return any(f"projects/_/buckets/{bucket}/objects/{name}".startswith(s) for s in starts)


def _allowed_listing(expression: str, prefix: str) -> bool:
    """Whether a conditioned grant admits a list request with `prefix` (its `objectListPrefix` clauses)."""
    starts = re.findall(r'objectListPrefix", ""\)\.startsWith\("([^"]+)"\)', expression)
    return any(prefix.startswith(s) for s in starts)


def test_the_gke_drift_monitor_may_list_and_read_what_its_cronjob_names_and_write_nothing(stack_plan):
    """The drift monitor lists `gs://<bucket>/<path>` and downloads each object (services/drift_monitor/sources.py
    `_gcs`): `storage.objects.list` is checked on the bucket with the request's prefix
    (`storage.googleapis.com/objectListPrefix`), `storage.objects.get` on the object's name
    (cloud.google.com/iam/docs/conditions-attribute-reference). Before this binder read `reads_prefixes`, the drift
    identity got no grant at all and every run would end in a 403."""
    plan = stack_plan("gke-dev")
    (grant,) = _gke_grants(plan, "drift-monitor")
    assert grant["role"] == "roles/storage.objectViewer"
    expression = grant["condition"]["expression"]
    for uri in _drift_args(plan).values():
        parsed = urlparse(uri)
        bucket, path = parsed.netloc, parsed.path.lstrip("/")
        assert parsed.scheme == "gs" and bucket == grant["bucket"]
        assert _allowed_listing(expression, path), uri
        assert _allowed_object(expression, bucket, path + ("2026/12/07/03/x.jsonl" if path.endswith("/") else "")), uri
    assert not _allowed_listing(expression, "models/fraud-detector/6/")  # only the live model's baseline
    assert not _allowed_listing(expression, "data-capture/fraud-detector/")  # not SageMaker's / Vertex's capture
    assert len(grant["condition"]["title"]) <= 100


def test_the_gke_model_server_may_create_capture_objects_where_it_writes_them(stack_plan):
    """The capture sink writes one new object per flush under `<destination>/YYYY/MM/DD/HH/` (services/model_server/
    capture.py); objectCreator conditioned on the prefix admits exactly that."""
    plan = stack_plan("gke-dev")
    (write,) = [g for g in _gke_grants(plan, "fraud-detector") if g["role"] == "roles/storage.objectCreator"]
    destination = urlparse(_capture_destination(plan))
    assert destination.netloc == write["bucket"]
    obj = destination.path.strip("/") + "/2026/12/07/03/17-00-000000-abc.jsonl"
    assert _allowed_object(write["condition"]["expression"], destination.netloc, obj)


def test_an_iam_condition_holds_at_most_six_read_prefixes():
    """IAM refuses a condition with more than 12 logical operators (cloud.google.com/iam/docs/conditions-overview,
    limits); each listing prefix is two clauses, so six prefixes are 11 `||` and a seventh is refused up front,
    at plan time, instead of by `setIamPolicy` half-way through `pulumi up`."""
    prefixes = tuple(f"p{i}" for i in range(MAX_READ_PREFIXES))
    assert objects_condition("b", prefixes, listing=True).count("||") <= MAX_CONDITION_OPERATORS
    base = {"project": "p", "account_id": "mlops-drift", "namespace": "n", "service_account": "s", "bucket_name": "b"}
    WorkloadIdentityArgs(**base, reads_prefixes=prefixes)
    with pytest.raises(ValueError, match="at most 12 logical operators"):
        WorkloadIdentityArgs(**base, reads_prefixes=(*prefixes, "one-more"))


def test_gke_workload_identity_bindings_wait_for_the_cluster(stack_plan):
    """The pool `<project>.svc.id.goog` exists only once the project's first Workload Identity cluster does; a
    `roles/iam.workloadIdentityUser` binding made before fails with "Identity Pool does not exist"
    (terraform-google-modules/terraform-google-kubernetes-engine#916). From an empty project nothing else orders
    the per-service bindings after the cluster."""
    plan = stack_plan("gke-dev")
    cluster = plan.named("gpu-cluster")["urn"]
    bindings = [r for r in plan.of_type("gcp:serviceaccount/iAMMember:IAMMember")
                if r["inputs"]["role"] == "roles/iam.workloadIdentityUser"]
    assert {r["name"] for r in bindings} >= {"serve-fraud-detector-identity-wi", "drift-fraud-detector-identity-wi"}
    assert all(cluster in r["dependencies"] for r in bindings)


# ---- AKS --------------------------------------------------------------------------------------------------------


def _abac_starts(condition: str, action: str, attribute: str) -> list[str]:
    """The `StringStartsWith` values a condition requires of `attribute` (`path` / `prefix`) for `action`."""
    found = []
    for clause in condition.split(") AND ("):
        if f"ActionMatches{{'{BLOBS}/{action}'}}" in clause and f"containers/blobs:{attribute}]" in clause:
            found += re.findall(r"StringStartsWith '([^']*)'", clause)
    return found


def _aks_grants(plan: Plan, identity: str) -> dict[str, dict]:
    """Container name -> role assignment of the identity named `<identity>-identity-*`."""
    return {r["inputs"]["scope"].rsplit("/", 1)[-1]: r["inputs"] for r in plan.of_type(ASSIGNMENT)
            if r["name"].startswith(f"{identity}-identity-")}


def _container_and_path(url: str) -> tuple[str, str]:
    container, _, path = urlparse(url).path.lstrip("/").partition("/")
    return container, path


def test_the_aks_drift_monitor_may_list_and_read_what_its_cronjob_names_and_write_nothing(stack_plan):
    """List Blobs is `blobs/read` with the `Blob.List` suboperation and has no blob path: its condition is on
    `@Request[...blobs:prefix]`; Get Blob is on `@Resource[...blobs:path]`
    (learn.microsoft.com/azure/storage/blobs/storage-auth-abac-attributes). The drift monitor lists the capture
    prefix (with its trailing `/`) and reads each blob, and reads the baseline blob."""
    plan = stack_plan("aks-dev")
    grants = _aks_grants(plan, "drift-fraud-detector")
    assert set(grants) == {"models", "datacapture"}
    assert all(g["roleDefinitionId"].endswith("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1") for g in grants.values())
    args = _drift_args(plan)
    container, baseline = _container_and_path(args["baseline"])
    assert any(baseline.startswith(s) for s in _abac_starts(grants[container]["condition"], "read", "path"))
    container, capture = _container_and_path(args["current"])
    assert capture.endswith("/")
    condition = grants[container]["condition"]
    assert any(capture.startswith(s) for s in _abac_starts(condition, "read", "prefix"))
    assert any((capture + "2026/12/07/03/x.jsonl").startswith(s) for s in _abac_starts(condition, "read", "path"))
    assert not any(_abac_starts(g["condition"], "write", "path") for g in grants.values())


def test_the_aks_model_server_may_create_capture_blobs_where_it_writes_them(stack_plan):
    """The capture sink uploads one new blob per flush with overwrite=False (Put Blob, `If-None-Match: *`), which
    Azure authorizes as `blobs/write` or `blobs/add/action` (storage-auth-abac-attributes); both are conditioned on
    the capture path, and the assignment is on the container the destination URL names."""
    plan = stack_plan("aks-dev")
    grants = _aks_grants(plan, "serve-fraud-detector")
    container, prefix = _container_and_path(_capture_destination(plan))
    blob = prefix.strip("/") + "/2026/12/07/03/17-00-000000-abc.jsonl"
    assert container == "datacapture" and grants[container]["roleDefinitionId"].endswith(
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe")  # Storage Blob Data Contributor
    for action in ("write", "add/action"):
        starts = _abac_starts(grants[container]["condition"], action, "path")
        assert starts and all(blob.startswith(s) for s in starts), action


def test_aks_drift_pods_carry_the_workload_identity_label_and_wait_for_their_grants(stack_plan):
    """Without `azure.workload.identity/use: "true"` on the pod the webhook injects no token and the drift monitor
    has no Azure credential (learn.microsoft.com/azure/aks/workload-identity-overview). Role assignments take
    effect minutes after they are accepted: the service account's client-id resolves only after RbacPropagation,
    so no drift pod exists before its grants work (its first run is at 03:17 UTC anyway)."""
    plan = stack_plan("aks-dev")
    (job,) = plan.of_type(CRONJOB)
    assert job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"][
        "azure.workload.identity/use"] == "true"
    (account,) = [r for r in plan.of_type("kubernetes:core/v1:ServiceAccount")
                  if r["inputs"]["metadata"]["name"] == "drift-monitor"]
    assert set(account["inputs"]["metadata"]["annotations"]) == {"azure.workload.identity/client-id"}
    propagation = plan.named("drift-fraud-detector-identity-rbac-propagation")
    assert propagation["urn"] in account["dependencies"]
    grants = {r["urn"] for r in plan.of_type(ASSIGNMENT) if r["name"].startswith("drift-fraud-detector-identity-")}
    assert len(grants) == 2 and grants <= set(propagation["dependencies"])
    assert account["urn"] in job["dependencies"]


def test_eks_and_gke_drift_pods_get_no_azure_label(stack_plan):
    """The label is AKS's (ClusterAccess.pod_labels); elsewhere the pod template carries the check's own labels."""
    for stack in ("eks-dev", "gke-dev"):
        (job,) = stack_plan(stack).of_type(CRONJOB)
        labels = job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        assert labels == {"app.kubernetes.io/name": "drift-monitor", "mlops.dev/drift-of": "fraud-detector"}


def test_a_gke_drift_run_before_any_capture_exits_2_and_pushes_nothing(
        stack_plan, gcs_emulator: str, pushgateway: tuple, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A new service, or one without traffic in the window: the planned CronJob's own arguments against a bucket
    whose capture prefix is empty. The drift monitor exits 2 ("no objects written in the --since-hours window")
    before publishing (services/drift_monitor/cli.py), so no PSI reaches the Pushgateway and `ModelDrift`, which
    reads it, cannot fire a false alarm; the Job shows as failed and the next schedule runs again."""
    from google.cloud import storage

    from services.drift_monitor.cli import main

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    (job,) = stack_plan("gke-dev").of_type(CRONJOB)
    args = list(job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"])
    bucket = urlparse(args[args.index("--baseline") + 1]).netloc
    client = storage.Client()
    client.create_bucket(bucket)
    baseline = urlparse(args[args.index("--baseline") + 1]).path.lstrip("/")
    client.bucket(bucket).blob(baseline).upload_from_string("a,b\n1,2\n3,4\n")
    args[args.index("--out") + 1] = str(tmp_path / "drift-report.json")
    url, received = pushgateway
    args[args.index("--pushgateway") + 1] = url
    assert main(args) == 2
    assert "no objects written in the --since-hours window under this prefix" in capsys.readouterr().err
    assert received == []
    assert not (tmp_path / "drift-report.json").exists()


@pytest.mark.parametrize("stack", ["gke-dev", "aks-dev"])
def test_no_network_policy_blocks_the_calls_capture_and_drift_make(stack_plan, stack: str):
    """Model servers write capture to the storage API and take tokens from GKE's metadata server (169.254.169.254)
    or Entra ID (login.microsoftonline.com); drift pods do the same and push to the Pushgateway in `monitoring`.
    The platform's NetworkPolicies admit ingress to model servers only (`policyTypes: [Ingress]`): egress stays
    open (kubernetes.io/docs/concepts/services-networking/network-policies: a policy isolates only the directions in
    its policyTypes), no policy selects the drift pods, and none lives in the Pushgateway's namespace (AKS enforces
    them with Cilium; GKE does not enforce them yet, docs/kubernetes-serving.md)."""
    plan = stack_plan(stack)
    (job,) = plan.of_type(CRONJOB)
    drift_labels = job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    policies = [p["inputs"] for p in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    assert policies
    for policy in policies:
        assert policy["spec"]["policyTypes"] == ["Ingress"] and "egress" not in policy["spec"]
        assert policy["metadata"]["namespace"] != "monitoring"
        selector = policy["spec"]["podSelector"]["matchLabels"]
        assert selector and not selector.items() <= drift_labels.items()


def test_every_gke_pool_serves_workload_identity_tokens_to_its_pods(stack_plan):
    """Model servers run on the GPU pool, drift pods (no GPU toleration) on the system pool: each pool needs the GKE
    metadata server (`workloadMetadataConfig.mode: GKE_METADATA`), or its pods get the node's identity instead of
    their Google service account (cloud.google.com/kubernetes-engine/docs/how-to/workload-identity)."""
    plan = stack_plan("gke-dev")
    pools = plan.of_type("gcp:container/nodePool:NodePool")
    assert {p["name"] for p in pools} == {"gpu-gpu", "gpu-system"}
    assert all(p["inputs"]["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"} for p in pools)
    (job,) = plan.of_type(CRONJOB)
    assert "tolerations" not in job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_a_gke_drift_run_that_meets_unpropagated_iam_costs_one_run_not_a_retry_storm(stack_plan):
    """GCP IAM changes take effect in about 2 and up to 7 minutes (cloud.google.com/iam/docs/access-change-
    propagation) and nothing on GKE waits for them (AKS has RbacPropagation). A run started inside that window gets a
    403, which the drift monitor reports as exit 2 (`cannot be listed or read`, services/drift_monitor/sources.py):
    the Job is not retried (`backoffLimit: 0`), no second run overlaps (`Forbid`), the failure stays visible
    (`failedJobsHistoryLimit`) and the next schedule, a period later, reads normally. Accepted and documented
    (docs/kubernetes-serving.md, Drift) rather than a fixed sleep on every grant change."""
    (job,) = stack_plan("gke-dev").of_type(CRONJOB)
    spec = job["inputs"]["spec"]
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 0 and spec["concurrencyPolicy"] == "Forbid"
    assert spec["failedJobsHistoryLimit"] >= 1
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize(("stack", "grant"), [
    ("gke-dev", ("gcp:storage/bucketIAMMember:BucketIAMMember", "drift-fraud-detector-identity-read")),
    ("aks-dev", (ASSIGNMENT, "drift-fraud-detector-identity-read-0"))])
def test_a_new_live_model_version_moves_the_drift_grant_and_nothing_else_of_the_identities(
        stack_plan, tmp_path: Path, stack: str, grant: tuple[str, str]):
    """The baseline is the live model's (`models/<service>/<version>/baseline.csv`), so a new live version moves the
    drift identity's read prefix: GKE replaces the conditioned binding (an IAM member's condition forces a new one,
    infra/plan/replacement.py), AKS creates an assignment under a new name (derived from the path) and deletes the
    old one. Both create before they delete, so the grant is never absent; on AKS the drift service account waits
    for the new assignment's propagation before the CronJob's new arguments apply. The model server's grants (the
    whole `models/<service>/` prefix, the capture prefix) do not move."""
    from infra.plan.diff import diff_plans
    from infra.plan.engine import plan_stack
    from infra.stackfile import PROJECT_ROOT

    moved = tmp_path / f"Pulumi.{stack}.yaml"
    text = (PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")
    moved.write_text(text.replace('modelVersion: "7"', 'modelVersion: "9"'), encoding="utf-8")  # blue is live
    diff = diff_plans(stack_plan(stack), plan_stack(stack, config_file=moved))
    assert (diff.added, diff.removed) == ([], [])
    assert sorted((c.type, c.name, c.action) for c in diff.changed) == sorted([
        (*grant, "replace"),
        (CRONJOB, "fraud-detector-drift-cronjob", "update"),
        ("kubernetes:apps/v1:Deployment", "fraud-detector-k8s-fraud-detector-blue-deployment", "update")])
    (replaced,) = diff.of_action("replace")
    assert replaced.delete_first == ""  # created before the old one goes


@pytest.mark.parametrize(("stack", "scheme"), [("eks-dev", "s3"), ("gke-dev", "gs"), ("aks-dev", "azure")])
def test_the_drift_job_reads_where_the_model_servers_write_in_a_scheme_both_services_take(stack_plan, stack, scheme):
    """What each service makes of the URIs the plan hands it, parsed by the services' own code: the model server
    refuses at start-up a CAPTURE_DESTINATION it has no sink for (exit 2, every pod never ready; the reason GKE and
    AKS ran without capture before their sinks existed), and the drift monitor reads from `--current`. Both must
    be cloud locations of the same store and prefix, or the CronJob scores an empty window forever."""
    from services.drift_monitor.sources import remote
    from services.model_server.artifact import parse_location
    from services.model_server.sinks import OBJECT_SINKS, destination_problem

    plan = stack_plan(stack)
    destination = _capture_destination(plan)
    assert destination_problem(destination) is None
    written = parse_location(destination)
    assert written.scheme == scheme and written.scheme in OBJECT_SINKS
    read = remote(_drift_args(plan)["current"])
    assert (read.scheme, read.bucket, read.key.rstrip("/")) == (scheme, written.bucket, written.path.rstrip("/"))
    baseline = remote(_drift_args(plan)["baseline"])
    # The same bucket on S3 and GCS; on Azure the same storage account (models and captures are two containers).
    assert (baseline.account_url or baseline.bucket) == (written.account_url or written.bucket)
