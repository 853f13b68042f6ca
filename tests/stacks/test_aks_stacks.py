"""Kubernetes serving on AKS (aks-dev): the spot GPU pool's placement, an Azure workload identity per service account
(federated with the cluster's OIDC issuer, blob grants conditioned on the service's prefixes), NVIDIA's device
plugin and no autoscaler release, manifests valid for the cluster, and a weight change that touches the route alone."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from components.azure.workload_identity import READ_ACTIONS, WRITE_ACTIONS, blob_prefix_condition
from infra.config_errors import ConfigError
from infra.plan.engine import plan_stack
from infra.plan.fakes.azure import _guid
from infra.stackfile import PROJECT_ROOT
from tests.components.k8s.manifests import KUBERNETES_VERSION, planned_manifests
from tests.components.k8s.test_crd_schemas import _check

NS = "mlops-platform"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
FEDERATED = "azure-native:managedidentity:FederatedIdentityCredential"
BUILT_IN = ("v1", "apps/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1", "batch/v1")
READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"




def test_aks_dev_serves_its_service_on_the_cluster_not_on_azure_ml(stack_plan):
    plan = stack_plan("aks-dev")
    assert len(plan.of_type(ROUTE)) == 1
    assert not plan.of_type("azure-native:machinelearningservices:OnlineEndpoint")
    endpoint = plan.outputs["endpoints"]["fraud-detector"]
    assert endpoint["invokeUrl"].endswith("/fraud-detector/") and endpoint["weights"] == {"blue": 80, "green": 20}


def test_gpu_pods_select_the_pools_labels_and_tolerate_both_its_taints(stack_plan):
    """The spot pool carries AKS's `kubernetes.azure.com/scalesetpriority=spot:NoSchedule` beside the GPU taint
    (learn.microsoft.com/azure/aks/spot-node-pool): a pod tolerating one of them stays Pending. Read labels and
    taints from the planned pool, not from the code under test."""
    plan = stack_plan("aks-dev")
    pool = plan.named("gpu-gpu")["inputs"]
    assert len(pool["nodeTaints"]) == 2
    wanted = [dict(zip(("key", "value", "effect"), (*t.split(":")[0].split("="), t.split(":")[1]), strict=True))
              for t in pool["nodeTaints"]]
    for deployment in plan.of_type("kubernetes:apps/v1:Deployment"):
        pod = deployment["inputs"]["spec"]["template"]["spec"]
        assert pod["nodeSelector"].items() <= pool["nodeLabels"].items()
        assert [{k: t[k] for k in ("key", "value", "effect")} for t in pod["tolerations"]] == wanted
        assert all(t["operator"] == "Equal" for t in pod["tolerations"])


def test_aks_gets_nvidias_device_plugin_and_scales_the_pool_itself(stack_plan):
    """AKS installs no device plugin on a GPU pool (learn.microsoft.com/azure/aks/gpu-cluster); the pool's own
    autoscaler (enableAutoScaling, min 0) grows it, so no cluster-autoscaler release."""
    plan = stack_plan("aks-dev")
    charts = {r["inputs"]["chart"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    assert "nvidia-device-plugin" in charts
    assert not any(c.endswith("cluster-autoscaler") for c in charts)
    pool = plan.named("gpu-gpu")["inputs"]
    assert pool["enableAutoScaling"] is True and pool["minCount"] == 0


def test_the_model_servers_pods_carry_the_workload_identity_label_and_its_client_id(stack_plan):
    """The workload-identity webhook injects the token only into pods labelled `azure.workload.identity/use:
    "true"` whose service account names the identity's client id (learn.microsoft.com/azure/aks/
    workload-identity-overview)."""
    plan = stack_plan("aks-dev")
    (account,) = [r for r in plan.of_type("kubernetes:core/v1:ServiceAccount")
                  if r["inputs"]["metadata"]["name"] == "fraud-detector"]  # beside it: drift-monitor's
    (identity,) = [r for r in plan.of_type("azure-native:managedidentity:UserAssignedIdentity")
                   if r["name"].startswith("serve-fraud-detector")]
    assert account["inputs"]["metadata"]["annotations"] == {
        "azure.workload.identity/client-id": _guid(identity["name"], "client")}  # as the plan's fake answers
    for deployment in plan.of_type("kubernetes:apps/v1:Deployment"):
        template = deployment["inputs"]["spec"]["template"]
        assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"
        assert template["spec"]["serviceAccountName"] == "fraud-detector"


def test_the_identity_is_federated_with_the_clusters_issuer_for_its_service_account_only(stack_plan):
    plan = stack_plan("aks-dev")
    (federated,) = [r for r in plan.of_type(FEDERATED) if r["name"].startswith("serve-fraud-detector")]
    # The issuer as the plan's fake answers `oidcIssuerProfile.issuerURL` (the SDK's wire name).
    assert federated["inputs"]["issuer"].startswith("https://westeurope.oic.prod-aks.azure.com/")
    assert federated["inputs"]["subject"] == "system:serviceaccount:fraud-detector:fraud-detector"
    assert federated["inputs"]["audiences"] == ["api://AzureADTokenExchange"]


def test_the_model_servers_identity_reads_its_models_and_writes_its_capture_only(stack_plan):
    """No container-wide grant: Azure has no scope below a container, so each assignment carries an ABAC condition
    on the blob path (learn.microsoft.com/azure/storage/blobs/storage-auth-abac-attributes)."""
    plan = stack_plan("aks-dev")
    (identity,) = [r for r in plan.of_type("azure-native:managedidentity:UserAssignedIdentity")
                   if r["name"].startswith("serve-fraud-detector")]
    principal = _guid(identity["name"], "principal")
    grants = [r["inputs"] for r in plan.of_type(ASSIGNMENT) if r["inputs"]["principalId"] == principal]
    name = plan.of_type("azure-native:storage:StorageAccount")[0]["inputs"]["accountName"]
    account = next(g["scope"] for g in grants).split("/blobServices/")[0]
    assert account.endswith(f"/storageAccounts/{name}")
    assert {(g["roleDefinitionId"].rsplit("/", 1)[-1], g["scope"], g["condition"], g["conditionVersion"])
            for g in grants} == {
        (READER, f"{account}/blobServices/default/containers/models",
         blob_prefix_condition("fraud-detector", READ_ACTIONS), "2.0"),
        (CONTRIBUTOR, f"{account}/blobServices/default/containers/datacapture",
         blob_prefix_condition("fraud-detector/kubernetes", WRITE_ACTIONS), "2.0")}
    models = [e["value"] for d in plan.of_type("kubernetes:apps/v1:Deployment")
              for e in d["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == "MODEL_URI"]
    assert models and all(m.startswith("https://") and "/models/fraud-detector/" in m for m in models)


def test_the_blob_condition_limits_every_action_and_listing_to_the_prefix():
    condition = blob_prefix_condition("svc", WRITE_ACTIONS)
    assert "'svc/'" in condition and "'svc'" not in condition  # the trailing slash keeps `svc2/` out
    assert "@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix]" in condition
    for action in WRITE_ACTIONS:
        assert f"ActionMatches{{'{action}'}}" in condition


def test_alertmanager_gets_no_azure_identity_and_no_receiver_without_a_webhook(stack_plan):
    plan = stack_plan("aks-dev")
    (stack,) = [r["inputs"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")
                if r["inputs"]["chart"] == "kube-prometheus-stack"]
    alertmanager = stack["values"]["alertmanager"]
    assert alertmanager["serviceAccount"]["annotations"] == {}
    assert alertmanager["config"]["receivers"][0] == {"name": "platform"}
    subjects = {r["inputs"]["subject"] for r in plan.of_type(FEDERATED)}
    assert subjects == {"system:serviceaccount:fraud-detector:fraud-detector",
                        "system:serviceaccount:fraud-detector:drift-monitor"}  # no monitoring:alertmanager


def test_every_object_of_the_aks_dev_plan_validates(stack_plan):
    manifests = planned_manifests(stack_plan("aks-dev"))
    built_in = [m for m in manifests if m["apiVersion"] in BUILT_IN]
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "Namespace", "ServiceAccount"} <= {m["kind"] for m in built_in}
    for manifest in built_in:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    assert {"HTTPRoute", "Gateway", "ServiceMonitor", "PrometheusRule"} <= set(_check(manifests))


def test_the_provider_is_replaced_only_when_the_cluster_is(stack_plan):
    """pulumi/pulumi-kubernetes#1148: without clusterIdentifier an unknown kubeconfig replaces the provider."""
    (provider,) = stack_plan("aks-dev").of_type("pulumi:providers:kubernetes")
    assert provider["inputs"]["clusterIdentifier"] == stack_plan("aks-dev").named("gpu-aks")["inputs"]["resourceName"]
    assert provider["inputs"]["kubeconfig"] == "[secret]"


def test_a_service_on_both_targets_gets_an_azure_ml_endpoint_and_a_route(tmp_path):
    doc = yaml.safe_load((PROJECT_ROOT / "Pulumi.aks-dev.yaml").read_text(encoding="utf-8"))
    doc["config"][f"{NS}:services"]["fraud-detector"]["target"] = "both"
    for slot in doc["config"][f"{NS}:services"]["fraud-detector"]["slots"].values():
        slot["instanceType"] = "Standard_DS3_v2"
    both = tmp_path / "Pulumi.aks-dev.yaml"
    both.write_text(yaml.safe_dump(doc), encoding="utf-8")
    plan = plan_stack("aks-dev", config_file=both)
    assert len(plan.of_type("azure-native:machinelearningservices:OnlineEndpoint")) == 1
    assert len(plan.of_type(ROUTE)) == 1
    assert plan.outputs["kubernetesEndpoints"]["fraud-detector"]["weights"] == {"blue": 80, "green": 20}
    assert plan.outputs["endpoints"]["fraud-detector"]["invokeUrl"].endswith(".inference.ml.azure.com/score")


def test_the_service_account_waits_for_its_grants_to_propagate(stack_plan):
    """Azure role assignments take effect minutes after they are accepted (components/azure/rbac_propagation.py);
    no pod is created before its service account exists, so the account waits for the propagation that follows
    the identity's grants, and the first model download does not meet a 403."""
    plan = stack_plan("aks-dev")
    (account,) = [r for r in plan.of_type("kubernetes:core/v1:ServiceAccount")
                  if r["inputs"]["metadata"]["name"] == "fraud-detector"]  # beside it: drift-monitor's
    (propagation,) = [r for r in plan.resources if r["name"] == "serve-fraud-detector-identity-rbac-propagation"]
    assert propagation["urn"] in account["dependencies"]
    grants = {r["urn"] for r in plan.of_type(ASSIGNMENT) if r["name"].startswith("serve-fraud-detector-identity-")}
    assert len(grants) == 2 and grants <= set(propagation["dependencies"])
    # ... and for the federated credential: "It takes a few seconds for the federated identity credential to be
    # propagated" and a token request right after it may fail (learn.microsoft.com/azure/aks/
    # workload-identity-deploy-cluster).
    (federated,) = [r for r in plan.of_type(FEDERATED) if r["name"].startswith("serve-fraud-detector")]
    assert federated["urn"] in propagation["dependencies"]


def _tolerates(pod: dict, taints: list[str]) -> bool:
    tolerated = {(t["key"], t.get("value"), t["effect"]) for t in pod.get("tolerations", [])}
    return all((k, v, e) in tolerated for k, v, e in
               ((t.split("=")[0], t.split("=")[1].split(":")[0], t.split(":")[1]) for t in taints))


def test_pods_without_gpu_tolerations_have_a_pool_to_run_on(stack_plan):
    """The system pool carries `CriticalAddonsOnly=true:NoSchedule` (learn.microsoft.com/azure/aks/use-system-pools)
    and the GPU pool its GPU and spot taints: without the apps pool the drift CronJob's pods, and the Helm releases'
    (Prometheus, Pushgateway, Envoy Gateway) which tolerate neither, would stay Pending for ever."""
    plan = stack_plan("aks-dev")
    (cluster,) = plan.of_type("azure-native:containerservice:ManagedCluster")
    pools = {p["name"]: p.get("nodeTaints", []) for p in cluster["inputs"]["agentPoolProfiles"]}
    pools.update({r["inputs"]["agentPoolName"]: r["inputs"].get("nodeTaints", [])
                  for r in plan.of_type("azure-native:containerservice:AgentPool")})
    assert pools["system"] == ["CriticalAddonsOnly=true:NoSchedule"] and pools["apps"] == []
    (job,) = plan.of_type("kubernetes:batch/v1:CronJob")
    drift_pod = job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert [name for name, taints in pools.items() if _tolerates(drift_pod, taints)] == ["apps"]
    apps = plan.named("gpu-apps")["inputs"]
    assert apps["enableAutoScaling"] and apps["minCount"] == 1 and apps["mode"] == "User"


def test_a_cluster_that_serves_nothing_gets_no_apps_pool(stack_plan):
    """azure-dev's AKS serves no Kubernetes workload (Azure ML endpoints): no always-on CPU node to pay for."""
    pools = [r["inputs"]["agentPoolName"] for r in stack_plan("azure-dev").of_type(
        "azure-native:containerservice:AgentPool")]
    assert pools == ["gpu"]


def test_whoever_runs_pulumi_up_may_apply_kubernetes_objects_once_the_grant_has_propagated(stack_plan):
    """With Azure RBAC for Kubernetes authorization (`aadProfile.enableAzureRBAC`, local accounts off), an Azure role
    on the subscription, even Owner (actions, no data actions), authorizes nothing inside the cluster, and the
    cluster's creator gets no implicit admin: the deployer needs an AKS RBAC role on the cluster, and "new role
    assignments can take up to five minutes to propagate" (learn.microsoft.com/azure/aks/manage-azure-rbac).
    Without it every Helm release and object of the first `pulumi up` fails with 403 Forbidden."""
    plan = stack_plan("aks-dev")
    cluster = plan.named("gpu-aks")
    assert cluster["inputs"]["aadProfile"]["enableAzureRBAC"] and cluster["inputs"]["disableLocalAccounts"]
    (admin,) = [r for r in plan.of_type(ASSIGNMENT) if r["name"] == "gpu-api-admin"]
    assert admin["inputs"]["roleDefinitionId"].endswith("/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")  # RBAC Cluster Admin
    assert admin["inputs"]["principalId"] == "33333333-3333-3333-3333-333333333333"  # getClientConfig's objectId
    assert admin["inputs"]["principalType"] == "ServicePrincipal"  # gpu.deployerType's default: the CI deployer
    assert admin["inputs"]["scope"].endswith("/managedClusters/" + cluster["inputs"]["resourceName"])
    propagation = plan.named("gpu-api-propagation")
    assert propagation["inputs"]["seconds"] >= 300 and admin["urn"] in propagation["dependencies"]
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    assert propagation["urn"] in provider["dependencies"]


def test_a_person_deploying_is_granted_as_a_user(tmp_path):
    """The SDK sends principalType `User` when none is given, and Azure refuses an assignment whose type does not
    match the principal ("UnmatchedPrincipalType ... has type 'ServicePrincipal', which is different from specified
    PrincipalType 'User'", Azure/modern-web-app-pattern-dotnet#129). The deploy workflow logs in as an app
    registration (.github/workflows/deploy.yml), hence the default; a person running `pulumi up` says so."""
    doc = yaml.safe_load((PROJECT_ROOT / "Pulumi.aks-dev.yaml").read_text(encoding="utf-8"))
    doc["config"][f"{NS}:gpu"]["deployerType"] = "User"
    person = tmp_path / "Pulumi.aks-dev.yaml"
    person.write_text(yaml.safe_dump(doc), encoding="utf-8")
    (admin,) = [r for r in plan_stack("aks-dev", config_file=person).of_type(ASSIGNMENT)
                if r["name"] == "gpu-api-admin"]
    assert admin["inputs"]["principalType"] == "User"


def test_a_cluster_that_serves_nothing_grants_no_kubernetes_api_role(stack_plan):
    assert not [r for r in stack_plan("azure-dev").of_type(ASSIGNMENT) if r["name"].startswith("gpu-api-admin")]


def test_the_kubelet_may_pull_every_acr_image_the_pods_run(stack_plan):
    """The stack's ACR has its admin user off and no anonymous pull, and no pod carries an image pull secret: AKS
    pulls as its kubelet identity, which needs AcrPull on the registry (`az aks update --attach-acr`,
    learn.microsoft.com/azure/aks/cluster-container-registry-integration). Without it every model server and drift
    pod stays in ImagePullBackOff (401) and the Deployments never become ready."""
    plan = stack_plan("aks-dev")
    (registry,) = plan.of_type("azure-native:containerregistry:Registry")
    assert not registry["inputs"]["adminUserEnabled"] and not registry["inputs"].get("anonymousPullEnabled")
    login_server = f"{registry['inputs']['registryName']}.azurecr.io/"
    pods = [r["inputs"]["spec"]["template"]["spec"] for r in plan.of_type("kubernetes:apps/v1:Deployment")]
    pods += [r["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
             for r in plan.of_type("kubernetes:batch/v1:CronJob")]
    images = {c["image"] for pod in pods for c in pod["containers"]}
    assert len(pods) == 3 and all(i.startswith(login_server) for i in images)
    assert not any(pod.get("imagePullSecrets") for pod in pods)
    kubelet = _guid("gpu-aks", "kubelet")  # identityProfile.kubeletidentity.objectId, as the plan's fake answers
    (pull,) = [r for r in plan.of_type(ASSIGNMENT) if r["inputs"]["principalId"] == kubelet]
    assert pull["inputs"]["roleDefinitionId"].endswith("/7f951dda-4ed3-4680-a7ca-43fe172d538d")  # AcrPull
    assert pull["inputs"]["scope"].endswith("/" + registry["inputs"]["registryName"])
    assert pull["inputs"]["principalType"] == "ServicePrincipal"
    propagation = plan.named("gpu-acr-propagation")
    assert pull["urn"] in propagation["dependencies"]
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    assert propagation["urn"] in provider["dependencies"]


# nvidia-device-plugin chart 0.18.2, deployments/helm/nvidia-device-plugin/values.yaml `affinity` (lines 64-85): the
# DaemonSet's required node affinity unless the release's values replace it; each term is one way to qualify.
DEVICE_PLUGIN_AFFINITY_TERMS = ({"feature.node.kubernetes.io/pci-10de.present": "true"},
                                {"feature.node.kubernetes.io/cpu-model.vendor_id": "NVIDIA"},
                                {"nvidia.com/gpu.present": "true"})


def test_nvidias_device_plugin_schedules_on_the_gpu_pool(stack_plan):
    """The chart's default affinity wants Node Feature Discovery's labels (its NFD subchart is off) or the forcing
    label `nvidia.com/gpu.present=true`; AKS sets neither, so without the label the DaemonSet has DESIRED 0
    (NVIDIA/nvkind#20, NVIDIA/k8s-device-plugin#1934), no node advertises `nvidia.com/gpu` and every model server
    stays Pending while the autoscaler adds spot GPU nodes for nothing."""
    plan = stack_plan("aks-dev")
    (release,) = [r["inputs"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")
                  if r["inputs"]["chart"] == "nvidia-device-plugin"]
    assert release["version"] == "0.18.2"  # the chart whose default affinity is copied above
    labels = plan.named("gpu-gpu")["inputs"]["nodeLabels"]
    assert "affinity" not in release["values"]  # the chart's default applies
    assert any(term.items() <= labels.items() for term in DEVICE_PLUGIN_AFFINITY_TERMS)
    assert release["values"]["nodeSelector"].items() <= labels.items()


def test_admin_groups_replace_the_deployer_so_the_grant_does_not_follow_whoever_ran_up_last(tmp_path):
    """Granted to the caller's object id, cluster admin moved to whoever ran `pulumi up` last (a person after CI
    replaced CI's assignment, and a preview identity without it got 403 from the API server). `gpu.clusterAdmins`
    names Entra groups instead, as EKS's access entries name roles; their assignments say `Group`, or Azure refuses
    them (UnmatchedPrincipalType), and the caller's id is no longer assigned."""
    groups = ["0b6e8c1e-7f0a-4d0c-9b7e-2f7d1c3a4b5c", "9f1d2c3b-4a5e-4f60-8a7b-1c2d3e4f5a6b"]
    doc = yaml.safe_load((PROJECT_ROOT / "Pulumi.aks-dev.yaml").read_text(encoding="utf-8"))
    doc["config"][f"{NS}:gpu"]["clusterAdmins"] = groups
    stack = tmp_path / "Pulumi.aks-dev.yaml"
    stack.write_text(yaml.safe_dump(doc), encoding="utf-8")
    admins = sorted((r for r in plan_stack("aks-dev", config_file=stack).of_type(ASSIGNMENT)
                     if r["name"].startswith("gpu-api-admin")), key=lambda r: r["name"])
    assert [(r["inputs"]["principalId"], r["inputs"]["principalType"]) for r in admins] == [
        (groups[0], "Group"), (groups[1], "Group")]


def test_an_admin_that_is_not_an_object_id_exits_2_naming_the_key(tmp_path):
    doc = yaml.safe_load((PROJECT_ROOT / "Pulumi.aks-dev.yaml").read_text(encoding="utf-8"))
    doc["config"][f"{NS}:gpu"]["clusterAdmins"] = ["ml-platform-admins"]
    stack = tmp_path / "Pulumi.aks-dev.yaml"
    stack.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        plan_stack("aks-dev", config_file=stack)
    assert any(f"{NS}:gpu.clusterAdmins" in line and "'ml-platform-admins'" in line and "az ad group" in line
               for line in err.value.lines()), err.value.lines()
