"""GpuCluster: private-by-default EKS with secrets encryption, IRSA, and system + GPU node groups."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.aws.gpu_cluster import (
    CONTROL_PLANE_LOGS,
    GpuCluster,
    GpuClusterArgs,
    ec2_instance_types,
    kubeconfig,
    resolve_gpu_nodes,
)
from components.aws.naming import check_aws_name
from components.naming import Namer
from infra.plan.engine import plan_program

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/stack"
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def _args(env: str = "dev", **overrides) -> GpuClusterArgs:
    return GpuClusterArgs(**{"namer": Namer("mlops", env), "subnet_ids": ["subnet-a", "subnet-b"],
                             "kms_key_arn": KEY_ARN, **overrides})


def _build(args: GpuClusterArgs) -> None:
    cluster = GpuCluster("gpu", args)
    pulumi.export("kubeconfig", cluster.kubeconfig)


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: _build(_args(allow_public_endpoint=True, public_access_cidrs=("203.0.113.0/24",),
                                             accelerator="a10g", spot=True, gpu_max_nodes=3,
                                             admin_role_arns=("arn:aws:iam::123456789012:role/platform-admin",))),
                        stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(lambda: _build(_args("prod", protect=True, gpu_min_nodes=1, gpu_max_nodes=4)), stack="prod")


def _cluster(plan) -> dict:
    return plan.of_type(CLUSTER)[0]


def _group(plan, group: str) -> dict:
    return plan.named(f"gpu-{group}")["inputs"]


def _role(plan, role: str) -> tuple[dict, list[str]]:
    iam_role = plan.named(f"gpu-{role}-role")
    attached = [r["inputs"]["policyArn"] for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if r["inputs"]["role"] == iam_role["inputs"]["name"]]
    return json.loads(iam_role["inputs"]["assumeRolePolicy"]), attached


def test_secrets_are_encrypted_with_the_stack_key(dev):
    assert _cluster(dev)["inputs"]["encryptionConfig"] == {"provider": {"keyArn": KEY_ARN}, "resources": ["secrets"]}


def test_all_control_plane_logs_go_to_an_encrypted_log_group(dev):
    group = dev.named("gpu-control-plane-logs")
    assert _cluster(dev)["inputs"]["enabledClusterLogTypes"] == list(CONTROL_PLANE_LOGS)
    assert group["inputs"]["name"] == "/aws/eks/mlops-dev-gpu/cluster" and group["inputs"]["kmsKeyId"] == KEY_ARN
    assert group["urn"] in _cluster(dev)["dependencies"]


def test_authentication_uses_access_entries(dev):
    access = _cluster(dev)["inputs"]["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
    assert dev.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")[0]["inputs"]["accessScope"] == {
        "type": "cluster"}


def test_prod_endpoint_is_private_only(prod):
    vpc = _cluster(prod)["inputs"]["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc


def test_dev_public_endpoint_is_restricted_to_the_configured_cidrs(dev):
    vpc = _cluster(dev)["inputs"]["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


@pytest.mark.parametrize("cidrs", [(), ("0.0.0.0/0",)])
def test_public_endpoint_without_a_narrow_cidr_is_rejected(cidrs):
    with pytest.raises(ValueError, match="public_access_cidrs"):
        _args(allow_public_endpoint=True, public_access_cidrs=cidrs)


def test_cidrs_without_public_endpoint_are_rejected():
    with pytest.raises(ValueError, match="allow_public_endpoint=False"):
        _args(public_access_cidrs=("203.0.113.0/24",))


def test_prod_cluster_is_protected(prod, dev):
    assert _cluster(prod)["protect"] is True and _cluster(dev)["protect"] is False


def test_cluster_role_has_only_the_cluster_policy_plus_key_use(dev):
    trust, attached = _role(dev, "cluster")
    kms = json.loads(dev.named("gpu-cluster-kms")["inputs"]["policy"])["Statement"]
    assert trust["Statement"][0]["Principal"] == {"Service": "eks.amazonaws.com"}
    assert attached == ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]
    assert [s["Resource"] for s in kms] == [KEY_ARN]


def test_node_role_has_only_worker_and_registry_read_policies(dev):
    _, attached = _role(dev, "node")
    assert sorted(attached) == ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
                                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]


def test_cni_policy_goes_to_aws_node_through_irsa(dev):
    trust, attached = _role(dev, "cni")
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert attached == ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]
    assert "system:serviceaccount:kube-system:aws-node" in condition.values()
    assert dev.named("gpu-vpc-cni")["inputs"]["serviceAccountRoleArn"].endswith(":role/mlops-dev-eks-cni")


def test_oidc_provider_uses_the_cluster_issuer(dev):
    oidc = dev.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0]["inputs"]
    assert oidc["url"].startswith("https://oidc.eks.us-east-1.amazonaws.com/id/")
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]


def test_gpu_group_uses_the_nvidia_ami_and_a_taint(dev):
    gpu = _group(dev, "gpu")
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA" and gpu["instanceTypes"] == ["g5.xlarge"]
    assert gpu["taints"] == [{"effect": "NO_SCHEDULE", "key": "nvidia.com/gpu", "value": "true"}]
    assert gpu["labels"]["mlops/accelerator"] == "a10g" and gpu["labels"]["nvidia.com/gpu.present"] == "true"


def test_system_group_is_small_cpu_and_untainted(dev):
    system = _group(dev, "system")
    assert system["amiType"] == "AL2023_x86_64_STANDARD" and system["instanceTypes"] == ["t3.large"]
    assert "taints" not in system


def test_dev_gpu_nodes_are_spot_and_prod_on_demand(dev, prod):
    assert _group(dev, "gpu")["capacityType"] == "SPOT" and _group(prod, "gpu")["capacityType"] == "ON_DEMAND"


def test_gpu_sizes_come_from_args(prod):
    assert _group(prod, "gpu")["scalingConfig"] == {"minSize": 1, "maxSize": 4, "desiredSize": 1}
    assert prod.named("gpu-gpu")["ignoreChanges"] == ["scalingConfig.desiredSize"]


def test_nodes_require_imdsv2_with_hop_limit_one(dev):
    for template in dev.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        assert template["inputs"]["metadataOptions"] == {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 1,
                                                         "httpTokens": "required"}


def test_gpu_root_volume_is_encrypted_gp3_of_the_configured_size(dev):
    ebs = dev.named("gpu-gpu-nodes")["inputs"]["blockDeviceMappings"][0]["ebs"]
    assert ebs == {"deleteOnTermination": "true", "encrypted": "true", "volumeSize": 100, "volumeType": "gp3"}


def test_node_groups_wait_for_the_cni_addon(dev):
    addon = dev.named("gpu-vpc-cni")["urn"]
    assert all(addon in r["dependencies"] for r in dev.of_type(NODE_GROUP))


def test_planned_instance_types_exist_in_ec2(dev):
    planned = {t for r in dev.of_type(NODE_GROUP) for t in r["inputs"]["instanceTypes"]}
    assert planned <= ec2_instance_types()


def test_names_are_valid(dev):
    assert check_aws_name("eks-cluster", _cluster(dev)["inputs"]["name"]) is None
    assert all(check_aws_name("eks-nodegroup", r["inputs"]["nodeGroupNamePrefix"] + "2" * 26) is None
               for r in dev.of_type(NODE_GROUP))


def test_explicit_instance_type_overrides_the_catalog():
    assert resolve_gpu_nodes(_args(gpu_instance_type="g6e.xlarge")).instance_type == "g6e.xlarge"


def test_unknown_instance_type_is_rejected():
    with pytest.raises(ValueError, match=r"gpu_instance_type='g9\.huge'"):
        _args(gpu_instance_type="g9.huge")


def test_desired_outside_min_max_is_rejected():
    with pytest.raises(ValueError, match="gpu_desired_nodes=5"):
        _args(gpu_max_nodes=2, gpu_desired_nodes=5)


def test_kubeconfig_is_secret(dev):
    assert dev.outputs["kubeconfig"] == "[secret]"


def test_kubeconfig_uses_aws_eks_get_token():
    config = json.loads(kubeconfig("c", "https://e", "Q0E=", "eu-west-1"))
    user = config["users"][0]["user"]["exec"]
    assert user["command"] == "aws" and user["args"] == [
        "--region", "eu-west-1", "eks", "get-token", "--cluster-name", "c", "--output", "json"]
    assert config["clusters"][0]["cluster"] == {"server": "https://e", "certificate-authority-data": "Q0E="}
