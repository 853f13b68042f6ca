"""EKS wiring of Kubernetes serving: the GPU cluster's kubeconfig, IRSA roles, the SNS alert route, the autoscaler."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pulumi

from components.aws.gpu_cluster import GPU_TAINT, GpuCluster
from components.aws.iam import policy_document
from components.aws.workload_role import (
    WorkloadRole,
    WorkloadRoleArgs,
    alert_publisher,
    capture_writer,
    model_reader,
    node_scaler,
)
from components.k8s import charts
from components.k8s.charts import CLUSTER_AUTOSCALER_IMAGES, GPU_TOLERATION_EFFECTS
from components.k8s.gpu_enablement import NodeAutoscaler
from components.k8s.workload import GpuPlacement
from components.naming import Namer
from infra.kubernetes_serving import ClusterAccess, IdentityRequest

AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"


def eks_access(cluster: GpuCluster, namer: Namer, *, bucket_name: pulumi.Input[str], bucket_arn: pulumi.Input[str],
               kms_key_arn: pulumi.Input[str], alert_topic_arn: pulumi.Input[str], region: str,
               tags: Mapping[str, str]) -> ClusterAccess:
    """The `ClusterAccess` of an EKS `GpuCluster`: every service account gets its own least-privilege IRSA role."""
    def bind(request: IdentityRequest) -> Mapping[str, pulumi.Input[str]]:
        statements = []
        if request.reads_model_prefix:
            statements += model_reader(bucket_arn, request.reads_model_prefix, kms_key_arn)
        for n, prefix in enumerate(request.reads_prefixes):
            # IAM refuses a policy whose statement ids repeat: one id per prefix (ReadModels0, ListModels0, ...)
            reads = model_reader(bucket_arn, prefix, kms_key_arn)
            statements += [dataclasses.replace(s, sid=f"{s.sid}{n}") for s in reads
                           if n == 0 or not s.sid.startswith("Decrypt")]
        if request.writes_prefix:
            statements += capture_writer(bucket_arn, request.writes_prefix, kms_key_arn)
        if request.publishes_alerts:
            statements += alert_publisher(alert_topic_arn, kms_key_arn)
        role = WorkloadRole(f"{request.purpose}-identity", WorkloadRoleArgs(
            namer=namer, purpose=request.purpose, tags=tags, policy=policy_document(statements),
            trust_policy=cluster.irsa_trust(request.namespace, request.service_account)))
        return role.annotations

    scaler = WorkloadRole("autoscaler-identity", WorkloadRoleArgs(
        namer=namer, purpose="autoscaler", tags=tags,
        policy=cluster.cluster_name.apply(lambda n: policy_document(node_scaler(n))),
        trust_policy=cluster.irsa_trust(charts.CLUSTER_AUTOSCALER.namespace, AUTOSCALER_SERVICE_ACCOUNT)))
    autoscaler_values = {
        "cloudProvider": "aws", "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster.cluster_name},
        "image": {"tag": CLUSTER_AUTOSCALER_IMAGES[cluster.kubernetes_version]},
        "rbac": {"serviceAccount": {"create": True, "name": AUTOSCALER_SERVICE_ACCOUNT,
                                    "annotations": dict(scaler.annotations)}},
        # A min-0 GPU group has no node to copy labels / taints from: the autoscaler asks EKS (DescribeNodegroup).
        "extraArgs": {"balance-similar-node-groups": True, "skip-nodes-with-local-storage": False,
                      "expander": "least-waste"},
    }
    return ClusterAccess(
        cloud="aws", kubeconfig=cluster.kubeconfig, cluster_identifier=cluster.cluster_name,
        placement=GpuPlacement(node_selector=cluster.gpu_node_labels, taint_key=GPU_TAINT[0], taint_value=GPU_TAINT[1],
            taint_effect=GPU_TOLERATION_EFFECTS[GPU_TAINT[2]]),
        model_uri=lambda key: pulumi.Output.concat("s3://", bucket_name, "/", key),
        bind_identity=bind,
        alert_receiver={"sns_configs": [{"topic_arn": alert_topic_arn, "sigv4": {"region": region},
                                         "subject": "[mlops] {{ .CommonLabels.alertname }}"}]},
        autoscaler=NodeAutoscaler(charts.CLUSTER_AUTOSCALER, autoscaler_values),
        metrics_server=True,  # EKS serves no metrics.k8s.io by default (a community add-on): the HPAs need it
        depends_on=(cluster,))
