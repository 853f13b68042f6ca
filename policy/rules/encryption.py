"""Encryption at rest with customer-managed keys, key rotation, encrypted alert topics."""

from __future__ import annotations

from collections.abc import Iterator

from policy.model import Check, Resource, ResourceRule
from policy.values import UNKNOWN, as_list, get, is_set, is_true

_KMS_SSE = ("aws:kms", "aws:kms:dsse")


def s3_encryption(r: Resource) -> Iterator[str]:
    """S3 default encryption is SSE-KMS with a named customer key, or SSE-S3.

    SSE-S3 is allowed here only because this resource cannot see which bucket it configures; the
    stack rule `s3-encryption-configured` requires SSE-KMS on every bucket except server access log
    targets, where S3 supports nothing but SSE-S3.
    """
    rules = as_list(r.props.get("rules"))
    if not rules:
        yield "no encryption rule: add rules[].applyServerSideEncryptionByDefault with sseAlgorithm aws:kms"
    for i, rule in enumerate(rules):
        default = get(rule, "applyServerSideEncryptionByDefault", default={})
        algorithm = get(default, "sseAlgorithm")
        if algorithm is not None and not is_set(algorithm):
            continue
        if algorithm not in (*_KMS_SSE, "AES256") and is_set(algorithm):
            yield f"rules[{i}] uses sseAlgorithm {algorithm!r}; use 'aws:kms' with a customer key"
        elif algorithm in _KMS_SSE and not is_set(get(default, "kmsMasterKeyId")):
            yield f"rules[{i}] has no kmsMasterKeyId: name the stack's KMS key (not the AWS-managed key)"


def ecr_encryption(r: Resource) -> Iterator[str]:
    """ECR repositories encrypt images with a customer KMS key."""
    configs = as_list(r.props.get("encryptionConfigurations"))
    if not configs:
        yield "encryptionConfigurations is missing: set encryptionType KMS with kmsKey"
        return
    kind = get(configs[0], "encryptionType", default="AES256")
    if kind is not UNKNOWN and kind not in ("KMS", "KMS_DSSE"):
        yield f"encryptionType is {kind!r}; use KMS with a customer key"
    elif not is_set(get(configs[0], "kmsKey")):
        yield "encryptionConfigurations[0].kmsKey is empty: without it ECR uses the AWS-managed key"


# SageMaker instance families with NVMe instance storage instead of an EBS ML storage volume: their disks
# are encrypted by the instance's hardware module and CreateEndpointConfig rejects a KmsKeyId. Keep in
# step with components/aws/endpoint_variants.py (a test checks both agree on every instance type).
_INSTANCE_STORE_PREFIXES = ("g5", "g6", "g7", "p5", "p6", "trn1", "trn2")


def has_instance_storage(instance_type: str) -> bool:
    """True for `ml.*` types whose storage is NVMe instance storage (no customer volume key possible)."""
    parts = instance_type.split(".")
    family = parts[1] if len(parts) == 3 and parts[0] == "ml" else parts[0]
    return "d" in family or family.startswith(_INSTANCE_STORE_PREFIXES)


def sagemaker_endpoint_config_encryption(r: Resource) -> Iterator[str]:
    """SageMaker endpoint volumes and captured data are encrypted with a customer key.

    Instance types with NVMe instance storage cannot take a volume key (hardware-encrypted disks), so
    kmsKeyArn may be absent when every variant uses one of them.
    """
    types = [get(v, "instanceType") for v in as_list(r.props.get("productionVariants"))]
    instance_storage = bool(types) and all(isinstance(t, str) and has_instance_storage(t) for t in types)
    if not is_set(r.props.get("kmsKeyArn")) and not instance_storage:
        yield "kmsKeyArn is not set: ML storage volumes of the endpoint would use an AWS-managed key"
    capture = r.props.get("dataCaptureConfig")
    if isinstance(capture, dict) and not is_set(capture.get("kmsKeyId")):
        yield "dataCaptureConfig.kmsKeyId is not set: captured requests would use the bucket default"


def eks_encryption(r: Resource) -> Iterator[str]:
    """EKS encrypts Kubernetes secrets with a customer key (envelope encryption)."""
    config = r.props.get("encryptionConfig")
    resources = as_list(get(config, "resources"))
    listed = get(config, "resources")
    if not isinstance(config, dict) or ("secrets" not in resources and listed is not UNKNOWN):
        yield "encryptionConfig with resources ['secrets'] is missing"
    elif not is_set(get(config, "provider", "keyArn")):
        yield "encryptionConfig.provider.keyArn is not set"


def log_group_encryption(r: Resource) -> Iterator[str]:
    """CloudWatch log groups are encrypted with the stack's KMS key."""
    if not is_set(r.props.get("kmsKeyId")):
        yield "kmsKeyId is not set: log events would be encrypted with a service-owned key"


def gcs_encryption(r: Resource) -> Iterator[str]:
    """GCS buckets use a CMEK default key."""
    if not is_set(get(r.props, "encryption", "defaultKmsKeyName")):
        yield "encryption.defaultKmsKeyName is not set (CMEK)"


def _gcp_kms_key_name(prop: str) -> Check:
    def check(r: Resource) -> Iterator[str]:
        path = prop.split(".")
        if not is_set(get(r.props, *path)):
            yield f"{prop} is not set: the data would be encrypted with a Google-managed key"

    return check


def gke_encryption(r: Resource) -> Iterator[str]:
    """GKE encrypts etcd secrets at application layer with a Cloud KMS key."""
    state = get(r.props, "databaseEncryption", "state")
    if state != "ENCRYPTED" and state is not UNKNOWN:
        yield "databaseEncryption.state is not ENCRYPTED (application-layer secrets encryption with CMEK)"
    elif not is_set(get(r.props, "databaseEncryption", "keyName")):
        yield "databaseEncryption.keyName is not set"


def azure_storage_encryption(r: Resource) -> Iterator[str]:
    """Azure storage accounts use a customer-managed key from Key Vault."""
    source = get(r.props, "encryption", "keySource")
    if source is not UNKNOWN and str(source).lower() != "microsoft.keyvault":
        yield f"encryption.keySource is {source!r}; use 'Microsoft.Keyvault' with keyVaultProperties"
    elif not is_set(get(r.props, "encryption", "keyVaultProperties", "keyName")):
        yield "encryption.keyVaultProperties.keyName is not set"


def azure_registry_encryption(r: Resource) -> Iterator[str]:
    """Azure container registries encrypt with a customer-managed key (Premium SKU)."""
    status = get(r.props, "encryption", "status")
    if status is not UNKNOWN and str(status).lower() != "enabled":
        yield "encryption.status is not 'enabled' (customer-managed key; needs the Premium SKU)"
    elif not is_set(get(r.props, "encryption", "keyVaultProperties", "keyIdentifier")):
        yield "encryption.keyVaultProperties.keyIdentifier is not set"


def azure_workspace_encryption(r: Resource) -> Iterator[str]:
    """Azure ML workspaces encrypt their data with a customer-managed key."""
    if not is_set(get(r.props, "encryption", "keyVaultProperties", "keyIdentifier")):
        yield "encryption.keyVaultProperties.keyIdentifier is not set (customer-managed key)"


def aks_encryption(r: Resource) -> Iterator[str]:
    """AKS encrypts etcd secrets with a Key Vault key (KMS plugin)."""
    if not is_true(get(r.props, "securityProfile", "azureKeyVaultKms", "enabled", default=False)):
        yield "securityProfile.azureKeyVaultKms.enabled is not true (Key Vault KMS for secrets)"


CUSTOMER_KEYS = ResourceRule(
    name="encryption-customer-managed-keys",
    description="Data at rest is encrypted with customer-managed keys (KMS / Cloud KMS / Key Vault).",
    checks={
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
            s3_encryption,
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
            s3_encryption,
        "aws:ecr/repository:Repository": ecr_encryption,
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration": sagemaker_endpoint_config_encryption,
        "aws:eks/cluster:Cluster": eks_encryption,
        "aws:cloudwatch/logGroup:LogGroup": log_group_encryption,
        "gcp:storage/bucket:Bucket": gcs_encryption,
        "gcp:artifactregistry/repository:Repository": _gcp_kms_key_name("kmsKeyName"),
        "gcp:vertex/aiEndpoint:AiEndpoint": _gcp_kms_key_name("encryptionSpec.kmsKeyName"),
        "gcp:container/cluster:Cluster": gke_encryption,
        "azure-native:storage:StorageAccount": azure_storage_encryption,
        "azure-native:containerregistry:Registry": azure_registry_encryption,
        "azure-native:machinelearningservices:Workspace": azure_workspace_encryption,
        "azure-native:containerservice:ManagedCluster": aks_encryption,
    },
    remediation="Pass the stack's key (components' encryption key output) to the resource's key property.",
)


def aws_kms_rotation(r: Resource) -> Iterator[str]:
    """Symmetric KMS keys rotate automatically."""
    spec = r.props.get("customerMasterKeySpec") or r.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    usage = r.props.get("keyUsage") or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return
    if not is_true(r.props.get("enableKeyRotation")):
        yield "enableKeyRotation is not true"


def gcp_kms_rotation(r: Resource) -> Iterator[str]:
    """Cloud KMS encryption keys have a rotation period."""
    purpose = r.props.get("purpose") or "ENCRYPT_DECRYPT"
    if purpose == "ENCRYPT_DECRYPT" and not is_set(r.props.get("rotationPeriod")):
        yield "rotationPeriod is not set (e.g. '7776000s' for 90 days)"


def azure_key_rotation(r: Resource) -> Iterator[str]:
    """Key Vault keys carry a rotation policy with a Rotate action."""
    actions = as_list(get(r.props, "properties", "rotationPolicy", "lifetimeActions"))
    if get(r.props, "properties", "rotationPolicy", "lifetimeActions") is UNKNOWN:
        return
    if not any(str(get(a, "action", "type", default="")).lower() == "rotate" for a in actions):
        yield "properties.rotationPolicy has no lifetime action of type 'rotate'"


KEY_ROTATION = ResourceRule(
    name="kms-key-rotation",
    description="Customer-managed encryption keys rotate automatically.",
    checks={
        "aws:kms/key:Key": aws_kms_rotation,
        "gcp:kms/cryptoKey:CryptoKey": gcp_kms_rotation,
        "azure-native:keyvault:Key": azure_key_rotation,
    },
)


def sns_topic_encryption(r: Resource) -> Iterator[str]:
    """SNS alert topics are encrypted with a KMS key."""
    if not is_set(r.props.get("kmsMasterKeyId")):
        yield "kmsMasterKeyId is not set: alert payloads would be stored without a customer key"


def pubsub_topic_encryption(r: Resource) -> Iterator[str]:
    """Pub/Sub topics are encrypted with a Cloud KMS key."""
    if not is_set(r.props.get("kmsKeyName")):
        yield "kmsKeyName is not set (CMEK)"


ALERT_TOPICS = ResourceRule(
    name="encrypted-alert-topics",
    description="Alert and notification topics are encrypted with a customer-managed key.",
    checks={
        "aws:sns/topic:Topic": sns_topic_encryption,
        "gcp:pubsub/topic:Topic": pubsub_topic_encryption,
    },
)

RULES = [CUSTOMER_KEYS, KEY_ROTATION, ALERT_TOPICS]
