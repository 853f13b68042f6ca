"""Identity (GCP): one service account per stack-wide workload (GKE nodes, Vertex serving), the project roles it
needs and nothing more, bucket and repository access on those resources only.

Basic roles (owner, editor, viewer) are refused here and by the policy pack. Workloads in GKE (model servers,
drift CronJobs) get an account per Kubernetes service account, granted on their key prefixes only
(components/gcp/workload_identity.py), never a bucket-wide role from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.gcp.naming import GcpNames

BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


@dataclass(frozen=True)
class Workload:
    """What one workload may do."""

    description: str
    project_roles: tuple[str, ...] = ()
    bucket_role: str | None = None
    """Role on the artifact bucket (not the project)."""
    repository_reader: bool = False
    """Pull images from the stack's Artifact Registry repository."""

    def __post_init__(self) -> None:
        basic = [r for r in (*self.project_roles, self.bucket_role) if r in BASIC_ROLES]
        if basic:
            raise ValueError(f"basic role(s) {', '.join(basic)} grant far more than a workload needs; name "
                             "predefined roles instead")


WORKLOADS: dict[str, Workload] = {
    "gke-nodes": Workload(
        "GKE nodes: logs, metrics, image pulls (cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster)",
        ("roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer",
         "roles/stackdriver.resourceMetadata.writer", "roles/autoscaling.metricsWriter"), repository_reader=True),
    "serving": Workload("Vertex AI deployed models: read model artifacts, write logs and metrics",
                        ("roles/logging.logWriter", "roles/monitoring.metricWriter"),
                        bucket_role="roles/storage.objectViewer"),
}


@dataclass(frozen=True)
class IdentityArgs:
    names: GcpNames
    project: str
    bucket_name: pulumi.Input[str]
    repository: pulumi.Input[str]
    """Artifact Registry repository id (readers are granted on it)."""
    region: str
    workloads: Mapping[str, Workload] | None = None
    """Default: `WORKLOADS`."""


class Identity(pulumi.ComponentResource):
    emails: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.emails = {}
        for workload, spec in (args.workloads or WORKLOADS).items():
            account = gcp.serviceaccount.Account(
                f"{name}-{workload}", account_id=args.names.service_account(workload), project=args.project,
                display_name=f"mlops {workload}", description=spec.description[:256], opts=child)
            member = account.email.apply(lambda email: f"serviceAccount:{email}")
            for role in spec.project_roles:
                gcp.projects.IAMMember(f"{name}-{workload}-{role.split('/')[-1]}", project=args.project, role=role,
                                       member=member, opts=child)
            if spec.bucket_role:
                gcp.storage.BucketIAMMember(f"{name}-{workload}-bucket", bucket=args.bucket_name, role=spec.bucket_role,
                                            member=member, opts=child)
            if spec.repository_reader:
                gcp.artifactregistry.RepositoryIamMember(
                    f"{name}-{workload}-pull", project=args.project, location=args.region, repository=args.repository,
                    role="roles/artifactregistry.reader", member=member, opts=child)
            self.emails[workload] = account.email
        self.register_outputs({"emails": self.emails})
