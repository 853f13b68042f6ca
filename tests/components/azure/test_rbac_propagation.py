"""RbacPropagation: grants are waited for before use (create / changed grants), not on every run."""

from __future__ import annotations

from components.azure.rbac_propagation import PropagationProvider
from tests.components.azure.support import every

PROPAGATION = "pulumi-python:dynamic/azure:RbacPropagation"


def _provider():
    slept: list[float] = []
    return PropagationProvider(slept.append), slept


def test_new_grants_are_waited_for():
    provider, slept = _provider()
    provider.create({"assignments": ["a", "b"], "seconds": 120})
    assert slept == [120.0]


def test_unchanged_grants_cost_nothing_on_the_next_up():
    provider, slept = _provider()
    props = {"assignments": ["a", "b"], "seconds": 120}
    assert not provider.diff("id", props, {"assignments": ["b", "a"], "seconds": 120}).changes
    assert slept == []


def test_a_new_grant_is_waited_for_again_and_nothing_is_ever_replaced():
    provider, slept = _provider()
    old, new = {"assignments": ["a"], "seconds": 120}, {"assignments": ["a", "c"], "seconds": 120}
    diff = provider.diff("id", old, new)
    assert diff.changes and diff.replaces == []
    provider.update("id", old, new)
    assert slept == [120.0]


def test_every_grant_consumer_waits_for_the_propagation(stack_plan):
    """Storage / ACR / workspace (CMK), the AKS cluster (KMS, subnet) and the deployments (AcrPull, blob read)
    would otherwise use a grant Azure has accepted but not yet applied."""
    plan = stack_plan("azure-prod")
    waits = {r["name"]: r for r in every(plan, PROPAGATION)}
    assert set(waits) == {"keyvault-cmk-propagation", "gpu-rbac-propagation",
                          "fraud-detector-endpoint-rbac-propagation"}
    consumers = {"keyvault-cmk-propagation": (":StorageAccount", ":Registry", ":machinelearningservices:Workspace"),
                 "gpu-rbac-propagation": (":ManagedCluster",),
                 "fraud-detector-endpoint-rbac-propagation": (":OnlineDeployment",)}
    for wait, suffixes in consumers.items():
        for suffix in suffixes:
            for consumer in every(plan, suffix):
                assert waits[wait]["urn"] in consumer["dependencies"], (wait, consumer["name"])


def test_role_assignments_name_their_principal_type(stack_plan):
    """A role assignment to a just-created identity fails with PrincipalNotFound unless principalType is set
    (Azure/avdaccelerator#99; Azure RBAC docs, "new service principal")."""
    plan = stack_plan("azure-dev")
    assert {r["inputs"]["principalType"] for r in every(plan, ":RoleAssignment")} == {"ServicePrincipal"}
