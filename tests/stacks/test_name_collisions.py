"""Any two stacks in one account plan no colliding physical names.

Issue 10 (disaster-recovery runbook, region loss): `cp Pulumi.prod.yaml Pulumi.prod-usw2.yaml` with only the
region changed planned IAM roles with prod's account-wide names (`mlops-prod-eks-cluster`), so `pulumi up`
fails with EntityAlreadyExists (IAM names are unique per account, not per region:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names).
A stack that is not the bare environment now qualifies its names (`components.naming.stack_qualifier`).

Scopes: a name unique per account / subscription / globally must differ between any two stacks; a name
unique per region must differ between two stacks in one region; names scoped to a parent (an IAM role's
inline policy, a resource group's children, a cluster's node groups) follow their parent. Every stack file
is paired with every other, and every prod stack file with a copy of itself in another region (the runbook's
step), all assumed to share one AWS account and one Azure subscription.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from infra.plan.engine import Plan, plan_stack
from infra.stackfile import PROJECT_ROOT, stack_names
from infra.targets import target_for

ACCOUNT, REGION = "account", "region"
NAME_SCOPES = {
    # type: (physical-name input, scope)
    "aws:iam/role:Role": ("name", ACCOUNT),
    "aws:iam/policy:Policy": ("name", ACCOUNT),
    "aws:iam/instanceProfile:InstanceProfile": ("name", ACCOUNT),
    "aws:s3/bucket:Bucket": ("bucket", ACCOUNT),  # global across all accounts, even stricter
    "aws:sagemaker/endpoint:Endpoint": ("name", REGION),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": ("name", REGION),
    "aws:sagemaker/model:Model": ("name", REGION),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": ("name", REGION),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": ("name", REGION),
    "aws:eks/cluster:Cluster": ("name", REGION),
    "aws:ecr/repository:Repository": ("name", REGION),
    "aws:sns/topic:Topic": ("name", REGION),
    "aws:kms/alias:Alias": ("name", REGION),
    "aws:cloudwatch/logGroup:LogGroup": ("name", REGION),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", REGION),
    "aws:cloudwatch/dashboard:Dashboard": ("dashboardName", REGION),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", REGION),
    "azure-native:resources:ResourceGroup": ("resourceGroupName", ACCOUNT),
    "azure-native:storage:StorageAccount": ("accountName", ACCOUNT),
    "azure-native:containerregistry:Registry": ("registryName", ACCOUNT),
    "azure-native:keyvault:Vault": ("vaultName", ACCOUNT),
    "azure-native:machinelearningservices:OnlineEndpoint": ("endpointName", REGION),  # part of the scoring URI
    # GCP: a project is the account; bucket names are global, service account and dataset ids per project,
    # key rings (never deletable), registries and clusters per project and location.
    "gcp:storage/bucket:Bucket": ("name", ACCOUNT),
    "gcp:serviceaccount/account:Account": ("accountId", ACCOUNT),
    "gcp:bigquery/dataset:Dataset": ("datasetId", ACCOUNT),
    "gcp:kms/keyRing:KeyRing": ("name", REGION),
    "gcp:artifactregistry/repository:Repository": ("repositoryId", REGION),
    "gcp:container/cluster:Cluster": ("name", REGION),
    "gcp:compute/network:Network": ("name", ACCOUNT),
}
OTHER_REGION = {"aws": ("us-west-2", "eu-west-1"), "azure": ("northeurope", "westus3"),
                "gcp": ("us-central1", "europe-west1")}


def _names(plan: Plan) -> dict[tuple[str, str], str]:
    """(scope, name) -> the resource type and logical name declaring it."""
    out = {}
    for resource in plan.resources:
        prop, scope = NAME_SCOPES.get(resource["type"], (None, None))
        name = resource["inputs"].get(prop) if prop else None
        if isinstance(name, str):
            out[(scope, name)] = f"{resource['type']} {resource['name']}"
    return out


def _region_copy(stack: str, tmp: Path) -> tuple[str, Path, str]:
    """The runbook's step: the stack file copied with only the region changed (stack `<stack>-dr`)."""
    document = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())
    cloud = document["config"]["mlops-platform:cloud"]
    key = target_for(cloud).region_key
    region = next(r for r in OTHER_REGION[cloud] if r != document["config"][key])
    document["config"][key] = region
    path = tmp / f"Pulumi.{stack}-dr.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return f"{stack}-dr", path, region


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, tuple[str, dict[tuple[str, str], str]]]:
    """stack -> (region, names) for every stack file (its committed plan) and a prod stack's region copy."""
    tmp = tmp_path_factory.mktemp("dr")
    out = {}
    for stack in stack_names():
        config = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        if config["mlops-platform:cloud"] not in OTHER_REGION:
            continue  # the local platform's names live on one Docker host, shared with no other stack
        plan = Plan.from_dict(yaml.safe_load((PROJECT_ROOT / "plans" / f"{stack}.json").read_text()))
        out[stack] = (plan.outputs["region"], _names(plan))
        if config.get("mlops-platform:environment") == "prod":
            copy, path, region = _region_copy(stack, tmp)
            out[copy] = (region, _names(plan_stack(copy, path)))
    return out


def test_every_pair_of_stacks_in_one_account_plans_distinct_names(plans):
    collisions = []
    for (a, (region_a, names_a)), (b, (region_b, names_b)) in itertools.combinations(sorted(plans.items()), 2):
        for (scope, name), what in names_a.items():
            if (scope, name) in names_b and (scope == ACCOUNT or region_a == region_b):
                collisions.append(f"{a} and {b}: {scope}-wide name {name!r} ({what})")
    assert not collisions, "\n".join(collisions)


def test_the_check_sees_account_wide_names_of_every_stack(plans):
    for stack, (_, names) in plans.items():
        assert sum(scope == ACCOUNT for scope, _ in names) >= 3, stack


def test_bare_environment_stacks_keep_their_names_and_a_copy_is_qualified(plans):
    _, prod = plans["prod"]
    _, copy = plans["prod-dr"]
    assert (ACCOUNT, "mlops-prod-eks-cluster") in prod  # unchanged: renaming would replace prod's roles
    assert (ACCOUNT, "mlops-prod-dr-eks-cluster") in copy
