"""GCP-only rules: hardened GKE, Vertex AI deployments in Vertex's order, CMEK usable before it is used.

The generic rules already cover GCP where every cloud has the same rule (CMEK on buckets, registries and
endpoints; uniform access and public access prevention; no basic roles; private prod clusters; labels; prod
protection). These are the rules only GCP has:

- GKE clusters and node pools run Workload Identity, shielded nodes, the GKE metadata server and a dedicated
  node service account, never the Compute Engine default account (it holds the editor role).
- A Vertex AI endpoint declares no `trafficSplit` (it could only name deployed models:
  GoogleCloudPlatform/magic-modules#12110); the VertexDeployment that sets it depends on its endpoint, and in
  prod every slot with traffic runs at least two replicas.
- A resource encrypted with a Cloud KMS key depends on the grant of that key to its service agent: created
  before it, the bucket / repository / dataset / endpoint / cluster fails with a permission error on the key
  (cloud.google.com/storage/docs/encryption/using-customer-managed-keys#prereqs).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from components.serving import PROD_MIN_REPLICAS, takes_traffic
from policy.model import Resource, ResourceRule, StackRule
from policy.values import UNKNOWN, get, is_true

DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexDeployment"
ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
KEY_PATHS = {
    "gcp:storage/bucket:Bucket": ("encryption", "defaultKmsKeyName"),
    "gcp:artifactregistry/repository:Repository": ("kmsKeyName",),
    "gcp:bigquery/dataset:Dataset": ("defaultEncryptionConfiguration", "kmsKeyName"),
    ENDPOINT: ("encryptionSpec", "kmsKeyName"),
    "gcp:container/cluster:Cluster": ("databaseEncryption", "keyName"),
}
"""Type -> where it names the Cloud KMS key it encrypts with."""


def _default_account(account: Any) -> bool:
    return account in (None, "", "default") or (isinstance(account, str)
                                                and account.endswith("-compute@developer.gserviceaccount.com"))


def gke_cluster_hardened(r: Resource) -> Iterator[str]:
    """Workload Identity, shielded nodes, no default node pool."""
    if get(r.props, "workloadIdentityConfig", "workloadPool") in (None, ""):
        yield "workloadIdentityConfig.workloadPool is not set (pods would use the node's service account)"
    if r.props.get("enableShieldedNodes") is False:
        yield "enableShieldedNodes must not be false"
    if not is_true(r.props.get("removeDefaultNodePool")):
        yield "removeDefaultNodePool must be true (manage node pools apart from the cluster)"


def gke_node_pool_hardened(r: Resource) -> Iterator[str]:
    """A dedicated node service account, the GKE metadata server, secure boot."""
    account = get(r.props, "nodeConfig", "serviceAccount")
    if account is not UNKNOWN and _default_account(account):
        yield "nodeConfig.serviceAccount is the Compute Engine default account (editor); use a dedicated one"
    if get(r.props, "nodeConfig", "workloadMetadataConfig", "mode") not in ("GKE_METADATA", UNKNOWN):
        yield "nodeConfig.workloadMetadataConfig.mode must be GKE_METADATA (Workload Identity)"
    if not is_true(get(r.props, "nodeConfig", "shieldedInstanceConfig", "enableSecureBoot", default=False)):
        yield "nodeConfig.shieldedInstanceConfig.enableSecureBoot must be true"


def vertex_endpoint_declares_no_split(r: Resource) -> Iterator[str]:
    if r.props.get("trafficSplit") not in (None, "", "{}", UNKNOWN):
        yield ("trafficSplit is set: it may only name deployed models (GoogleCloudPlatform/magic-modules#12110); "
               "let VertexDeployment set it")


GCP_RESOURCES = ResourceRule(
    name="gcp-secure-resources",
    description="GCP: hardened GKE clusters and node pools; Vertex endpoints leave the split to their deployment.",
    checks={"gcp:container/cluster:Cluster": gke_cluster_hardened,
            "gcp:container/nodePool:NodePool": gke_node_pool_hardened,
            ENDPOINT: vertex_endpoint_declares_no_split},
)


def vertex_deployment_order(resources: list[Resource], config: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """A VertexDeployment depends on its endpoint; prod slots with traffic run two replicas or more."""
    endpoints = {r.urn for r in resources if r.type == ENDPOINT}
    minimum = int(config.get("minReplicas", PROD_MIN_REPLICAS))
    for r in resources:
        if r.type != DEPLOYMENT:
            continue
        if not endpoints & set(r.dependencies):
            yield r.urn, "does not depend on a Vertex AI endpoint: models would be deployed before it exists"
        slots = r.props.get("slots") or {}
        for slot, weight in sorted((r.props.get("traffic") or {}).items()):
            replicas = get(slots, slot, "minReplicas")
            if (r.environment == "prod" and takes_traffic(weight) and isinstance(replicas, int | float)
                    and replicas < minimum):  # numbers reach the pack as protobuf doubles
                yield r.urn, (f"slot {slot} carries {int(weight)}% in prod on {int(replicas)} replica(s); run at "
                              f"least {minimum}")


def cmek_after_grant(resources: list[Resource], config: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """Every CMEK resource depends on a grant of its key (to its service agent)."""
    grants: dict[Any, set[str]] = {}
    for r in resources:
        if r.type == KEY_GRANT:
            grants.setdefault(r.props.get("cryptoKeyId"), set()).add(r.urn)
    for r in resources:
        path = KEY_PATHS.get(r.type)
        key = get(r.props, *path) if path else None
        if key in (None, "", UNKNOWN):
            continue
        if not grants.get(key, set()) & set(r.dependencies):
            yield r.urn, (f"encrypts with {key} but does not depend on the grant of that key to its service agent: "
                          "created first, it fails with a permission error on the key")


VERTEX_ORDER = StackRule(
    name="gcp-vertex-deployment-order",
    description="Vertex AI models deploy after their endpoint; prod slots with traffic run two replicas.",
    check=vertex_deployment_order,
    config_schema={"minReplicas": {"type": "integer", "minimum": 1, "default": PROD_MIN_REPLICAS,
                                   "description": "Replicas of a prod slot with traffic."}},
)
CMEK_ORDER = StackRule(
    name="gcp-cmek-after-grant",
    description="GCP resources encrypted with a Cloud KMS key are created after its service agent may use it.",
    check=cmek_after_grant,
)

RULES = [GCP_RESOURCES, VERTEX_ORDER, CMEK_ORDER]
