"""The GCP rules pass on both GCP plans and fail on deliberately broken variants of them."""

from __future__ import annotations

import copy
import json

import pytest

from infra.stackfile import PROJECT_ROOT
from policy.check import run_pack


def _plan(stack: str) -> dict:
    return json.loads((PROJECT_ROOT / "plans" / f"{stack}.json").read_text(encoding="utf-8"))


def _of_type(plan: dict, suffix: str, name: str = "") -> dict:
    return next(r for r in plan["resources"] if r["type"].endswith(suffix) and r["name"].endswith(name))


def _violations(plan: dict, policy: str) -> list[str]:
    return [v.message for v in run_pack(plan) if v.policy == policy]


@pytest.mark.parametrize("stack", ["gcp-dev", "gcp-prod"])
def test_both_gcp_plans_pass_the_pack(stack):
    assert [f"{v.policy}: {v.message}" for v in run_pack(_plan(stack)) if v.level == "mandatory"] == []


def test_a_bucket_created_before_its_agent_may_use_the_key_is_refused():
    """cloud.google.com/storage/docs/encryption/using-customer-managed-keys: the agent needs the key first."""
    plan = copy.deepcopy(_plan("gcp-dev"))
    bucket = _of_type(plan, ":Bucket")
    bucket["dependencies"] = [u for u in bucket["dependencies"] if "CryptoKeyIAMMember" not in u]
    assert any("does not depend on the grant" in m for m in _violations(plan, "gcp-cmek-after-grant"))


def test_a_prod_slot_with_traffic_on_one_replica_is_refused():
    plan = copy.deepcopy(_plan("gcp-prod"))
    _of_type(plan, "vertex:VertexDeployment")["inputs"]["slots"]["green"]["minReplicas"] = 1
    assert [m.splitlines()[-1] for m in _violations(plan, "gcp-vertex-deployment-order")] == [
        "slot green carries 10% in prod on 1 replica(s); run at least 2"]


def test_an_endpoint_declaring_its_own_split_is_refused():
    """GoogleCloudPlatform/magic-modules#12110: the split can only name deployed models."""
    plan = copy.deepcopy(_plan("gcp-dev"))
    _of_type(plan, ":AiEndpoint")["inputs"]["trafficSplit"] = '{"123": 100}'
    assert any("magic-modules#12110" in m for m in _violations(plan, "gcp-secure-resources"))


def test_nodes_on_the_compute_default_account_are_refused():
    plan = copy.deepcopy(_plan("gcp-dev"))
    _of_type(plan, ":NodePool", "gpu")["inputs"]["nodeConfig"]["serviceAccount"] = (
        "123456789012-compute@developer.gserviceaccount.com")
    assert any("Compute Engine default account" in m for m in _violations(plan, "gcp-secure-resources"))


@pytest.mark.parametrize(("suffix", "mutate", "policy", "message"), [
    (":Bucket", lambda r: r["inputs"].update(publicAccessPrevention="inherited"), "no-public-buckets",
     "publicAccessPrevention is not 'enforced'"),
    (":Bucket", lambda r: r["inputs"].update(uniformBucketLevelAccess=False), "no-public-buckets",
     "uniformBucketLevelAccess is not true"),
    (":Repository", lambda r: r["inputs"].pop("kmsKeyName"), "encryption-customer-managed-keys", "kmsKeyName"),
    (":Cluster", lambda r: r["inputs"]["privateClusterConfig"].update(enablePrivateEndpoint=False),
     "prod-private-cluster-endpoint", "enablePrivateEndpoint must be true in prod"),
    (":Cluster", lambda r: r.update(protect=False), "prod-protect-stateful", "without protect=True"),
    (":AiEndpoint", lambda r: r["inputs"]["labels"].pop("owner"), "required-tags", "owner"),
])
def test_generic_rules_catch_gcp_regressions_in_prod(suffix, mutate, policy, message):
    plan = copy.deepcopy(_plan("gcp-prod"))
    mutate(_of_type(plan, suffix))
    assert any(message in m for m in _violations(plan, policy))


def test_an_owner_grant_to_a_workload_is_refused():
    plan = copy.deepcopy(_plan("gcp-prod"))
    next(r for r in plan["resources"] if r["type"] == "gcp:projects/iAMMember:IAMMember")["inputs"]["role"] = (
        "roles/editor")
    assert any("basic role roles/editor" in m for m in _violations(plan, "least-privilege-iam"))
