"""Kubernetes serving in the plans: routed weights equal the stack file's, a weight change touches the route
alone, and the deploy-time failure classes of the Kubernetes provider are designed out."""

from __future__ import annotations

import json

import pytest
import yaml

from components.k8s import workload
from components.serving import deployed_slots
from infra.plan.engine import plan_stack
from infra.stackfile import PROJECT_ROOT, stack_names

NS = "mlops-platform"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"



def _configured_services(stack: str) -> dict:
    doc = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    return doc["config"].get(f"{NS}:services", {})


@pytest.mark.parametrize("stack", stack_names())
def test_routed_weights_equal_the_slot_weights_in_the_stack_file(stack, stack_plan):
    """Read from the YAML itself (not the parsed config): what the operator wrote is what the route splits."""
    routes = {r["inputs"]["metadata"]["name"].removesuffix(workload.ROUTE_SUFFIX): r["inputs"]
              for r in stack_plan(stack).of_type(ROUTE)}
    on_cluster = {name: svc for name, svc in _configured_services(stack).items()
                  if svc.get("target", "endpoint") in ("kubernetes", "both")}
    assert set(routes) == set(on_cluster)
    for name, svc in on_cluster.items():
        weights = {slot: conf.get("weight", 0) for slot, conf in svc["slots"].items()}
        deployed = deployed_slots(weights, svc.get("live", "blue"), svc.get("keepWarm", False))
        assert workload.route_weights(routes[name], name) == {slot: weights[slot] for slot in deployed}


def test_eks_dev_serves_a_service_on_kubernetes(stack_plan):
    plan = stack_plan("eks-dev")
    assert len(plan.of_type(ROUTE)) == 1
    assert plan.outputs["endpoints"]["fraud-detector"]["invokeUrl"].endswith("/fraud-detector/")
    assert not [r for r in plan.resources if r["type"].startswith("aws:sagemaker")]


def test_the_provider_is_replaced_only_when_the_cluster_is(stack_plan):
    """pulumi/pulumi-kubernetes#1148, #4019: without clusterIdentifier a kubeconfig unknown at preview (any
    EKS cluster update) replaces the provider and with it every object on the cluster."""
    (provider,) = stack_plan("eks-dev").of_type("pulumi:providers:kubernetes")
    assert provider["inputs"]["clusterIdentifier"] == "mlopsk8s-dev-eks-gpu"


def test_deployments_leave_replicas_to_the_hpa_and_wait_for_a_gpu_node(stack_plan):
    """The provider's default readiness wait is 10 minutes (pulumi-kubernetes docs, Deployment await logic);
    a pod on a min-0 GPU pool waits for the autoscaler, node boot and image pull first."""
    for deployment in stack_plan("eks-dev").of_type("kubernetes:apps/v1:Deployment"):
        assert deployment["ignoreChanges"] == ["spec.replicas"]
        assert deployment["customTimeouts"] == {"create": "30m", "update": "30m"}


def test_objects_wait_for_the_charts_that_bring_their_crds(stack_plan):
    """A custom resource applied before its CRD fails (`no matches for kind`): each depends on its chart."""
    plan = stack_plan("eks-dev")
    releases = {r["urn"]: r["inputs"]["chart"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    needs = {"HTTPRoute": "gateway-helm", "Gateway": "gateway-helm", "ServiceMonitor": "kube-prometheus-stack",
             "PrometheusRule": "kube-prometheus-stack"}
    by_urn = {r["urn"]: r for r in plan.resources}
    for resource in plan.resources:
        kind = resource["inputs"].get("kind") if resource["type"].startswith("kubernetes:") else None
        if kind in needs:
            charts = set()
            pending = list(resource["dependencies"])
            while pending:  # through the ModelService's dependency on the Gateway
                urn = pending.pop()
                charts.add(releases.get(urn, ""))
                pending += by_urn[urn]["dependencies"] if urn in by_urn and urn not in releases else []
            assert any(c.endswith(needs[kind]) for c in charts), (resource["name"], charts)


def test_the_model_role_reads_its_models_and_writes_its_capture_only(stack_plan):
    plan = stack_plan("eks-dev")
    policy = json.loads(next(r for r in plan.resources if r["name"] == "serve-fraud-detector-identity-policy")
                        ["inputs"]["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    bucket = "arn:aws:s3:::mlopsk8s-dev-eks-artifacts-123456789012-us-east-1"
    assert by_sid["ReadModels"]["Resource"] == f"{bucket}/models/fraud-detector/*"
    assert by_sid["WriteCapture"]["Resource"] == f"{bucket}/data-capture/fraud-detector/kubernetes/*"
    writes = [s for s in policy["Statement"] if any(a.startswith("s3:Put") for a in s["Action"])]
    assert writes == [by_sid["WriteCapture"]]
    trust = next(r for r in plan.resources if r["name"] == "serve-fraud-detector-identity-role")
    assert "system:serviceaccount:fraud-detector:fraud-detector" in trust["inputs"]["assumeRolePolicy"]
    (account,) = [r for r in plan.resources if r["type"] == "kubernetes:core/v1:ServiceAccount"
                  and r["inputs"]["metadata"]["name"] == "fraud-detector"]  # beside it: drift-monitor's
    assert account["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
        "mlopsk8s-dev-eks-k8s-serve-fraud-detector")


def test_model_servers_capture_predictions_where_the_role_may_write(stack_plan):
    """dev captures every request (monitoring.dataCapturePercent default); the drift monitor reads them."""
    for deployment in stack_plan("eks-dev").of_type("kubernetes:apps/v1:Deployment"):
        env = {e["name"]: e["value"] for e in deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["CAPTURE_DESTINATION"] == ("s3://mlopsk8s-dev-eks-artifacts-123456789012-us-east-1/"
                                              "data-capture/fraud-detector/kubernetes")
        assert env["CAPTURE_SAMPLE_PERCENT"] == "100"


def test_a_service_on_both_targets_gets_a_sagemaker_endpoint_and_a_route(tmp_path):
    """`target: both`: the endpoint export stays SageMaker's; the cluster's is under `kubernetesEndpoints`."""
    doc = yaml.safe_load((PROJECT_ROOT / "Pulumi.eks-dev.yaml").read_text(encoding="utf-8"))
    doc["config"][f"{NS}:services"]["fraud-detector"]["target"] = "both"
    both = tmp_path / "Pulumi.eks-dev.yaml"
    both.write_text(yaml.safe_dump(doc), encoding="utf-8")
    plan = plan_stack("eks-dev", config_file=both)
    assert len(plan.of_type("aws:sagemaker/endpoint:Endpoint")) == 1 and len(plan.of_type(ROUTE)) == 1
    assert plan.outputs["endpoints"]["fraud-detector"]["weights"] == {"blue": 80, "green": 20}
    assert "arn" in plan.outputs["endpoints"]["fraud-detector"]
    assert plan.outputs["kubernetesEndpoints"]["fraud-detector"]["weights"] == {"blue": 80, "green": 20}
    # one model-server build serves both (beside it, the trainer and drift-monitor job images)
    builds = [r["inputs"]["build"]["context"] for r in plan.of_type("docker:index/image:Image")]
    assert sorted(builds) == ["services/drift_monitor", "services/model_server", "services/trainer"]


def test_the_autoscaler_may_resize_only_this_clusters_node_groups(stack_plan):
    """kubernetes/autoscaler cloudprovider/aws/README.md: restrict SetDesiredCapacity / Terminate by the
    `k8s.io/cluster-autoscaler/<cluster>` tag; DescribeNodegroup lets it scale a min-0 group from zero."""
    plan = stack_plan("eks-dev")
    role = next(r for r in plan.resources if r["name"] == "autoscaler-identity-policy")
    policy = json.loads(role["inputs"]["policy"])
    scale = next(s for s in policy["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"])
    owned = "aws:ResourceTag/k8s.io/cluster-autoscaler/mlopsk8s-dev-eks-gpu"
    assert scale["Condition"] == {"StringEquals": {owned: "owned"}}
    assert any("eks:DescribeNodegroup" in s["Action"] for s in policy["Statement"])
    (release,) = [r["inputs"] for r in plan.resources if r["type"] == "kubernetes:helm.sh/v3:Release"
                  and r["inputs"]["chart"] == "cluster-autoscaler"]
    assert release["values"]["image"]["tag"] == "v1.33.1"  # the cluster's minor version
    assert release["values"]["autoDiscovery"]["clusterName"] == "mlopsk8s-dev-eks-gpu"


def test_the_route_moves_weights_only_after_the_slots_it_names_are_ready(stack_plan):
    """Pulumi waits for a Deployment's readiness before dependents update; a route updated in parallel with a
    slot that is coming back would send it traffic while its pods wait for a GPU node."""
    plan = stack_plan("eks-dev")
    (route,) = plan.of_type(ROUTE)
    deployments = {r["urn"] for r in plan.of_type("kubernetes:apps/v1:Deployment")}
    assert len(deployments) == 2 and deployments <= set(route["dependencies"])


def test_the_cluster_enforces_network_policies(stack_plan):
    """EKS accepts NetworkPolicy objects but enforces them only when the vpc-cni add-on's configuration sets
    `enableNetworkPolicy` (docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html)."""
    (addon,) = [r for r in stack_plan("eks-dev").resources if r["type"] == "aws:eks/addon:Addon"
                and r["inputs"]["addonName"] == "vpc-cni"]
    assert json.loads(addon["inputs"]["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_the_hpas_have_a_resource_metrics_api_to_scale_on(stack_plan):
    """An HPA on CPU utilization reads `metrics.k8s.io`, which Metrics Server serves; EKS does not install it (it
    is a community add-on, not a default one: repost.aws "Kubernetes Metrics Server setup recommendations"), so
    without it every HPA reports `FailedGetResourceMetric` and never scales. The stack installs the pinned chart
    (kubernetes-sigs/metrics-server, tag metrics-server-helm-chart-3.13.1)."""
    plan = stack_plan("eks-dev")
    hpas = plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert hpas and all(m["type"] == "Resource" for h in hpas for m in h["inputs"]["spec"]["metrics"])
    (release,) = [r["inputs"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")
                  if r["inputs"]["chart"] == "metrics-server"]
    assert release["repositoryOpts"]["repo"] == "https://kubernetes-sigs.github.io/metrics-server/"
    assert release["version"] == "3.13.1" and release["namespace"] == "kube-system"


def test_the_autoscaler_knows_a_new_gpu_node_is_bringing_its_gpus_up(stack_plan):
    """A node from the GPU group registers before the device plugin advertises `nvidia.com/gpu`. The cluster
    autoscaler treats a node as a GPU node still starting (and waits) only when it carries its cloud's GPU label,
    on AWS `k8s.amazonaws.com/accelerator` (kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws, `GPULabel`);
    without it the pending pod still does not fit the Ready node with 0 GPUs and another GPU node is started."""
    plan = stack_plan("eks-dev")
    (gpu,) = [r["inputs"] for r in plan.of_type("aws:eks/nodeGroup:NodeGroup") if r["inputs"].get("taints")]
    assert gpu["labels"]["k8s.amazonaws.com/accelerator"] == gpu["labels"]["mlops/accelerator"]
    deployments = plan.of_type("kubernetes:apps/v1:Deployment")
    assert all(d["inputs"]["spec"]["template"]["spec"]["nodeSelector"] == gpu["labels"] for d in deployments)
