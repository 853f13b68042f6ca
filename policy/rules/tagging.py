"""Required tags/labels on every taggable resource."""

from __future__ import annotations

from collections.abc import Iterator

from policy.model import Resource, ResourceRule
from policy.values import UNKNOWN

REQUIRED_TAGS = ["environment", "service", "owner", "cost-center"]

TAGGABLE_TYPES = frozenset({
    # AWS (pulumi-aws 7): what the platform declares; every entry accepts `tags` (a test checks the SDK).
    "aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:ecr/repository:Repository",
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/routeTable:RouteTable",
    "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/flowLog:FlowLog",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:eks/accessEntry:AccessEntry", "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:eks/addon:Addon",
    "aws:iam/role:Role", "aws:iam/policy:Policy", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:sagemaker/model:Model", "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:sagemaker/endpoint:Endpoint", "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
    "aws:sns/topic:Topic", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/logGroup:LogGroup",
    "aws:appautoscaling/target:Target",
    # GCP: `labels` (`resourceLabels` on GKE clusters).
    "gcp:storage/bucket:Bucket", "gcp:artifactregistry/repository:Repository",
    "gcp:vertex/aiEndpoint:AiEndpoint", "gcp:container/cluster:Cluster", "gcp:kms/cryptoKey:CryptoKey",
    "gcp:pubsub/topic:Topic", "gcp:bigquery/dataset:Dataset",
    "gcp:monitoring/notificationChannel:NotificationChannel", "gcp:monitoring/alertPolicy:AlertPolicy",
    # Azure (azure-native 3): `tags`.
    "azure-native:resources:ResourceGroup", "azure-native:storage:StorageAccount",
    "azure-native:containerregistry:Registry", "azure-native:keyvault:Vault",
    "azure-native:machinelearningservices:Workspace", "azure-native:machinelearningservices:OnlineEndpoint",
    "azure-native:machinelearningservices:OnlineDeployment", "azure-native:machinelearningservices:Compute",
    "azure-native:containerservice:ManagedCluster", "azure-native:network:VirtualNetwork",
    "azure-native:network:NetworkSecurityGroup", "azure-native:monitor:ActionGroup",
    "azure-native:monitor:MetricAlert", "azure-native:monitor:ScheduledQueryRule",
    "azure-native:operationalinsights:Workspace",
    "azure-native:applicationinsights:Component", "azure-native:applicationinsights:Workbook",
    "azure-native:containerservice:AgentPool", "azure-native:keyvault:Key",
    "azure-native:managedidentity:UserAssignedIdentity", "azure-native:network:NatGateway",
    "azure-native:network:PublicIPAddress", "azure-native:network:PrivateEndpoint",
    "azure-native:privatedns:PrivateZone", "azure-native:privatedns:VirtualNetworkLink",
})
"""Types that must carry the required tags even when the program sets none."""


def _taggable(r: Resource) -> bool:
    return r.type in TAGGABLE_TYPES or any(k in r.props for k in ("tags", "labels", "resourceLabels", "userLabels"))


def required_tags(r: Resource) -> Iterator[str]:
    """Taggable resources carry every required tag (own tags or the AWS provider's default tags)."""
    if not _taggable(r) or r.props.get("tags") is UNKNOWN:
        return
    tags = r.tags
    required = list(r.config.get("requiredTags", REQUIRED_TAGS))
    missing = [k for k in required if tags.get(k) is not UNKNOWN and not tags.get(k)]
    if missing:
        yield f"missing required tag(s): {', '.join(missing)} (service 'platform' for shared resources)"


REQUIRED = ResourceRule(
    name="required-tags",
    description="Taggable resources carry the tags environment, service, owner and cost-center.",
    checks={},
    fallback=required_tags,
    config_schema={"requiredTags": {"type": "array", "items": {"type": "string"}, "default": REQUIRED_TAGS,
                                    "description": "Tag/label keys every taggable resource must carry."}},
)

RULES = [REQUIRED]
