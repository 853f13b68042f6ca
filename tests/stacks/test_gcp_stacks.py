"""The gcp-dev and gcp-prod stacks: per-environment differences and deploy-time failure classes in the plans."""

from __future__ import annotations

import copy

import pytest
import yaml

from components.gcp.model_endpoint import HEALTH_ROUTE, PORT, PREDICT_ROUTE
from infra.plan.diff import diff_plans
from infra.plan.engine import plan_stack
from infra.plan.preview import Plan
from infra.stackfile import PROJECT_ROOT
from services.model_server.settings import Settings


@pytest.fixture
def dev(stack_plan):
    return stack_plan("gcp-dev")


@pytest.fixture
def prod(stack_plan):
    return stack_plan("gcp-prod")


def _one(plan, suffix, name=""):
    found = [r for r in plan.resources if r["type"].endswith(suffix) and r["name"].endswith(name)]
    assert len(found) == 1, [r["name"] for r in found]
    return found[0]


def _all(plan, suffix):
    return [r for r in plan.resources if r["type"].endswith(suffix)]


def test_dev_deploys_only_the_live_slot_on_one_replica_with_all_traffic(dev):
    deployment = _one(dev, "vertex:VertexDeployment")["inputs"]
    assert deployment["traffic"] == {"blue": 100} and list(deployment["slots"]) == ["blue"]
    assert deployment["slots"]["blue"]["minReplicas"] == 1
    assert dev.outputs["endpoints"]["fraud-detector"]["weights"] == {"blue": 100}


def test_prod_runs_the_canary_split_on_two_gpu_replicas_per_slot(prod):
    deployment = _one(prod, "vertex:VertexDeployment")["inputs"]
    assert deployment["traffic"] == {"blue": 90, "green": 10}
    assert {(s["minReplicas"], s["machineType"], s["acceleratorType"]) for s in deployment["slots"].values()} == {
        (2, "n1-standard-8", "NVIDIA_TESLA_T4")}


def test_models_deploy_after_the_endpoint_and_the_serving_accounts_bucket_grant(prod):
    """The server downloads MODEL_URI at start as the serving account: its bucket grant must exist first."""
    deployment = _one(prod, "vertex:VertexDeployment")
    assert _one(prod, ":AiEndpoint")["urn"] in deployment["dependencies"]
    grant = _one(prod, ":BucketIAMMember", "serving-bucket")
    assert grant["urn"] in deployment["dependencies"]
    assert grant["inputs"]["role"] == "roles/storage.objectViewer"


def test_the_endpoint_leaves_its_split_to_the_deployment(dev):
    """magic-modules#12110: trafficSplit can only name deployed models, so the endpoint never declares it."""
    endpoint = _one(dev, ":AiEndpoint")
    assert "trafficSplit" not in endpoint["inputs"] and endpoint["ignoreChanges"] == ["trafficSplit"]
    assert endpoint["inputs"]["name"].isdigit() and len(endpoint["inputs"]["name"]) <= 10  # AiEndpoint.name rule


def test_container_spec_is_the_model_servers_vertex_contract(dev):
    """Vertex passes predictRoute / healthRoute as AIP_PREDICT_ROUTE / AIP_HEALTH_ROUTE and the port as
    AIP_HTTP_PORT; the model server must register exactly those routes."""
    blue = _one(dev, "vertex:VertexDeployment")["inputs"]["slots"]["blue"]
    assert (blue["predictRoute"], blue["healthRoute"], blue["port"]) == (PREDICT_ROUTE, HEALTH_ROUTE, PORT)
    settings = Settings.from_env({"AIP_PREDICT_ROUTE": PREDICT_ROUTE, "AIP_HEALTH_ROUTE": HEALTH_ROUTE,
                                  "AIP_HTTP_PORT": str(PORT), "MODEL_URI": blue["modelUri"]})
    assert (settings.vertex_predict_route, settings.vertex_health_route, settings.port) == (
        PREDICT_ROUTE, HEALTH_ROUTE, PORT)
    assert blue["modelUri"].startswith("gs://") and blue["modelUri"].endswith("/fraud-detector/8/model.tar.gz")
    assert blue["modelUri"].startswith(blue["artifactUri"] + "/")


def test_dev_cluster_is_zonal_spot_and_destroyable_prod_is_regional_private_and_protected(dev, prod):
    """deletion_protection defaults to true in the provider: a dev cluster that left it would block destroy."""
    dev_cluster, prod_cluster = _one(dev, ":Cluster"), _one(prod, ":Cluster")
    assert dev_cluster["inputs"]["location"] == "europe-west4-a"
    assert dev_cluster["inputs"]["deletionProtection"] is False
    assert prod_cluster["inputs"]["location"] == "europe-west4" and prod_cluster["protect"] is True
    assert prod_cluster["inputs"]["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert dev_cluster["inputs"]["masterAuthorizedNetworksConfig"]["cidrBlocks"][0]["cidrBlock"] == "203.0.113.0/24"
    assert _one(dev, ":NodePool", "gpu")["inputs"]["nodeConfig"]["spot"] is True
    assert _one(prod, ":NodePool", "gpu")["inputs"]["nodeConfig"]["spot"] is False


def test_gpu_pool_has_the_catalogs_accelerator_with_drivers_and_a_taint(dev):
    config = _one(dev, ":NodePool", "gpu")["inputs"]["nodeConfig"]
    accelerator = config["guestAccelerators"][0]
    assert (config["machineType"], accelerator["type"], accelerator["count"]) == ("n1-standard-8", "nvidia-tesla-t4", 1)
    assert accelerator["gpuDriverInstallationConfig"]["gpuDriverVersion"] == "DEFAULT"
    assert config["taints"] == [{"effect": "NO_SCHEDULE", "key": "nvidia.com/gpu", "value": "present"}]


def test_each_service_agent_may_use_its_own_key_only(prod):
    grants = {r["name"]: (r["inputs"]["cryptoKeyId"].rsplit("/", 1)[-1], r["inputs"]["member"])
              for r in _all(prod, ":CryptoKeyIAMMember")}
    assert {name: key for name, (key, _) in grants.items()} == {
        f"encryption-{p}-agent": p for p in ("storage", "registry", "vertex", "logs", "cluster")}
    agents = [member for _, member in grants.values()]
    assert len(set(agents)) == len(agents)  # no agent holds two keys
    assert {r["inputs"]["rotationPeriod"] for r in _all(prod, ":CryptoKey")} == {"7776000s"}


def test_stateful_prod_resources_are_protected_and_dev_ones_destroyable(dev, prod):
    for suffix in (":KeyRing", ":Bucket", ":Repository", ":Dataset", ":Cluster"):
        assert _one(prod, suffix)["protect"] is True, suffix
        assert _one(dev, suffix)["protect"] is False, suffix
    assert _one(prod, ":Bucket")["inputs"]["forceDestroy"] is False
    assert _one(dev, ":Bucket")["inputs"]["forceDestroy"] is True


def test_no_workload_runs_with_a_basic_role_or_holds_a_bucket_wide_write(prod):
    """Stack-wide accounts (GKE nodes, Vertex serving) read at most. A bucket-wide `objectUser` account bound to
    `mlops/drift-monitor` used to exist for a drift job nothing ran: whoever could create that namespace and
    service account on the cluster could read, overwrite and delete every model and capture. In-cluster jobs
    get per-service accounts on their prefixes only (tests/stacks/test_cluster_drift.py)."""
    roles = {r["inputs"]["role"] for r in _all(prod, ":IAMMember")}
    assert not roles & {"roles/owner", "roles/editor", "roles/viewer"}
    bucket_roles = {r["inputs"]["role"] for r in _all(prod, ":BucketIAMMember") if not r["inputs"].get("condition")}
    assert bucket_roles <= {"roles/storage.objectViewer"}, bucket_roles
    assert not _all(prod, "serviceaccount/iAMMember:IAMMember")  # no Workload Identity binding without a service


def test_alert_policies_watch_vertex_metrics_per_endpoint(prod):
    filters = sorted(r["inputs"]["conditions"][0]["conditionThreshold"]["filter"].split('"')[1]
                     for r in _all(prod, ":AlertPolicy"))
    assert filters == [f"aiplatform.googleapis.com/prediction/online/{m}"
                       for m in ("error_count", "prediction_latencies", "replicas")]
    channel = _one(prod, ":NotificationChannel")["urn"]
    assert all(channel in r["dependencies"] for r in _all(prod, ":AlertPolicy"))
    assert prod.outputs["alertDestination"].startswith("projects/mlops-demo-prod/notificationChannels/")


def test_drift_runs_on_vertex_model_monitoring_at_the_psi_equivalent_and_alerts(dev, prod):
    """The stack's PSI 0.2 becomes Vertex's JS-divergence threshold (components/gcp/model_monitor.py)."""
    monitor = _one(prod, "vertex:VertexModelMonitor")
    inputs = monitor["inputs"]
    assert set(inputs["thresholds"].values()) == {0.0369}
    assert sorted(inputs["thresholds"]) == ["mean radius", "mean texture", "worst area", "worst concave points"]
    assert inputs["intervalSeconds"] == 3600 and _one(dev, "vertex:VertexModelMonitor")["inputs"][
        "intervalSeconds"] == 86400
    assert inputs["emails"] == ["ml-oncall@example.com"] and len(inputs["notificationChannels"]) == 1
    assert _one(prod, "vertex:VertexDeployment")["urn"] in monitor["dependencies"]



def test_planning_a_gcp_stack_never_imports_the_vertex_ai_sdk():
    """Importing google-cloud-aiplatform costs about a second; the dynamic resources import it only in pulumi up."""
    import subprocess
    import sys

    from infra.stackfile import PROJECT_ROOT

    code = ("import sys; from infra.plan.engine import plan_stack; plan_stack('gcp-prod'); "
            "print(sorted(m for m in sys.modules if m.startswith(('google.cloud.aiplatform', 'vertexai'))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _variant(tmp_path, stack, edit):
    config = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())
    edit(config["config"])
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_new_gpu_minimum_updates_the_node_pools_in_place(prod, tmp_path):
    """`initial_node_count` is `ForceNew: true` in hashicorp/terraform-provider-google
    google/services/container/resource_container_node_pool.go ("Changing this will force recreation of the
    resource"), and the regional pool derives it from `gpu.minNodes`: without `ignoreChanges` raising the minimum
    from 1 to 4 would delete the GPU pool (its name is set, so delete-first) and drain every node on it."""
    def raise_minimum(config):
        config["mlops-platform:gpu"]["minNodes"] = 4
    moved = plan_stack("gcp-prod", config_file=_variant(tmp_path, "gcp-prod", raise_minimum))
    diff = diff_plans(prod, moved)
    pools = {c.name: c for c in diff.changed if c.type == "gcp:container/nodePool:NodePool"}
    assert set(pools) == {"gpu-gpu"}, sorted(pools)
    assert pools["gpu-gpu"].action == "update", (pools["gpu-gpu"].action, pools["gpu-gpu"].replace_reasons)
    assert not diff.of_action("replace"), [c.name for c in diff.of_action("replace")]
    assert _one(moved, ":NodePool", "gpu")["inputs"]["autoscaling"]["totalMinNodeCount"] == 4


@pytest.mark.parametrize(("region", "zone"), [("europe-west1", "europe-west1-b"), ("us-east1", "us-east1-b"),
                                              ("us-central1", "us-central1-a")])
def test_a_dev_cluster_lives_in_a_zone_its_region_has(tmp_path, region, zone):
    """europe-west1 and us-east1 have zones b, c and d and no `-a` (cloud.google.com/compute/docs/regions-zones;
    `gcloud compute zones list`): a zonal cluster placed at `<region>-a` fails on create with "Zone ... not
    found" in two of Google's busiest regions."""
    def move(config):
        config["gcp:region"] = region
    plan = plan_stack("gcp-dev", config_file=_variant(tmp_path, "gcp-dev", move))
    assert _one(plan, ":Cluster")["inputs"]["location"] == zone
    assert {p["inputs"]["location"] for p in _all(plan, ":NodePool")} == {zone}


@pytest.mark.parametrize("stack", ["gcp-dev", "gcp-prod", "gke-dev"])
def test_every_gke_cluster_enforces_network_policy_with_dataplane_v2(stack_plan, stack):
    """GKE accepts NetworkPolicy objects on any cluster but enforces them only with Dataplane V2 or the Calico
    add-on (cloud.google.com/kubernetes-engine/docs/how-to/network-policy): without either, the model server's
    NetworkPolicy (only the gateway and Prometheus may connect) would be silently void. The API refuses Calico on
    a Dataplane V2 cluster (terraform-google-kubernetes-engine#1085), so no `networkPolicy` block either."""
    cluster = _one(stack_plan(stack), ":Cluster")["inputs"]
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    assert "networkPolicy" not in cluster


def test_a_cluster_created_on_the_legacy_datapath_is_replaced_and_the_diff_says_so(prod):
    """`datapath_provider` is ForceNew in resource_container_cluster.go: a cluster created before Dataplane V2
    was set is deleted and re-created, and the pull request's plan diff must show that replacement (prod's
    cluster is protected, so `pulumi up` stops there until someone decides)."""
    before = Plan.from_dict(copy.deepcopy(prod.to_dict()))
    del _one(before, ":Cluster")["inputs"]["datapathProvider"]
    cluster = next(c for c in diff_plans(before, prod).changed if c.type == "gcp:container/cluster:Cluster")
    assert cluster.action == "replace" and any("datapathProvider" in r for r in cluster.replace_reasons)
