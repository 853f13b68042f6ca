"""The Azure rules pass on both Azure plans and fail on deliberately insecure variants of them."""

from __future__ import annotations

import copy
import json

import pytest

from infra.stackfile import PROJECT_ROOT
from policy.check import run_pack


def _plan(stack: str) -> dict:
    return json.loads((PROJECT_ROOT / "plans" / f"{stack}.json").read_text(encoding="utf-8"))


def _of_type(plan: dict, suffix: str) -> dict:
    return next(r for r in plan["resources"] if r["type"].endswith(suffix))


def _violations(plan: dict, policy: str) -> list[str]:
    return [v.message for v in run_pack(plan) if v.policy == policy]


@pytest.mark.parametrize("stack", ["azure-dev", "azure-prod"])
def test_both_azure_plans_pass_the_pack(stack):
    assert [v for v in run_pack(_plan(stack)) if v.level == "mandatory"] == []


def test_traffic_that_does_not_wait_for_its_deployment_is_refused():
    """Azure/azureml-examples#3311: the split may only name deployments that exist."""
    plan = copy.deepcopy(_plan("azure-prod"))
    traffic = _of_type(plan, "azureml:EndpointTraffic")
    traffic["dependencies"] = [u for u in traffic["dependencies"] if not u.endswith("fraud-detector-endpoint-green")]
    assert any("'green' but does not depend on it" in m for m in _violations(plan, "azure-traffic-after-deployments"))


def test_an_endpoint_declaring_traffic_itself_is_refused():
    plan = copy.deepcopy(_plan("azure-dev"))
    _of_type(plan, ":OnlineEndpoint")["inputs"]["properties"]["traffic"] = {"blue": 100}
    assert any("#3311" in m for m in _violations(plan, "azure-secure-resources"))


@pytest.mark.parametrize(("suffix", "path", "value", "message"), [
    (":Vault", ("properties", "enablePurgeProtection"), False, "enablePurgeProtection must be true"),
    (":StorageAccount", ("allowSharedKeyAccess",), True, "allowSharedKeyAccess must be false"),
    (":Registry", ("adminUserEnabled",), True, "adminUserEnabled must be false"),
    (":Registry", ("publicNetworkAccess",), "Enabled", "publicNetworkAccess must be Disabled in prod"),
    (":OnlineEndpoint", ("properties", "authMode"), "Key", "authMode must be AADToken in prod"),
])
def test_insecure_prod_variants_fail(suffix, path, value, message):
    plan = copy.deepcopy(_plan("azure-prod"))
    target = _of_type(plan, suffix)["inputs"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert any(message in m for m in _violations(plan, "azure-secure-resources"))
