"""KeyVault under mocks: RBAC-only vault with soft delete and purge protection, a rotating key, the CMK identity."""

from __future__ import annotations

import pytest

from components.azure.key_vault import KeyVault, KeyVaultArgs
from components.azure.naming import AzureNames
from components.azure.roles import ROLES
from components.naming import Namer
from infra.plan.engine import plan_program
from tests.components.azure.support import names, one, role_ids, scope


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: KeyVault("kv", KeyVaultArgs(names=names("dev"), scope=scope())), stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(lambda: KeyVault("kv", KeyVaultArgs(names=names("prod"), scope=scope(), environment="prod",
                                                            protect=True)), stack="prod")


def test_vault_authorizes_with_rbac_and_keeps_deleted_keys(dev):
    """Customer-managed keys for storage / ACR / Azure ML require soft delete and purge protection on the vault
    (learn.microsoft.com: "Customer-managed keys for Azure Storage encryption", key vault requirements)."""
    props = one(dev, ":Vault")["inputs"]["properties"]
    assert props["enableRbacAuthorization"] is True and "accessPolicies" not in props
    assert (props["enableSoftDelete"], props["enablePurgeProtection"]) == (True, True)
    assert props["sku"] == {"family": "A", "name": "standard"}


def test_retention_is_the_minimum_in_dev_and_the_maximum_in_prod(dev, prod):
    assert one(dev, ":Vault")["inputs"]["properties"]["softDeleteRetentionInDays"] == 7
    assert one(prod, ":Vault")["inputs"]["properties"]["softDeleteRetentionInDays"] == 90


def test_retention_change_replaces_the_vault_instead_of_failing_the_update(dev):
    """softDeleteRetentionInDays cannot change once a vault exists (Key Vault soft-delete overview)."""
    assert "properties.softDeleteRetentionInDays" in one(dev, ":Vault")["replaceOnChanges"]


def test_key_rotates_before_it_expires(dev):
    key = one(dev, ":keyvault:Key")["inputs"]["properties"]
    assert (key["kty"], key["keySize"]) == ("RSA", 3072)
    policy = key["rotationPolicy"]
    assert policy["attributes"] == {"expiryTime": "P1Y"}
    assert policy["lifetimeActions"] == [{"action": {"type": "rotate"}, "trigger": {"timeBeforeExpiry": "P30D"}}]


def test_the_cmk_identity_may_only_wrap_and_unwrap(dev):
    assert role_ids(dev) == {"kv-cmk-access": ROLES["Key Vault Crypto Service Encryption User"]}
    grant = one(dev, ":RoleAssignment")
    identity = one(dev, ":UserAssignedIdentity")
    assert grant["inputs"]["principalType"] == "ServicePrincipal"
    assert identity["urn"] in grant["dependencies"] and one(dev, ":Vault")["urn"] in grant["dependencies"]


def test_prod_protects_vault_and_key_dev_does_not(dev, prod):
    assert one(prod, ":Vault")["protect"] and one(prod, ":keyvault:Key")["protect"]
    assert not any(r["protect"] for r in dev.resources)


def test_vault_name_fits_key_vaults_global_rule(dev):
    vault = one(dev, ":Vault")["inputs"]["vaultName"]
    assert 3 <= len(vault) <= 24 and vault[0].isalpha() and "--" not in vault


def test_a_prefix_too_long_for_a_vault_name_is_shortened_not_refused():
    long = AzureNames(Namer("a-very-long-team-prefix-name", "staging"), "westeurope")
    assert len(long.key_vault()) <= 24
    KeyVaultArgs(names=long, scope=scope(), environment="staging")  # does not raise


def test_a_recreated_stack_asks_for_the_same_vault_name_and_a_new_prefix_avoids_the_deleted_one():
    """A soft-deleted vault keeps its global name for the retention period (Key Vault soft-delete overview), so a
    stack re-created from the same config collides with it until recovered (docs/runbooks/disaster-recovery.md);
    changing namePrefix moves every global name away from the deleted ones."""
    first, again = names("dev"), names("dev")
    assert first.key_vault() == again.key_vault()
    moved = names("dev", prefix="mlops2")
    assert {moved.key_vault(), moved.storage_account(), moved.container_registry()}.isdisjoint(
        {first.key_vault(), first.storage_account(), first.container_registry()})
