"""WorkloadRole: an IAM role one Kubernetes service account assumes through the EKS cluster's OIDC provider (IRSA).

Each workload on the cluster gets its own role with only what it does, from typed grants:
`model_reader` reads one service's model prefix (and decrypts with the stack key), `capture_writer` writes
its captured predictions, `alert_publisher`
publishes to the stack's alert topic, `node_scaler` resizes the cluster's auto-scaling groups (the
cluster autoscaler). The pod sees the role through the `eks.amazonaws.com/role-arn` annotation on its
service account (`annotations`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.iam import KMS_DECRYPT, KMS_ENCRYPT, S3_LIST, S3_READ, S3_WRITE, Statement
from components.naming import Namer

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
SNS_PUBLISH = ("sns:Publish",)
NODE_SCALING = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")
NODE_DISCOVERY = ("autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                  "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
                  "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
                  "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
                  "eks:DescribeNodegroup")


def model_reader(bucket_arn: pulumi.Input[str], prefix: str, kms_key_arn: pulumi.Input[str]) -> list[Statement]:
    """Read the objects under `prefix/` of the bucket, list only that prefix, decrypt with the stack key."""
    objects = pulumi.Output.concat(bucket_arn, "/", prefix, "/*")
    return [Statement("ReadModels", S3_READ, [objects]),
            Statement("ListModels", S3_LIST, [bucket_arn], conditions={"StringLike": {"s3:prefix": [f"{prefix}/*"]}}),
            Statement("DecryptModels", KMS_DECRYPT, [kms_key_arn])]


def capture_writer(bucket_arn: pulumi.Input[str], prefix: str, kms_key_arn: pulumi.Input[str]) -> list[Statement]:
    """Write objects under `prefix/` only (captured predictions), encrypted with the stack key."""
    return [Statement("WriteCapture", S3_WRITE, [pulumi.Output.concat(bucket_arn, "/", prefix, "/*")]),
            Statement("EncryptCapture", KMS_ENCRYPT, [kms_key_arn])]


def alert_publisher(topic_arn: pulumi.Input[str], kms_key_arn: pulumi.Input[str]) -> list[Statement]:
    """Publish to the alert topic (encrypted with the stack key)."""
    return [Statement("PublishAlerts", SNS_PUBLISH, [topic_arn]),
            Statement("EncryptAlerts", KMS_ENCRYPT, [kms_key_arn])]


def node_scaler(cluster_name: str) -> list[Statement]:
    """Resize only the auto-scaling groups tagged `k8s.io/cluster-autoscaler/<cluster>: owned` (EKS tags a
    managed node group's ASG so; kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md, IAM
    policy). `eks:DescribeNodegroup` tells the autoscaler a min-0 group's labels and taints."""
    return [Statement("DiscoverNodeGroups", NODE_DISCOVERY, ["*"]),
            Statement("ScaleOwnNodeGroups", NODE_SCALING, ["*"],
                      conditions={"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}":
                                                   "owned"}})]


@dataclass(frozen=True)
class WorkloadRoleArgs:
    namer: Namer
    purpose: str
    """Short name of the workload (e.g. `serve-fraud`); part of the role name."""
    trust_policy: pulumi.Input[str]
    """IRSA trust for the one service account (`GpuCluster.irsa_trust(namespace, service_account)`)."""
    policy: pulumi.Input[str]
    """The role's inline policy (`policy_document` of the grants above)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class WorkloadRole(pulumi.ComponentResource):
    """The role and its inline policy."""

    role_arn: pulumi.Output[str]
    annotations: Mapping[str, pulumi.Output[str]]

    def __init__(self, name: str, args: WorkloadRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:WorkloadRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-role", name=args.namer.name("k8s", args.purpose, limit=64),
                            assume_role_policy=args.trust_policy, tags=dict(args.tags), opts=child)
        aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=args.policy,
                           opts=child)
        self.role_arn = role.arn
        self.annotations = {IRSA_ANNOTATION: role.arn}
        self.register_outputs({"role_arn": self.role_arn})
