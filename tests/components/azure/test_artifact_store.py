"""ArtifactStore (Azure) under mocks: the storage account's secure settings, containers, lifecycle, prod protection."""

from __future__ import annotations

import pytest

from components.azure.artifact_store import CONTAINERS, ArtifactStore, ArtifactStoreArgs
from infra.plan.engine import plan_program
from tests.components.azure.support import SUBNET, customer_key, every, names, one, scope


def _store(env: str, **overrides):
    args = ArtifactStoreArgs(**{"names": names(env), "scope": scope(), "key": customer_key(), "subnet_ids": [SUBNET],
                                "protect": env == "prod", **overrides})
    return lambda: ArtifactStore("art", args)


@pytest.fixture(scope="module")
def dev():
    return plan_program(_store("dev"), stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(_store("prod"), stack="prod")


def test_account_is_https_only_tls12_private_and_entra_only(dev):
    account = one(dev, ":StorageAccount")["inputs"]
    assert (account["enableHttpsTrafficOnly"], account["minimumTlsVersion"]) == (True, "TLS1_2")
    assert (account["allowBlobPublicAccess"], account["allowSharedKeyAccess"]) == (False, False)
    assert account["defaultToOAuthAuthentication"] is True and account["allowCrossTenantReplication"] is False


def test_account_encrypts_twice_with_the_stacks_key(dev):
    encryption = one(dev, ":StorageAccount")["inputs"]["encryption"]
    assert encryption["requireInfrastructureEncryption"] is True and encryption["keySource"] == "Microsoft.Keyvault"
    assert encryption["keyVaultProperties"] == {"keyName": "mlops-dev-cmk", "keyVaultUri": "https://kv.vault.azure.net/"}
    assert encryption["encryptionIdentity"]["encryptionUserAssignedIdentity"] == customer_key().identity_id


def test_network_rules_deny_by_default_and_admit_the_stacks_subnets(dev):
    rules = one(dev, ":StorageAccount")["inputs"]["networkRuleSet"]
    assert (rules["defaultAction"], rules["bypass"]) == ("Deny", "AzureServices")
    assert [(r["virtualNetworkResourceId"], r["action"]) for r in rules["virtualNetworkRules"]] == [(SUBNET, "Allow")]


def test_workspace_compatible_account_without_hierarchical_namespace(dev):
    """Azure ML refuses a workspace's default storage account with HNS (ADLS Gen2) enabled."""
    assert one(dev, ":StorageAccount")["inputs"]["isHnsEnabled"] is False


def test_blobs_are_versioned_and_soft_deleted(dev):
    service = one(dev, ":BlobServiceProperties")["inputs"]
    assert service["isVersioningEnabled"] is True
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 14}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 14}


def test_private_containers_for_models_capture_and_monitoring_after_the_blob_service(dev):
    containers = every(dev, ":BlobContainer")
    assert sorted(c["inputs"]["containerName"] for c in containers) == sorted(CONTAINERS)
    assert {c["inputs"]["publicAccess"] for c in containers} == {"None"}
    service = one(dev, ":BlobServiceProperties")["urn"]
    assert all(service in c["dependencies"] for c in containers)


def test_lifecycle_expires_capture_and_monitoring_and_old_versions(plan_component):
    plan = plan_component(_store("dev", retention_days=30, noncurrent_version_days=5))
    rules = {r["name"]: r["definition"] for r in one(plan, ":ManagementPolicy")["inputs"]["policy"]["rules"]}
    captured = rules["expire-captured-data"]
    assert captured["filters"]["prefixMatch"] == ["datacapture/", "monitoring/"]
    assert captured["actions"]["baseBlob"]["delete"] == {"daysAfterModificationGreaterThan": 30}
    assert "prefixMatch" not in rules["expire-noncurrent-versions"]["filters"]  # models keep their current versions
    assert rules["expire-noncurrent-versions"]["actions"]["version"]["delete"] == {"daysAfterCreationGreaterThan": 5}


def test_prod_protects_and_retains_a_zone_redundant_account(dev, prod):
    account, dev_account = one(prod, ":StorageAccount"), one(dev, ":StorageAccount")
    assert (account["protect"], account["retainOnDelete"], account["inputs"]["sku"]["name"]) == (
        True, True, "Standard_ZRS")
    assert (dev_account["protect"], dev_account["inputs"]["sku"]["name"]) == (False, "Standard_LRS")


def test_account_name_is_global_lowercase_alphanumeric_and_stack_unique(dev, prod):
    dev_name, prod_name = (one(p, ":StorageAccount")["inputs"]["accountName"] for p in (dev, prod))
    for name in (dev_name, prod_name):
        assert 3 <= len(name) <= 24 and name.isalnum() and name == name.lower()
    assert dev_name != prod_name
