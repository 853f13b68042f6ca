"""Per-rule cases: a plan where the rule passes and one where it reports the named resource."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.policy.helpers import PROD_TAGS, SSE_ALLOW, TAGS, plan, resource, urn

BUCKET = "aws:s3/bucket:Bucket"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@dataclass(frozen=True)
class Case:
    """``good`` has no violation of ``policy``; ``bad`` has one on resource ``culprit`` (a name)."""

    policy: str
    good: dict[str, Any]
    bad: dict[str, Any]
    culprit: str


def s3_set(stack: str = "dev", **missing: bool) -> list[dict[str, Any]]:
    """A bucket and its companions, linked through dependencies (drop one with e.g. versioning=False)."""
    tags = PROD_TAGS if stack == "prod" else TAGS
    bucket = resource(BUCKET, "artifacts", {"bucket": "artifacts-1a2b", "tags": tags}, stack=stack,
                      protect=stack == "prod")
    dep = [bucket["urn"]]
    companions = {
        "versioning": resource("aws:s3/bucketVersioning:BucketVersioning", "artifacts-versioning",
                               {"bucket": "artifacts-1a2b", "versioningConfiguration": {"status": "Enabled"}},
                               stack=stack, dependencies=dep),
        "sse": resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                        "artifacts-sse", {"bucket": "artifacts-1a2b", "rules": [{"applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:us-east-1:1:key/k"}}]},
                        stack=stack, dependencies=dep),
        "pab": resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "artifacts-pab",
                        {"bucket": "artifacts-1a2b", "blockPublicAcls": True, "blockPublicPolicy": True,
                         "ignorePublicAcls": True, "restrictPublicBuckets": True}, stack=stack, dependencies=dep),
        "policy": resource("aws:s3/bucketPolicy:BucketPolicy", "artifacts-policy",
                           {"bucket": "artifacts-1a2b", "policy": SSE_ALLOW}, stack=stack, dependencies=dep),
        "lifecycle": resource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                              "artifacts-lifecycle", {"bucket": "artifacts-1a2b", "rules": []}, stack=stack,
                              dependencies=dep),
    }
    return [bucket, *(r for key, r in companions.items() if missing.get(key, True))]


def one(type_: str, good: dict[str, Any], bad: dict[str, Any], policy: str, stack: str = "dev",
        tags: bool = True) -> Case:
    """A case with a single resource whose inputs differ between the good and the bad plan."""
    extra = {"tags": PROD_TAGS if stack == "prod" else TAGS} if tags else {}
    return Case(policy, plan(resource(type_, "subject", {**extra, **good}, stack=stack), stack=stack),
                plan(resource(type_, "subject", {**extra, **bad}, stack=stack), stack=stack), "subject")


def doc(*statements: dict[str, Any]) -> str:
    """An IAM policy document as a JSON string."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def pod(container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """Deployment inputs with one container."""
    return {"spec": {"replicas": 2, "template": {"spec": {"containers": [container], **spec}}}}


GOOD_CONTAINER = {"name": "server", "image": "repo/model-server:1.4.2",
                  "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                      "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
                  "resources": {"limits": {"cpu": "2", "memory": "4Gi"}}}


def variant(count: int, weight: float = 100.0, instance: str = "ml.g5.xlarge", name: str = "blue") -> dict:
    """A SageMaker production variant."""
    return {"variantName": name, "initialInstanceCount": count, "initialVariantWeight": weight,
            "instanceType": instance, "modelName": "m"}


CAPTURE = {"enableCapture": True, "initialSamplingPercentage": 20, "kmsKeyId": "k",
           "destinationS3Uri": "s3://b/capture", "captureOptions": [{"captureMode": "Input"},
                                                                    {"captureMode": "Output"}]}
KEY = "arn:aws:kms:us-east-1:111111111111:key/abc"

def azure_traffic_cases() -> list[Case]:
    """EndpointTraffic must depend on every deployment it routes to (Azure/azureml-examples#3311)."""
    deployment = resource("azure-native:machinelearningservices:OnlineDeployment", "green",
                          {"endpointName": "fraud", "deploymentName": "green", "tags": TAGS})
    def traffic(deps: list[str]) -> dict[str, Any]:
        return resource("pulumi-python:dynamic/azureml:EndpointTraffic", "traffic",
                        {"endpointName": "fraud", "traffic": {"green": 100}}, dependencies=deps)
    return [Case("azure-traffic-after-deployments", plan(deployment, traffic([deployment["urn"]])),
                 plan(deployment, traffic([])), "traffic")]


def gcp_order_cases() -> list[Case]:
    """VertexDeployment after its endpoint (magic-modules#12110); CMEK resources after their key's grant."""
    endpoint = resource("gcp:vertex/aiEndpoint:AiEndpoint", "endpoint", {"labels": TAGS})

    def deployment(deps: list[str]) -> dict[str, Any]:
        return resource("pulumi-python:dynamic/vertex:VertexDeployment", "deployment",
                        {"traffic": {"blue": 100}, "slots": {"blue": {"minReplicas": 1}}}, dependencies=deps)
    key = "projects/p/locations/r/keyRings/k/cryptoKeys/storage"
    grant = resource("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "grant",
                     {"cryptoKeyId": key, "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
                      "member": "serviceAccount:service-1@gs-project-accounts.iam.gserviceaccount.com"})

    def bucket(deps: list[str]) -> dict[str, Any]:
        return resource("gcp:storage/bucket:Bucket", "bucket", {"labels": TAGS, "encryption": {
            "defaultKmsKeyName": key}}, dependencies=deps)
    return [Case("gcp-vertex-deployment-order", plan(endpoint, deployment([endpoint["urn"]])),
                 plan(endpoint, deployment([])), "deployment"),
            Case("gcp-cmek-after-grant", plan(grant, bucket([grant["urn"]])), plan(grant, bucket([])), "bucket")]


CASES: list[Case] = [
    one("aws:ecr/repository:Repository",
        {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}]},
        {"encryptionConfigurations": [{"encryptionType": "AES256"}]}, "encryption-customer-managed-keys"),
    one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}}]},
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
        "encryption-customer-managed-keys", tags=False),
    one("gcp:storage/bucket:Bucket", {"encryption": {"defaultKmsKeyName": "projects/p/keys/k"}}, {},
        "encryption-customer-managed-keys"),
    one("azure-native:storage:StorageAccount",
        {"encryption": {"keySource": "Microsoft.Keyvault", "keyVaultProperties": {"keyName": "k"}}},
        {"encryption": {"keySource": "Microsoft.Storage"}}, "encryption-customer-managed-keys"),
    one("aws:kms/key:Key", {"enableKeyRotation": True}, {"enableKeyRotation": False}, "kms-key-rotation"),
    one("gcp:kms/cryptoKey:CryptoKey", {"rotationPeriod": "7776000s"}, {}, "kms-key-rotation"),
    one("aws:sns/topic:Topic", {"kmsMasterKeyId": KEY}, {}, "encrypted-alert-topics"),
    one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
         "restrictPublicBuckets": True},
        {"blockPublicAcls": True, "blockPublicPolicy": False, "ignorePublicAcls": True,
         "restrictPublicBuckets": True}, "no-public-buckets", tags=False),
    one("gcp:storage/bucket:Bucket",
        {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True},
        {"publicAccessPrevention": "inherited", "uniformBucketLevelAccess": True}, "no-public-buckets"),
    one("azure-native:storage:BlobContainer", {"publicAccess": "None"}, {"publicAccess": "Blob"},
        "no-public-buckets", tags=False),
    one("aws:ecr/repositoryPolicy:RepositoryPolicy",
        {"policy": doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "ecr:*"})},
        {"policy": doc({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"})},
        "no-public-registries", tags=False),
    one("azure-native:containerregistry:Registry", {"anonymousPullEnabled": False},
        {"anonymousPullEnabled": True}, "no-public-registries"),
    one("azure-native:storage:StorageAccount", {"minimumTlsVersion": "TLS1_2", "enableHttpsTrafficOnly": True},
        {"minimumTlsVersion": "TLS1_0"}, "tls-only"),
    one("aws:iam/rolePolicy:RolePolicy",
        {"policy": doc({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/models/*"})},
        {"policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}, "least-privilege-iam",
        tags=False),
    one("aws:iam/policy:Policy",
        {"policy": doc({"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"})},
        {"policy": doc({"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]})}, "least-privilege-iam"),
    one("gcp:projects/iAMMember:IAMMember", {"role": "roles/aiplatform.user", "member": "serviceAccount:x"},
        {"role": "roles/editor", "member": "serviceAccount:x"}, "least-privilege-iam", tags=False),
    one("azure-native:authorization:RoleAssignment",
        {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
                             "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"},
        {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
                             "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"}, "least-privilege-iam", tags=False),
    one("aws:iam/policy:Policy", {"policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})},
        {"policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})},
        "iam-no-allow-not-action"),
    one("aws:ecr/repository:Repository",
        {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}},
        {"imageTagMutability": "MUTABLE", "imageScanningConfiguration": {"scanOnPush": True}},
        "immutable-scanned-images"),
    one("gcp:artifactregistry/repository:Repository",
        {"format": "DOCKER", "dockerConfig": {"immutableTags": True}}, {"format": "DOCKER"},
        "immutable-scanned-images"),
    one("aws:sagemaker/model:Model", {"primaryContainer": {"image": "1.dkr.ecr.us-east-1.amazonaws.com/s:1.2"}},
        {"primaryContainer": {"image": "1.dkr.ecr.us-east-1.amazonaws.com/s:latest"}}, "no-latest-image-tag"),
    one(K8S_DEPLOYMENT, pod(GOOD_CONTAINER), pod({**GOOD_CONTAINER, "image": "registry:5000/model-server"}),
        "no-latest-image-tag", tags=False),
    one(K8S_DEPLOYMENT, pod(GOOD_CONTAINER), pod({**GOOD_CONTAINER, "securityContext": {}}), "k8s-non-root",
        tags=False),
    one(K8S_DEPLOYMENT, pod(GOOD_CONTAINER), pod({**GOOD_CONTAINER, "resources": {"limits": {"cpu": "1"}}}),
        "k8s-resource-limits", tags=False),
    one(K8S_DEPLOYMENT, pod(GOOD_CONTAINER),
        pod({**GOOD_CONTAINER, "securityContext": {"runAsNonRoot": True}}), "k8s-no-privilege-escalation",
        tags=False),
    one(K8S_DEPLOYMENT, pod(GOOD_CONTAINER), {"spec": {**pod(GOOD_CONTAINER)["spec"], "replicas": 1}},
        "k8s-prod-replicas", stack="prod", tags=False),
    one(K8S_DEPLOYMENT, pod(GOOD_CONTAINER), pod({**GOOD_CONTAINER, "securityContext": {
        **GOOD_CONTAINER["securityContext"], "capabilities": {"add": ["NET_ADMIN"]}}}),
        "k8s-hardened-containers", tags=False),
    one("kubernetes:helm.sh/v3:Release", {"chart": "dcgm-exporter", "version": "4.1.1"},
        {"chart": "dcgm-exporter", "version": "^4.1"}, "k8s-pinned-charts", tags=False),
    one("docker:index/container:Container", {"image": "minio/minio:RELEASE.2024", "user": "10001:10001"},
        {"image": "minio/minio:RELEASE.2024"}, "docker-containers-non-root", tags=False),
    one("docker:index/remoteImage:RemoteImage", {"name": "prom/prometheus:v2.55.0"}, {"name": "prom/prometheus"},
        "no-latest-image-tag", tags=False),
    one("docker:index/container:Container", {"ports": [{"internal": 8080, "external": 8080, "ip": "127.0.0.1"}]},
        {"ports": [{"internal": 8080, "external": 8080}]}, "docker-ports-loopback", tags=False),
    one("docker:index/container:Container", {"capabilities": {"drops": ["ALL"]},
                                             "securityOpts": ["no-new-privileges:true"]},
        {"capabilities": {"drops": ["ALL"]}}, "docker-containers-hardened", tags=False),
    Case("artifact-store-versioning", plan(*s3_set()), plan(*s3_set(versioning=False)), "artifacts"),
    Case("s3-encryption-configured", plan(*s3_set()), plan(*s3_set(sse=False)), "artifacts"),
    Case("s3-public-access-blocked", plan(*s3_set()), plan(*s3_set(pab=False)), "artifacts"),
    Case("s3-tls-only", plan(*s3_set()), plan(*s3_set(policy=False)), "artifacts"),
    Case("s3-lifecycle-configured", plan(*s3_set()), plan(*s3_set(lifecycle=False)), "artifacts"),
    one("gcp:storage/bucket:Bucket", {"versioning": {"enabled": True}}, {"versioning": {"enabled": False}},
        "artifact-store-versioning"),
    Case("ecr-lifecycle-policy",
         plan(repo := resource("aws:ecr/repository:Repository", "repo", {"name": "svc", "tags": TAGS}),
              resource("aws:ecr/lifecyclePolicy:LifecyclePolicy", "repo-lifecycle",
                       {"repository": "svc", "policy": "{}"}, dependencies=[repo["urn"]])),
         plan(repo), "repo"),
    Case("prod-protect-stateful", plan(*s3_set("prod"), stack="prod"),
         plan(resource(BUCKET, "artifacts", {"tags": PROD_TAGS}, stack="prod"), stack="prod"), "artifacts"),
    one("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 30, "kmsKeyId": KEY}, {"kmsKeyId": KEY},
        "log-retention-set"),
    one("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 30, "kmsKeyId": KEY}, {"retentionInDays": 30},
        "encryption-customer-managed-keys"),
    one(ENDPOINT_CONFIG, {"productionVariants": [variant(2), variant(1, 0.0, name="green")]},
        {"productionVariants": [variant(2, 90.0), variant(1, 10.0, name="green")]},
        "prod-endpoint-min-instances", stack="prod"),
    one("aws:sagemaker/endpoint:Endpoint",
        {"deploymentConfig": {"blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {"type": "CANARY"}},
                              "autoRollbackConfiguration": {"alarms": [{"alarmName": "p99"}]}}},
        {"deploymentConfig": {"blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {"type": "CANARY"}}}},
        "prod-endpoint-auto-rollback", stack="prod"),
    one(ENDPOINT_CONFIG, {"kmsKeyArn": KEY, "dataCaptureConfig": CAPTURE},
        {"kmsKeyArn": KEY, "dataCaptureConfig": {**CAPTURE, "captureOptions": [{"captureMode": "Input"}]}},
        "prod-endpoint-data-capture", stack="prod"),
    one("gcp:vertex/aiEndpoint:AiEndpoint", {"predictRequestResponseLoggingConfig": {"enabled": True}}, {},
        "prod-endpoint-data-capture", stack="prod"),
    one("aws:eks/cluster:Cluster",
        {"vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True}},
        {"vpcConfig": {"endpointPrivateAccess": True}}, "prod-private-cluster-endpoint", stack="prod"),
    one("azure-native:containerservice:ManagedCluster",
        {"apiServerAccessProfile": {"enablePrivateCluster": True}}, {}, "prod-private-cluster-endpoint",
        stack="prod"),
    one("aws:eks/cluster:Cluster", {"vpcConfig": {"publicAccessCidrs": ["203.0.113.0/24"]}},
        {"vpcConfig": {"publicAccessCidrs": ["0.0.0.0/0"]}}, "cluster-public-endpoint-restricted"),
    one("aws:sagemaker/model:Model", {"tags": TAGS}, {"tags": {**TAGS, "cost-center": ""}}, "required-tags",
        tags=False),
    one("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["g5.xlarge"]}, {"instanceTypes": ["p4d.24xlarge"]},
        "gpu-instance-allowlist"),
    one(ENDPOINT_CONFIG, {"productionVariants": [variant(2, instance="ml.g5.12xlarge")]},
        {"productionVariants": [variant(2, instance="ml.p3.2xlarge")]}, "gpu-instance-allowlist", stack="prod"),
    one("azure-native:keyvault:Vault", {"properties": {"enableRbacAuthorization": True, "enableSoftDelete": True,
                                                        "enablePurgeProtection": True}},
        {"properties": {"enableRbacAuthorization": True, "enableSoftDelete": True, "enablePurgeProtection": False}},
        "azure-secure-resources"),
    *azure_traffic_cases(),
    one("gcp:container/nodePool:NodePool",
        {"nodeConfig": {"serviceAccount": "nodes@p.iam.gserviceaccount.com", "shieldedInstanceConfig": {
            "enableSecureBoot": True}, "workloadMetadataConfig": {"mode": "GKE_METADATA"}}},
        {"nodeConfig": {"serviceAccount": "default", "shieldedInstanceConfig": {"enableSecureBoot": True},
                        "workloadMetadataConfig": {"mode": "GKE_METADATA"}}}, "gcp-secure-resources"),
    *gcp_order_cases(),
]

PROD_ENDPOINT_URN = urn("prod", ENDPOINT_CONFIG, "subject")
