"""Encryption (GCP): one Cloud KMS key ring, one key per purpose, each used by one Google service agent.

A purpose is what the key protects: `storage` (the artifact bucket), `registry` (Artifact Registry), `vertex`
(the Vertex AI endpoint and models), `logs` (the BigQuery dataset of prediction logs) and `cluster` (GKE's
application-layer encryption of Kubernetes secrets). Each service's
agent gets `roles/cloudkms.cryptoKeyEncrypterDecrypter` on its own key only, before any resource uses the key
(a bucket or repository created with CMEK fails when its agent cannot use the key). Agents: the Cloud
Storage and BigQuery ones from their data sources, Artifact Registry's and Vertex AI's through
`gcp.projects.ServiceIdentity`, which also creates them on a fresh project.

Keys rotate every `rotation_days`. Key rings and keys cannot be deleted in Cloud KMS (the provider only
forgets them and schedules the key versions for destruction: registry.terraform.io/providers/hashicorp/
google/latest/docs/resources/kms_key_ring), so their names are stable and prod protects them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.gcp.naming import GcpNames

ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
PURPOSES = ("storage", "registry", "vertex", "logs", "cluster")


Agent = Callable[[str, str, pulumi.ResourceOptions], pulumi.Output[str]]


def _identity(service: str) -> Agent:
    def agent(resource_name: str, project: str, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        return gcp.projects.ServiceIdentity(resource_name, project=project, service=service, opts=opts).email
    return agent


AGENTS: dict[str, Agent] = {
    "storage": lambda _name, project, opts: gcp.storage.get_project_service_account_output(
        project=project, opts=pulumi.InvokeOutputOptions(parent=opts.parent)).email_address,
    "registry": _identity("artifactregistry.googleapis.com"),
    "vertex": _identity("aiplatform.googleapis.com"),
    "logs": lambda _name, project, opts: gcp.bigquery.get_default_service_account_output(
        project=project, opts=pulumi.InvokeOutputOptions(parent=opts.parent)).email,
    # GKE's agent has a documented address (cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets)
    "cluster": lambda _name, project, opts: gcp.organizations.get_project_output(
        project_id=project, opts=pulumi.InvokeOutputOptions(parent=opts.parent)).number.apply(
        lambda number: f"service-{number}@container-engine-robot.iam.gserviceaccount.com"),
}
"""Purpose -> the email of the Google service agent that encrypts with its key."""


@dataclass(frozen=True)
class EncryptionArgs:
    names: GcpNames
    project: str
    region: str
    """Location of the key ring: a key must be in the same location as the resources it protects."""
    rotation_days: int = 90
    labels: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False


class Encryption(pulumi.ComponentResource):
    """A KMS key ring with a rotating key per purpose and its service agent's grant."""

    key_ids: dict[str, pulumi.Output[str]]
    grants: dict[str, gcp.kms.CryptoKeyIAMMember]
    """Purpose -> the agent's grant: resources using the key depend on it."""

    def __init__(self, name: str, args: EncryptionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:Encryption", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        ring = gcp.kms.KeyRing(f"{name}-ring", name=args.names.name("keys"), location=args.region,
                               project=args.project, opts=kept)
        self.key_ids, self.grants = {}, {}
        for purpose in PURPOSES:
            key = gcp.kms.CryptoKey(f"{name}-{purpose}", name=purpose, key_ring=ring.id, purpose="ENCRYPT_DECRYPT",
                                    rotation_period=f"{args.rotation_days * 86400}s", labels=dict(args.labels),
                                    opts=kept)
            agent = AGENTS[purpose](f"{name}-{purpose}-identity", args.project, child)
            self.grants[purpose] = gcp.kms.CryptoKeyIAMMember(
                f"{name}-{purpose}-agent", crypto_key_id=key.id, role=ENCRYPTER,
                member=agent.apply(lambda email: f"serviceAccount:{email}"), opts=child)
            self.key_ids[purpose] = key.id
        self.register_outputs({"key_ids": self.key_ids})

    def ready(self, *purposes: str) -> Mapping[str, object]:
        """ResourceOptions kwargs: depend on the grants of `purposes` (use the keys only once agents may)."""
        return {"depends_on": [self.grants[p] for p in purposes]}
