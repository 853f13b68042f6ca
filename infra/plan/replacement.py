"""What the real engine would replace rather than update: per resource type, the inputs its provider forces new.

The Python SDKs do not carry this. Each line of `RULES` is read from the provider's own source (the URL
ending the line): `ForceNew: true` / `RequiresReplace()` in the Terraform providers that Pulumi bridges,
`Replaces` in a native provider's `Diff`. A rule is one string of input paths (the engine's camelCase
names, dots through nested objects and lists):

    path     a change of this input replaces the resource
    @path    the physical name: replaces too, and when the program sets it the provider deletes the old
             resource before creating the new one (pulumi-terraform-bridge, nameRequiresDeleteBeforeReplace)
    *        every top-level input replaces (APIs without an update call), except ...
    !path    ... this one (with `*`)
    -path    replaces only when the input is removed (e.g. EKS envelope encryption cannot be turned off)

Adding a resource type to a stack means adding its line here; a test fails for any type in plans/*.json
without one, and another checks every path against the provider SDK's argument names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.plan.paths import ABSENT, pick


@dataclass(frozen=True)
class ReplaceRule:
    """When a change to one resource type replaces it, and the source that says so."""

    force_new: tuple[str, ...]
    """Input paths whose change replaces the resource (`*` = every top-level input)."""
    keep: tuple[str, ...]
    """With `*`: top-level inputs that still update in place."""
    removed: tuple[str, ...]
    """Input paths that replace the resource only when removed."""
    name: str | None
    """Input holding the physical name; set explicitly, a replacement deletes the old resource first."""
    source: str
    """Where the force-new properties were read (a provider source file)."""

    def reasons(self, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        """The input paths whose change between `old` and `new` inputs forces a replacement."""
        paths = [self.name] if self.name else []
        if "*" in self.force_new:
            paths += sorted((old.keys() | new.keys()) - set(self.keep))
        paths += [p for p in self.force_new if p != "*"]
        found = [p for p in dict.fromkeys(paths) if pick(old, p) != pick(new, p)]
        found += [p for p in self.removed if pick(old, p) != ABSENT and pick(new, p) == ABSENT]
        return found


def rule(spec: str, source: str) -> ReplaceRule:
    """Parse one line of the table (see the module docstring for the syntax)."""
    tokens = spec.split()
    names = [t[1:] for t in tokens if t.startswith("@")]
    return ReplaceRule(
        force_new=tuple(t for t in tokens if t[0] not in "@!-"),
        keep=tuple(t[1:] for t in tokens if t.startswith("!")),
        removed=tuple(t[1:] for t in tokens if t.startswith("-")),
        name=names[0] if names else None,
        source=source,
    )


_K8S = ("https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider/diff.go (forceNew: "
        "metadata name / namespace always; per kind below; a replaced object with an explicit name is deleted first)")
_HELM = ("https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider/helm_release.go "
         "(forceNewFields .name, .namespace)")


def _kubernetes_rules() -> dict[str, ReplaceRule]:
    """The Kubernetes kinds the platform declares (components/k8s)."""
    identity = "@metadata.name metadata.namespace"
    kinds = {
        "apps/v1:Deployment": "spec.selector",
        "core/v1:Service": "spec.clusterIP",
        "core/v1:ConfigMap": "data binaryData",  # immutable unless the provider enables ConfigMap mutation
        "core/v1:Namespace": "", "core/v1:ServiceAccount": "",
        "autoscaling/v2:HorizontalPodAutoscaler": "", "policy/v1:PodDisruptionBudget": "",
        "networking.k8s.io/v1:NetworkPolicy": "", "batch/v1:CronJob": "",  # jobTemplate and schedule update in place
        "gateway.networking.k8s.io/v1:HTTPRoute": "", "gateway.networking.k8s.io/v1:Gateway": "",
        "gateway.networking.k8s.io/v1:GatewayClass": "", "gateway.envoyproxy.io/v1alpha1:EnvoyProxy": "",
        "monitoring.coreos.com/v1:ServiceMonitor": "", "monitoring.coreos.com/v1:PrometheusRule": "",
        "monitoring.coreos.com/v1:PodMonitor": "",
        "flagger.app/v1beta1:Canary": "", "flagger.app/v1beta1:MetricTemplate": "",
    }
    rules = {f"kubernetes:{kind}": rule(f"{identity} {extra}".strip(), _K8S) for kind, extra in kinds.items()}
    rules["kubernetes:helm.sh/v3:Release"] = rule("@name namespace", _HELM)
    # With clusterIdentifier set, DiffConfig replaces the provider (and so every object it manages) only when
    # the identifier changes; without it, any change of the kubeconfig's active cluster, or a kubeconfig still
    # unknown at preview, replaces everything (pulumi/pulumi-kubernetes#1148, #4019).
    rules["pulumi:providers:kubernetes"] = rule(
        "clusterIdentifier", "https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider/"
        "provider.go (DiffConfig: clusterIdentifierKey)")
    return rules


_TF_AWS = "https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/"
_DOCKER = "https://github.com/pulumi/pulumi-docker/blob/master/provider/provider.go (Diff never returns Replaces)"
_TF_DOCKER = "https://github.com/kreuzwerker/terraform-provider-docker/blob/master/internal/provider/"
_TF_RANDOM = ("https://github.com/hashicorp/terraform-provider-random/blob/main/internal/provider/resource_password.go "
              "(every attribute has a RequiresReplace plan modifier)")


def _aws(spec: str, path: str) -> ReplaceRule:
    return rule(spec, _TF_AWS + path)


_AZURE = ("https://github.com/pulumi/pulumi-azure-native/blob/master/provider/pkg/resources/resources.go "
          "(URL path parameters and `location` force a new resource; other create-only properties per the "
          "service's REST API reference: {})")


def _azure(spec: str, doc: str = "none") -> ReplaceRule:
    return rule(spec, _AZURE.format(doc))


_TF_GOOGLE = "https://github.com/hashicorp/terraform-provider-google/blob/main/google/"


def _google(spec: str, path: str) -> ReplaceRule:
    return rule(spec, _TF_GOOGLE + path)


_IAM_MEMBER = "tpgiamresource/resource_iam_member.go (role, member, condition: ForceNew; no Update)"


RULES: dict[str, ReplaceRule] = {
    "aws:appautoscaling/policy:Policy": _aws("@name resourceId scalableDimension serviceNamespace",
                                             "appautoscaling/policy.go"),
    "aws:appautoscaling/target:Target": _aws("resourceId scalableDimension serviceNamespace",
                                             "appautoscaling/target.go"),
    "aws:cloudwatch/dashboard:Dashboard": _aws("dashboardName", "cloudwatch/dashboard.go"),
    "aws:cloudwatch/logGroup:LogGroup": _aws("@name namePrefix logGroupClass", "logs/group.go"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _aws("@name", "cloudwatch/metric_alarm.go"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _aws("vpcId", "ec2/vpc_default_security_group.go"),
    "aws:ec2/eip:Eip": _aws("address customerOwnedIpv4Pool domain networkBorderGroup publicIpv4Pool",
                            "ec2/ec2_eip.go"),
    "aws:ec2/flowLog:FlowLog": _aws("* !tags", "ec2/vpc_flow_log.go"),
    "aws:ec2/internetGateway:InternetGateway": _aws("", "ec2/vpc_internet_gateway.go"),
    "aws:ec2/launchTemplate:LaunchTemplate": _aws("@name namePrefix", "ec2/ec2_launch_template.go"),
    "aws:ec2/natGateway:NatGateway": _aws("allocationId connectivityType privateIp subnetId",
                                          "ec2/vpc_nat_gateway.go"),
    "aws:ec2/routeTable:RouteTable": _aws("vpcId", "ec2/vpc_route_table.go"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _aws("gatewayId subnetId",
                                                                "ec2/vpc_route_table_association.go"),
    "aws:ec2/securityGroup:SecurityGroup": _aws("@name namePrefix description vpcId", "ec2/vpc_security_group.go"),
    "aws:ec2/subnet:Subnet": _aws("availabilityZone availabilityZoneId cidrBlock ipv4IpamPoolId ipv4NetmaskLength "
                                  "ipv6IpamPoolId ipv6Native ipv6NetmaskLength outpostArn vpcId", "ec2/vpc_subnet.go"),
    "aws:ec2/vpc:Vpc": _aws("cidrBlock ipv4IpamPoolId ipv4NetmaskLength", "ec2/vpc_.go"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _aws("resourceConfigurationArn serviceName serviceNetworkArn serviceRegion "
                                            "vpcEndpointType vpcId dnsOptions.privateDnsPreference "
                                            "dnsOptions.privateDnsSpecifiedDomains", "ec2/vpc_endpoint.go"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _aws("repository", "ecr/lifecycle_policy.go"),
    "aws:ecr/repository:Repository": _aws("@name encryptionConfigurations", "ecr/repository.go"),
    "aws:eks/addon:Addon": _aws("addonName clusterName", "eks/addon.go"),
    "aws:eks/accessEntry:AccessEntry": _aws("clusterName principalArn type", "eks/access_entry.go"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _aws("*", "eks/access_policy_association.go"),
    "aws:eks/cluster:Cluster": _aws("@name roleArn bootstrapSelfManagedAddons "
                                    "accessConfig.bootstrapClusterCreatorAdminPermissions "
                                    "kubernetesNetworkConfig.ipFamily kubernetesNetworkConfig.serviceIpv4Cidr "
                                    "outpostConfig.controlPlaneInstanceType "
                                    "outpostConfig.controlPlanePlacement.groupName remoteNetworkConfig "
                                    "-encryptionConfig", "eks/cluster.go"),
    "aws:eks/nodeGroup:NodeGroup": _aws("@nodeGroupName nodeGroupNamePrefix amiType capacityType clusterName "
                                        "diskSize instanceTypes launchTemplate.id launchTemplate.name nodeRoleArn "
                                        "remoteAccess subnetIds", "eks/node_group.go"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _aws("url", "iam/openid_connect_provider.go"),
    "aws:iam/role:Role": _aws("@name namePrefix path", "iam/role.go"),
    "aws:iam/rolePolicy:RolePolicy": _aws("@name namePrefix role", "iam/role_policy.go"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _aws("policyArn role", "iam/role_policy_attachment.go"),
    "aws:kms/alias:Alias": _aws("@name namePrefix", "kms/alias.go"),
    "aws:kms/key:Key": _aws("customKeyStoreId customerMasterKeySpec keyUsage multiRegion xksKeyId", "kms/key.go"),
    "aws:s3/bucket:Bucket": _aws("@bucket bucketPrefix objectLockEnabled", "s3/bucket.go"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _aws(
        "bucket expectedBucketOwner", "s3/bucket_lifecycle_configuration.go"),
    "aws:s3/bucketLogging:BucketLogging": _aws("bucket expectedBucketOwner", "s3/bucket_logging.go"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _aws("bucket", "s3/bucket_ownership_controls.go"),
    "aws:s3/bucketPolicy:BucketPolicy": _aws("bucket", "s3/bucket_policy.go"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _aws("bucket", "s3/bucket_public_access_block.go"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _aws(
        "bucket expectedBucketOwner", "s3/bucket_server_side_encryption_configuration.go"),
    "aws:s3/bucketVersioning:BucketVersioning": _aws("bucket expectedBucketOwner", "s3/bucket_versioning.go"),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": _aws(
        "* !tags @name", "sagemaker/data_quality_job_definition.go"),
    "aws:sagemaker/endpoint:Endpoint": _aws("@name deploymentConfig.autoRollbackConfiguration",
                                            "sagemaker/endpoint.go"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _aws("* !tags @name",
                                                                      "sagemaker/endpoint_configuration.go"),
    "aws:sagemaker/model:Model": _aws("* !tags @name", "sagemaker/model.go"),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _aws("@name", "sagemaker/monitoring_schedule.go"),
    "aws:sns/topic:Topic": _aws("@name namePrefix fifoTopic", "sns/topic.go"),
    "aws:sns/topicPolicy:TopicPolicy": _aws("arn", "sns/topic_policy.go"),
    "aws:sns/topicSubscription:TopicSubscription": _aws("confirmationTimeoutInMinutes endpoint endpointAutoConfirms "
                                                        "protocol topic", "sns/topic_subscription.go"),
    "docker:index/image:Image": rule("", _DOCKER),
    # Everything but restart policy, limits, health check and lifecycle flags is ForceNew ("The container is
    # mutated once, and never updated later"); the name is fixed, so components set delete_before_replace.
    "docker:index/container:Container": rule(
        "* @name !attach !containerReadRefreshTimeoutMilliseconds !cpuSet !cpuShares !destroyGraceSeconds "
        "!healthcheck !init !logs !maxRetryCount !memory !memorySwap !mustRun !removeVolumes !restart !rm !start "
        "!tmpfs !wait !waitTimeout", _TF_DOCKER + "resource_docker_container.go"),
    "docker:index/network:Network": rule("* @name", _TF_DOCKER + "resource_docker_network.go"),
    "docker:index/remoteImage:RemoteImage": rule("name build platform pullTriggers triggers",
                                                 _TF_DOCKER + "resource_docker_image.go"),
    "docker:index/volume:Volume": rule("* @name", _TF_DOCKER + "resource_docker_volume.go"),
    "pulumi:providers:docker": rule("", "https://github.com/pulumi/pulumi-terraform-bridge/blob/master/pkg/tfbridge/"
                                    "provider.go (DiffConfig: a Terraform provider's config has no ForceNew, so "
                                    "new registry credentials update the provider in place)"),
    "random:index/randomPassword:RandomPassword": rule("*", _TF_RANDOM),
    "azure-native:applicationinsights:Component": _azure("location resourceGroupName resourceName"),
    "azure-native:applicationinsights:Workbook": _azure("location resourceGroupName resourceName kind"),
    "azure-native:authorization:RoleAssignment": _azure("roleAssignmentName scope principalId roleDefinitionId",
                                                        "role assignments cannot be updated (PUT on an existing "
                                                        "name with another principal/role fails)"),
    "azure-native:containerregistry:Registry": _azure("location registryName resourceGroupName"),
    "azure-native:containerservice:AgentPool": _azure(
        "agentPoolName resourceGroupName resourceName vmSize osDiskSizeGB osType osSKU vnetSubnetID",
        "AKS agent pools: VM size, OS disk and subnet are fixed at creation"),
    "azure-native:containerservice:ManagedCluster": _azure("location resourceGroupName resourceName dnsPrefix",
                                                           "AKS: dnsPrefix is fixed at creation"),
    "azure-native:keyvault:Key": _azure("keyName resourceGroupName vaultName"),
    "azure-native:keyvault:Vault": _azure("location resourceGroupName vaultName"),
    "azure-native:machinelearningservices:Compute": _azure("computeName location resourceGroupName workspaceName"),
    "azure-native:machinelearningservices:EnvironmentVersion": _azure(
        "*", "environment versions are immutable once created"),
    "azure-native:machinelearningservices:OnlineDeployment": _azure(
        "deploymentName endpointName location resourceGroupName workspaceName properties.instanceType",
        "managed online deployments: the instance type cannot be changed in place"),
    "azure-native:machinelearningservices:OnlineEndpoint": _azure(
        "endpointName location resourceGroupName workspaceName properties.authMode",
        "managed online endpoints: auth mode is fixed at creation"),
    "azure-native:machinelearningservices:Schedule": _azure("name resourceGroupName workspaceName"),
    "azure-native:machinelearningservices:Workspace": _azure("location resourceGroupName workspaceName"),
    "azure-native:managedidentity:FederatedIdentityCredential": _azure(
        "federatedIdentityCredentialResourceName resourceGroupName resourceName",
        "issuer, subject and audiences are updated in place by a PUT on the same name"),
    "azure-native:managedidentity:UserAssignedIdentity": _azure("location resourceGroupName resourceName"),
    "azure-native:monitor:ActionGroup": _azure("actionGroupName location resourceGroupName"),
    "azure-native:monitor:DiagnosticSetting": _azure("name resourceUri"),
    "azure-native:monitor:MetricAlert": _azure("location resourceGroupName ruleName"),
    "azure-native:monitor:ScheduledQueryRule": _azure("location resourceGroupName ruleName"),
    "azure-native:network:NatGateway": _azure("location natGatewayName resourceGroupName"),
    "azure-native:network:NetworkSecurityGroup": _azure("location networkSecurityGroupName resourceGroupName"),
    "azure-native:network:PrivateDnsZoneGroup": _azure("privateDnsZoneGroupName privateEndpointName "
                                                       "resourceGroupName"),
    "azure-native:network:PrivateEndpoint": _azure("location privateEndpointName resourceGroupName subnet.id",
                                                   "a private endpoint cannot move to another subnet"),
    "azure-native:network:PublicIPAddress": _azure("location publicIpAddressName resourceGroupName"),
    "azure-native:network:Subnet": _azure("resourceGroupName subnetName virtualNetworkName"),
    "azure-native:network:VirtualNetwork": _azure("location resourceGroupName virtualNetworkName"),
    "azure-native:operationalinsights:Workspace": _azure("location resourceGroupName workspaceName"),
    "azure-native:privatedns:PrivateZone": _azure("location privateZoneName resourceGroupName"),
    "azure-native:privatedns:VirtualNetworkLink": _azure("location privateZoneName resourceGroupName "
                                                         "virtualNetworkLinkName"),
    "azure-native:resources:ResourceGroup": _azure("location resourceGroupName"),
    "azure-native:storage:BlobContainer": _azure("accountName containerName resourceGroupName"),
    "azure-native:storage:BlobServiceProperties": _azure("accountName blobServicesName resourceGroupName"),
    "azure-native:storage:ManagementPolicy": _azure("accountName managementPolicyName resourceGroupName"),
    "azure-native:storage:StorageAccount": _azure("accountName location resourceGroupName isHnsEnabled",
                                                  "storage accounts: hierarchical namespace cannot be turned off"),
    "gcp:artifactregistry/repository:Repository": _google(
        "@repositoryId format kmsKeyName location mode project",
        "services/artifactregistry/resource_artifact_registry_repository.go"),
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": _google("*", _IAM_MEMBER),
    "gcp:bigquery/dataset:Dataset": _google("@datasetId location project",
                                            "services/bigquery/resource_bigquery_dataset.go"),
    "gcp:compute/firewall:Firewall": _google("@name direction project",
                                             "services/compute/resource_compute_firewall.go"),
    "gcp:compute/network:Network": _google("@name autoCreateSubnetworks description project",
                                           "services/compute/resource_compute_network.go"),
    "gcp:compute/router:Router": _google("@name network project region", "services/compute/resource_compute_router.go"),
    "gcp:compute/routerNat:RouterNat": _google("@name project region router",
                                               "services/compute/resource_compute_router_nat.go"),
    "gcp:compute/subnetwork:Subnetwork": _google("@name description network project region",
                                                 "services/compute/resource_compute_subnetwork.go"),
    "gcp:container/cluster:Cluster": _google(
        "@name datapathProvider initialNodeCount ipAllocationPolicy location network networkingMode "
        "privateClusterConfig.masterIpv4CidrBlock project subnetwork nodeConfig.serviceAccount nodeConfig.oauthScopes",
        "services/container/resource_container_cluster.go and services/container/node_config.go"),
    "gcp:container/nodePool:NodePool": _google(
        "@name cluster initialNodeCount location project nodeConfig.guestAccelerators nodeConfig.oauthScopes "
        "nodeConfig.serviceAccount nodeConfig.spot",
        "services/container/resource_container_node_pool.go and services/container/node_config.go"),
    "gcp:kms/cryptoKey:CryptoKey": _google("@name keyRing purpose importOnly",
                                           "services/kms/resource_kms_crypto_key.go"),
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _google("*", _IAM_MEMBER),
    "gcp:kms/keyRing:KeyRing": _google("@name location project", "services/kms/resource_kms_key_ring.go"),
    "gcp:monitoring/alertPolicy:AlertPolicy": _google("project",
                                                      "services/monitoring/resource_monitoring_alert_policy.go"),
    "gcp:monitoring/dashboard:Dashboard": _google("project", "services/monitoring/resource_monitoring_dashboard.go"),
    "gcp:monitoring/notificationChannel:NotificationChannel": _google(
        "project", "services/monitoring/resource_monitoring_notification_channel.go"),
    "gcp:projects/iAMMember:IAMMember": _google("*", _IAM_MEMBER),
    "gcp:projects/serviceIdentity:ServiceIdentity": _google(
        "*", "services/resourcemanager/resource_project_service_identity.go (no Update)"),
    "gcp:serviceaccount/account:Account": _google("@accountId project",
                                                  "services/resourcemanager/resource_google_service_account.go"),
    "gcp:serviceaccount/iAMMember:IAMMember": _google("*", _IAM_MEMBER),
    "gcp:storage/bucket:Bucket": _google("@name location project", "services/storage/resource_storage_bucket.go"),
    "gcp:storage/bucketIAMMember:BucketIAMMember": _google("*", _IAM_MEMBER),
    "gcp:vertex/aiEndpoint:AiEndpoint": _google("@name encryptionSpec location network project region",
                                                "services/vertexai/resource_vertex_ai_endpoint.go"),
    "pulumi-python:dynamic/vertex:VertexDeployment": rule(
        "project region endpoint",
        "https://github.com/pulumi/pulumi/blob/master/sdk/python/lib/pulumi/dynamic/dynamic.py (a dynamic "
        "resource's own `diff` decides: components/gcp/vertex_deployment.py replaces on IDENTITY)"),
    "pulumi-python:dynamic/vertex:VertexModelMonitor": rule(
        "project region endpoint encryptionKey",
        "https://github.com/pulumi/pulumi/blob/master/sdk/python/lib/pulumi/dynamic/dynamic.py (a dynamic "
        "resource's own `diff` decides: components/gcp/model_monitor.py replaces on IDENTITY and the key)"),
    "pulumi-python:dynamic/azure:RbacPropagation": rule(
        "", "https://github.com/pulumi/pulumi/blob/master/sdk/python/lib/pulumi/dynamic/dynamic.py (a dynamic "
        "resource's own `diff` decides: components/azure/rbac_propagation.py never replaces)"),
    **_kubernetes_rules(),
    "pulumi-python:dynamic/azureml:SparkNetwork": rule(
        "subscriptionId resourceGroupName workspaceName",
        "https://github.com/pulumi/pulumi/blob/master/sdk/python/lib/pulumi/dynamic/dynamic.py (a dynamic "
        "resource's own `diff` decides: components/azure/network_provisioning.py replaces on IDENTITY)"),
    "pulumi-python:dynamic/azureml:EndpointTraffic": rule(
        "subscriptionId resourceGroupName workspaceName endpointName",
        "https://github.com/pulumi/pulumi/blob/master/sdk/python/lib/pulumi/dynamic/dynamic.py (a dynamic "
        "resource's own `diff` decides: components/azure/endpoint_traffic.py replaces on IDENTITY)"),
}
