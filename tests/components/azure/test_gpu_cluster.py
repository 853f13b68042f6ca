"""GpuCluster (AKS) under mocks: identity, Entra RBAC, OIDC + workload identity, pools, taints, spot, privacy."""

from __future__ import annotations

import base64

import pytest
import yaml

from components.azure.gpu_cluster import (
    GPU_TAINT,
    SPOT_TAINT,
    GpuCluster,
    GpuClusterArgs,
    gpu_pool_settings,
    user_kubeconfig,
)
from components.azure.roles import ROLES
from infra.plan.engine import plan_program
from tests.components.azure.support import SUBNET, VAULT, names, one, role_ids, scope

KEY = "https://kv.vault.azure.net/keys/cmk/0123"


def _args(env: str, **overrides) -> GpuClusterArgs:
    prod = env == "prod"
    base = {"names": names(env), "scope": scope(), "subnet_id": SUBNET, "vault_id": VAULT, "key_version_id": KEY,
            "log_analytics_id": "/logs", "private": prod, "authorized_cidrs": () if prod else ("203.0.113.0/24",),
            "spot": not prod, "min_nodes": 1 if prod else 0, "max_nodes": 6 if prod else 2, "protect": prod}
    return GpuClusterArgs(**{**base, **overrides})


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: GpuCluster("gpu", _args("dev")), stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(lambda: GpuCluster("gpu", _args("prod")), stack="prod")


def test_control_plane_identity_is_granted_kms_and_subnet_before_the_cluster(dev):
    """A system identity only exists after the cluster, too late for KMS (AKS KMS etcd encryption docs)."""
    cluster = one(dev, ":ManagedCluster")
    assert cluster["inputs"]["identity"]["type"] == "UserAssigned"
    assert role_ids(dev) == {"gpu-kms-access": ROLES["Key Vault Crypto User"],
                             "gpu-subnet-access": ROLES["Network Contributor"]}
    grants = {r["urn"] for r in dev.resources if r["type"].endswith(":RoleAssignment")}
    assert grants <= set(cluster["dependencies"])


def test_entra_rbac_without_local_accounts_oidc_and_workload_identity(dev):
    cluster = one(dev, ":ManagedCluster")["inputs"]
    assert (cluster["enableRBAC"], cluster["disableLocalAccounts"]) == (True, True)
    assert cluster["aadProfile"]["managed"] is True and cluster["aadProfile"]["enableAzureRBAC"] is True
    assert cluster["oidcIssuerProfile"] == {"enabled": True}
    assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert cluster["securityProfile"]["azureKeyVaultKms"]["keyId"] == KEY


def test_system_pool_only_runs_critical_addons(dev, prod):
    for plan, count in ((dev, 1), (prod, 2)):
        (system,) = one(plan, ":ManagedCluster")["inputs"]["agentPoolProfiles"]
        assert (system["mode"], system["count"], system["nodeTaints"]) == (
            "System", count, ["CriticalAddonsOnly=true:NoSchedule"])


def test_gpu_pool_autoscales_from_the_catalog_size_with_the_gpu_taint(prod):
    pool = one(prod, ":AgentPool")
    inputs = pool["inputs"]
    assert (inputs["mode"], inputs["vmSize"], inputs["enableAutoScaling"]) == ("User", "Standard_NC4as_T4_v3", True)
    assert (inputs["minCount"], inputs["maxCount"], inputs["nodeTaints"]) == (1, 6, [GPU_TAINT])
    assert "count" in pool["ignoreChanges"]  # the autoscaler owns it
    assert {"nodeTaints", "scaleSetPriority", "vmSize"} <= set(pool["replaceOnChanges"])


def test_dev_gpu_pool_is_spot_and_declares_the_taint_aks_adds(dev):
    """AKS adds the spot taint itself; not declaring it would diff on every update (AKS spot node pool docs)."""
    inputs = one(dev, ":AgentPool")["inputs"]
    assert (inputs["scaleSetPriority"], inputs["scaleSetEvictionPolicy"], inputs["spotMaxPrice"]) == (
        "Spot", "Delete", -1)
    assert inputs["nodeTaints"] == [GPU_TAINT, SPOT_TAINT] and inputs["minCount"] == 0


def test_explicit_vm_size_overrides_the_catalog(plan_component):
    plan = plan_component(lambda: GpuCluster("gpu", _args("dev", vm_size="Standard_NC24ads_A100_v4")))
    assert one(plan, ":AgentPool")["inputs"]["vmSize"] == "Standard_NC24ads_A100_v4"


def test_prod_api_is_private_dev_restricted_to_the_listed_cidrs(dev, prod):
    assert one(prod, ":ManagedCluster")["inputs"]["apiServerAccessProfile"] == {"enablePrivateCluster": True}
    access = one(dev, ":ManagedCluster")["inputs"]["apiServerAccessProfile"]
    assert access == {"enablePrivateCluster": False, "authorizedIPRanges": ["203.0.113.0/24"]}


def test_prod_protects_the_cluster_on_the_paid_tier(dev, prod):
    cluster = one(prod, ":ManagedCluster")
    assert cluster["protect"] and cluster["inputs"]["sku"]["tier"] == "Standard"
    assert not one(dev, ":ManagedCluster")["protect"]


def test_spot_settings_are_all_or_nothing():
    assert "scale_set_priority" not in gpu_pool_settings(False, 0, 2)
    assert gpu_pool_settings(True, 0, 2)["scale_set_eviction_policy"] == "Delete"


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"min_nodes": 3, "max_nodes": 1}, r"min_nodes \(3\) must be <= max_nodes \(1\)"),
    ({"private": True, "authorized_cidrs": ("203.0.113.0/24",)}, "a private cluster takes none"),
])
def test_conflicting_settings_are_refused(overrides, problem):
    with pytest.raises(ValueError, match=problem):
        _args("dev", **overrides)


# `az aks get-credentials` / listClusterUserCredential(format=exec) as AKS returns it (Azure/kubelogin#193).
AKS_EXEC_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster: {server: 'https://mlops-dev-aks.hcp.westeurope.azmk8s.io:443'}
  name: mlops-dev-aks
contexts:
- context: {cluster: mlops-dev-aks, user: clusterUser_rg_mlops-dev-aks}
  name: mlops-dev-aks
current-context: mlops-dev-aks
users:
- name: clusterUser_rg_mlops-dev-aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630,
             --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, tenant, --login, devicecode]
      command: kubelogin
      env: null
"""


def test_the_kubeconfig_logs_in_through_the_azure_cli_not_a_device_code_prompt():
    """AKS's exec kubeconfig pins `--login devicecode` (Azure/kubelogin#193): the Kubernetes provider's first call
    under `pulumi up` would print a device code and wait for a browser sign-in, which CI never does. The stack's
    kubeconfig logs in with the Azure CLI's session (`az login`, as docs/runbooks/deploy.md asks); everything else
    (server id, tenant, cluster) is kept, and AAD_LOGIN_METHOD still overrides the mode."""
    converted = yaml.safe_load(user_kubeconfig(base64.b64encode(AKS_EXEC_KUBECONFIG.encode()).decode()))
    original = yaml.safe_load(AKS_EXEC_KUBECONFIG)
    exec_ = converted["users"][0]["user"]["exec"]
    assert exec_["command"] == "kubelogin"
    assert exec_["args"][exec_["args"].index("--login") + 1] == "azurecli" and "devicecode" not in exec_["args"]
    assert [a for a in exec_["args"] if a not in ("devicecode", "azurecli")] == [
        a for a in original["users"][0]["user"]["exec"]["args"] if a != "devicecode"]
    assert {k: v for k, v in converted.items() if k != "users"} == {k: v for k, v in original.items() if k != "users"}


def test_a_kubeconfig_without_a_login_flag_gets_one():
    doc = yaml.safe_load(AKS_EXEC_KUBECONFIG)
    doc["users"][0]["user"]["exec"]["args"] = ["get-token", "--server-id", "x"]
    converted = yaml.safe_load(user_kubeconfig(base64.b64encode(yaml.safe_dump(doc).encode()).decode()))
    assert converted["users"][0]["user"]["exec"]["args"] == ["get-token", "--server-id", "x", "--login", "azurecli"]
