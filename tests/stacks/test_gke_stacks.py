"""Kubernetes serving on GKE (gke-dev): the pool's placement, Workload Identity scoped to the service's prefixes,
GKE's own node autoscaler, manifests valid for the cluster, and a weight change that touches the route alone."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from components.gcp.workload_identity import object_prefix_condition
from infra.plan.engine import plan_stack
from infra.stackfile import PROJECT_ROOT
from tests.components.k8s.manifests import KUBERNETES_VERSION, planned_manifests
from tests.components.k8s.test_crd_schemas import _check

NS = "mlops-platform"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
BUCKET = "mlopsgke-dev-gke-mlops-demo-dev-artifacts"
BUILT_IN = ("v1", "apps/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1", "batch/v1")




def test_gke_dev_serves_its_service_on_the_cluster_not_on_vertex(stack_plan):
    plan = stack_plan("gke-dev")
    assert len(plan.of_type(ROUTE)) == 1
    assert not plan.of_type("gcp:vertex/aiEndpoint:AiEndpoint")
    endpoint = plan.outputs["endpoints"]["fraud-detector"]
    assert endpoint["invokeUrl"].endswith("/fraud-detector/") and endpoint["weights"] == {"blue": 80, "green": 20}


def test_gpu_pods_select_the_pools_accelerator_and_tolerate_its_taint(stack_plan):
    """GKE labels GPU nodes `cloud.google.com/gke-accelerator=<type>` (cloud.google.com/kubernetes-engine/docs/
    how-to/gpus); read the type and the taint from the planned pool, not from the code under test."""
    plan = stack_plan("gke-dev")
    pool = plan.named("gpu-gpu")["inputs"]["nodeConfig"]
    (taint,) = pool["taints"]
    accelerator = pool["guestAccelerators"][0]["type"]
    for deployment in plan.of_type("kubernetes:apps/v1:Deployment"):
        pod = deployment["inputs"]["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": accelerator}
        assert {"key": taint["key"], "operator": "Equal", "value": taint["value"],
                "effect": "NoSchedule"} in pod["tolerations"]
        assert taint["effect"] == "NO_SCHEDULE"


def test_gke_scales_the_gpu_pool_itself(stack_plan):
    """No cluster-autoscaler release on GKE: the pool's autoscaling (min 0) is GKE's cluster autoscaler."""
    plan = stack_plan("gke-dev")
    charts = {r["inputs"]["chart"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    assert not any(c.endswith("cluster-autoscaler") for c in charts)
    assert plan.named("gpu-gpu")["inputs"]["autoscaling"]["totalMinNodeCount"] == 0


def test_gke_runs_its_own_device_plugin_and_the_eks_cluster_gets_nvidias(stack_plan):
    """GKE deploys `nvidia-gpu-device-plugin` itself with the drivers it installs
    (GoogleCloudPlatform/container-engine-accelerators#67); a second plugin would find no driver libraries on
    Container-Optimized OS. EKS has none of its own."""
    def charts(stack):
        return {r["inputs"]["chart"] for r in stack_plan(stack).of_type("kubernetes:helm.sh/v3:Release")}

    assert "nvidia-device-plugin" not in charts("gke-dev")
    assert "nvidia-device-plugin" in charts("eks-dev")


def test_the_model_servers_google_account_reads_its_models_and_writes_its_capture_only(stack_plan):
    """Each grant is conditioned on its prefix (cloud.google.com/storage/docs/access-control/iam#conditions); the
    capture grant is objectCreator: create only, which is all the capture sink does (one new object per flush)."""
    plan = stack_plan("gke-dev")
    (account,) = [r for r in plan.of_type("kubernetes:core/v1:ServiceAccount")
                  if r["inputs"]["metadata"]["name"] == "fraud-detector"]  # beside it: drift-monitor's
    email = account["inputs"]["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
    member = f"serviceAccount:{email}"
    grants = [r["inputs"] for r in plan.resources if r["inputs"].get("member") == member]
    assert {(g["role"], g.get("condition", {}).get("expression")) for g in grants} == {
        ("roles/storage.objectViewer", object_prefix_condition(BUCKET, "models/fraud-detector", listing=True)),
        ("roles/storage.objectCreator",
         object_prefix_condition(BUCKET, "data-capture/fraud-detector/kubernetes", listing=False))}
    assert all(g["bucket"] == BUCKET for g in grants)  # bucket grants only, no project role
    (binding,) = [r["inputs"] for r in plan.of_type("gcp:serviceaccount/iAMMember:IAMMember")
                  if r["inputs"]["serviceAccountId"].endswith(f"/{email}")]
    assert binding == {"member": "serviceAccount:mlops-demo-dev.svc.id.goog[fraud-detector/fraud-detector]",
                       "role": "roles/iam.workloadIdentityUser",
                       "serviceAccountId": f"projects/mlops-demo-dev/serviceAccounts/{email}"}


def test_the_read_condition_admits_the_model_servers_listing_and_objects_under_the_prefix_only():
    """The server lists `gs://<bucket>/<key>` then downloads (services/model_server/artifact.py.download_gcs):
    list is authorized on the bucket with the request's prefix as `objectListPrefix`, get on the object."""
    condition = object_prefix_condition("b", "models/svc", listing=True)
    assert 'objects/models/svc/")' in condition and '.startsWith("models/svc/")' in condition
    assert "models/svc2" not in condition  # the trailing slash keeps a sibling service's prefix out


def test_alertmanager_gets_no_google_identity_and_no_receiver_without_a_webhook(stack_plan):
    plan = stack_plan("gke-dev")
    (stack,) = [r["inputs"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")
                if r["inputs"]["chart"] == "kube-prometheus-stack"]
    alertmanager = stack["values"]["alertmanager"]
    assert alertmanager["serviceAccount"]["annotations"] == {}
    assert alertmanager["config"]["receivers"][0] == {"name": "platform"}


def test_every_object_of_the_gke_dev_plan_validates(stack_plan):
    manifests = planned_manifests(stack_plan("gke-dev"))
    built_in = [m for m in manifests if m["apiVersion"] in BUILT_IN]
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "Namespace", "ServiceAccount"} <= {m["kind"] for m in built_in}
    for manifest in built_in:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    assert {"HTTPRoute", "Gateway", "ServiceMonitor", "PrometheusRule"} <= set(_check(manifests))


def test_the_provider_is_replaced_only_when_the_cluster_is(stack_plan):
    (provider,) = stack_plan("gke-dev").of_type("pulumi:providers:kubernetes")
    """pulumi/pulumi-kubernetes#1148: the kubeconfig is unknown at preview after a cluster update; without
    clusterIdentifier that replaces the provider and every object on the cluster."""
    assert provider["inputs"]["clusterIdentifier"] == "mlopsgke-dev-gke-gpu"
    assert provider["inputs"]["kubeconfig"] == "[secret]"


def test_a_service_on_both_targets_gets_a_vertex_endpoint_and_a_route(tmp_path):
    doc = yaml.safe_load((PROJECT_ROOT / "Pulumi.gke-dev.yaml").read_text(encoding="utf-8"))
    doc["config"][f"{NS}:services"]["fraud-detector"]["target"] = "both"
    both = tmp_path / "Pulumi.gke-dev.yaml"
    both.write_text(yaml.safe_dump(doc), encoding="utf-8")
    plan = plan_stack("gke-dev", config_file=both)
    assert len(plan.of_type("gcp:vertex/aiEndpoint:AiEndpoint")) == 1 and len(plan.of_type(ROUTE)) == 1
    assert plan.outputs["kubernetesEndpoints"]["fraud-detector"]["weights"] == {"blue": 80, "green": 20}
    built = sorted(r["name"] for r in plan.of_type("docker:index/image:Image"))
    assert built == ["drift-monitor-image-image", "fraud-detector-image-image", "trainer-image-image"], (
        "the model server image is built once for both targets, beside the two job images")


def test_with_an_on_call_webhook_alertmanager_posts_there_and_the_url_stays_secret(capsys):
    """GKE's Alertmanager has no managed mail relay to use; the on-call webhook (`monitoring.alertWebhookUrl`,
    a secret) is its receiver, and the URL never shows in the plan (tests/infra/test_secrets.py)."""
    from infra.plan.engine import plan_stack_config
    from tests.infra.test_secrets import SECRET, _with_decrypted_webhook

    plan = plan_stack_config(_with_decrypted_webhook("gke-dev"))
    text = plan.to_json()
    assert SECRET not in text and SECRET not in "".join(capsys.readouterr())
    (stack,) = [r["inputs"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")
                if r["inputs"]["chart"] == "kube-prometheus-stack"]
    assert stack["values"]["alertmanager"]["config"]["receivers"][0] == {
        "name": "platform", "webhook_configs": [{"url": "[secret]", "send_resolved": True}]}


@pytest.mark.parametrize(("stack", "destination"), [
    ("gke-dev", f"gs://{BUCKET}/data-capture/fraud-detector/kubernetes"),
    ("aks-dev", "https://mlopsaksdevaksart2a1c50.blob.core.windows.net/datacapture/fraud-detector/kubernetes")])
def test_model_servers_capture_predictions_where_their_identity_may_write(stack_plan, stack: str, destination: str):
    """dev captures every request (monitoring.dataCapturePercent default) under the prefix the write grant names
    (the store key `data-capture/...` is the `datacapture` container on Azure); the drift CronJob reads it."""
    deployments = stack_plan(stack).of_type("kubernetes:apps/v1:Deployment")
    assert deployments
    for deployment in deployments:
        env = {e["name"]: e["value"] for e in deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert (env["CAPTURE_DESTINATION"], env["CAPTURE_SAMPLE_PERCENT"]) == (destination, "100")


@pytest.mark.parametrize("stack", ["gke-dev", "gcp-dev", "gcp-prod"])
def test_captured_predictions_expire_after_the_retention_days(stack_plan, stack: str):
    """`storage.retentionDays` (docs/config.md: "Days data capture and monitoring reports are kept") is the
    bucket's Delete rule, whose `matchesPrefix` matches from the start of the object name
    (cloud.google.com/storage/docs/lifecycle#matchesprefix-suffix). The model servers on the cluster write under
    `data-capture/<service>/kubernetes/`; the rule named `capture/`, so captured requests never expired."""
    from infra.kubernetes_serving import CAPTURE_PREFIX

    plan = stack_plan(stack)
    (bucket,) = plan.of_type("gcp:storage/bucket:Bucket")
    key = CAPTURE_PREFIX.format(service="fraud-detector") + "/2026/12/07/03/part.jsonl"
    expiring = [rule["condition"] for rule in bucket["inputs"]["lifecycleRules"]
                if rule["action"]["type"] == "Delete" and "age" in rule["condition"]]
    assert [c["age"] for c in expiring if any(key.startswith(p) for p in c.get("matchesPrefixes", []))] == [90]
    for deployment in plan.of_type("kubernetes:apps/v1:Deployment"):  # gke-dev: where the servers really write
        env = {e["name"]: e["value"] for e in deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        written = env["CAPTURE_DESTINATION"].removeprefix(f"gs://{bucket['inputs']['name']}/")
        assert any(written.startswith(p) for c in expiring for p in c.get("matchesPrefixes", []))


@pytest.mark.parametrize(("stack", "kube_proxy"), [("gke-dev", False), ("eks-dev", True), ("aks-dev", False)])
def test_the_monitoring_stack_raises_no_alert_for_what_the_cluster_cannot_show_it(stack_plan, stack, kube_proxy):
    """kube-prometheus-stack renders `KubeSchedulerDown` / `KubeControllerManagerDown` (critical,
    `absent(up{job="kube-scheduler"} == 1)`) and `KubeProxyDown` (`absent(up{job="kube-proxy"})`) whenever the
    component is `enabled` (its templates/prometheus/rules-1.14/kubernetes-system-{scheduler,controller-manager,
    kube-proxy}.yaml). A managed control plane (EKS, GKE, AKS) hides the scheduler, controller manager and etcd, so
    those alerts fired from the first quarter hour on, forever, to the on-call receiver
    (prometheus-community/helm-charts#1554 on GKE, #4106 on EKS). GKE Dataplane V2 runs no kube-proxy ("It doesn't use
    kube-proxy or iptables", cloud.google.com/kubernetes-engine/docs/concepts/dataplane-v2), nor does AKS's Cilium
    dataplane, which replaces it (infra/targets/azure/kubernetes.py)."""
    (release,) = [r["inputs"] for r in stack_plan(stack).of_type("kubernetes:helm.sh/v3:Release")
                  if r["inputs"]["chart"] == "kube-prometheus-stack"]
    values = release["values"]
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd"):
        assert values[component] == {"enabled": False}, component
    assert values["kubeProxy"] == {"enabled": kube_proxy}


@pytest.mark.parametrize(("stack", "installed"), [("gke-dev", False), ("eks-dev", True)])
def test_nvidias_dcgm_exporter_is_installed_only_where_it_can_load_the_driver(stack_plan, stack, installed):
    """On GKE's Container-Optimized OS the driver lives under `/home/kubernetes/bin/nvidia` and is mounted only into
    pods that request a GPU; NVIDIA's chart mounts nothing, so the exporter fails to initialize NVML and exits
    (NVIDIA/dcgm-exporter#59 "Crash loop backoff ... on GKE", #612 with 4.8.x). Installed, it crash-looped on every
    GPU node (`KubePodCrashLooping`, paged forever) and, being an atomic release (Helm waits for the DaemonSet),
    failed `pulumi up` after its 900 s timeout whenever it was installed or upgraded while a GPU node ran."""
    charts = [r["inputs"]["chart"] for r in stack_plan(stack).of_type("kubernetes:helm.sh/v3:Release")]
    assert ("dcgm-exporter" in charts) is installed


def test_a_first_gke_deploy_with_serving_false_creates_the_bucket_registry_and_cluster_but_no_workload(tmp_path):
    """From an empty project one `pulumi up` cannot serve: the bucket it creates holds no
    `models/<svc>/<version>/model.tar.gz` yet and the registry it creates no older slot image (`fraud-detector:1.4.0`),
    so every model server exits 2 on the missing artifact (services/model_server/__main__.py) or stays in
    ImagePullBackOff, and `pulumi up` fails after `ModelService.ROLLOUT_WAIT` (30 minutes). GCP refused
    `serving: false` ("only a target that can hold back its endpoints accepts false"), so there was no first deploy
    that could succeed; now it plans the platform without any workload, as AWS does (docs/runbooks/first-deploy.md)."""
    stack = tmp_path / "Pulumi.gke-dev.yaml"
    stack.write_text((PROJECT_ROOT / "Pulumi.gke-dev.yaml").read_text() + "  mlops-platform:serving: false\n")
    plan = plan_stack("gke-dev", stack)
    types = {r["type"] for r in plan.resources}
    assert not {t for t in types if t.startswith(("kubernetes:", "pulumi:providers:kubernetes", "gcp:vertex/"))}
    assert not plan.of_type("mlops:gcp:WorkloadIdentity")
    for kept in ("gcp:storage/bucket:Bucket", "gcp:artifactregistry/repository:Repository",
                 "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool", "docker:index/image:Image"):
        assert kept in types, kept
    assert plan.outputs["endpoints"] == {} and plan.outputs["artifactBucket"]


def test_a_stack_serving_only_on_gke_has_no_vertex_account_reading_the_whole_bucket(stack_plan):
    """Vertex's `serving` account holds `objectViewer` on the whole bucket (every model, every capture); gke-dev
    serves nothing on Vertex, and its model servers read through per-service accounts on their prefixes."""
    plan = stack_plan("gke-dev")
    accounts = {r["inputs"]["accountId"] for r in plan.of_type("gcp:serviceaccount/account:Account")}
    assert not any(a.endswith("serving") for a in accounts), sorted(accounts)
    assert all(r["inputs"].get("condition") for r in plan.of_type("gcp:storage/bucketIAMMember:BucketIAMMember"))
    vertex = stack_plan("gcp-dev")
    assert any(r["inputs"]["accountId"].endswith("serving")
               for r in vertex.of_type("gcp:serviceaccount/account:Account"))
