"""Identity (GCP): one service account per workload, project roles it needs and nothing more, bucket and
repository access on those resources only, and Workload Identity bindings for in-cluster jobs.

Basic roles (owner, editor, viewer) are refused here and by the policy pack. A workload running in GKE
impersonates its account through `roles/iam.workloadIdentityUser` granted to
`serviceAccount:<project>.svc.id.goog[<namespace>/<kubernetes service account>]`
(cloud.google.com/kubernetes-engine/docs/how-to/workload-identity).
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
    kubernetes_service_account: str | None = None
    """`<namespace>/<name>` of the Kubernetes service account that impersonates it (Workload Identity)."""

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
    "drift": Workload("Drift monitor job in GKE: read captures and baselines, write reports and metrics",
                      ("roles/logging.logWriter", "roles/monitoring.metricWriter"),
                      bucket_role="roles/storage.objectUser", repository_reader=True,
                      kubernetes_service_account="mlops/drift-monitor"),
}


@dataclass(frozen=True)
class IdentityArgs:
    names: GcpNames
    project: str
    bucket_name: pulumi.Input[str]
    repository: pulumi.Input[str]
    """Artifact Registry repository id (readers are granted on it)."""
    region: str
    workload_identity: bool = True
    """Bind Kubernetes service accounts (needs a cluster with Workload Identity, i.e. the stack's GKE: the bindings
    are made by `bind_workload_identity(cluster)` once it exists)."""
    workloads: Mapping[str, Workload] | None = None
    """Default: `WORKLOADS`."""


class Identity(pulumi.ComponentResource):
    emails: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.emails = {}
        self._name, self._project = name, args.project
        self._in_cluster: list[tuple[str, gcp.serviceaccount.Account, str]] = []
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
            if spec.kubernetes_service_account and args.workload_identity:
                self._in_cluster.append((workload, account, spec.kubernetes_service_account))
            self.emails[workload] = account.email
        self.register_outputs({"emails": self.emails})

    def bind_workload_identity(self, cluster: pulumi.Resource) -> None:
        """Let the in-cluster workloads impersonate their accounts, once `cluster` (with Workload Identity) exists.

        The pool `<project>.svc.id.goog` exists only after the project's first cluster with Workload Identity:
        a binding set before fails with "Identity Pool does not exist" (googleforgames/global-multiplayer-demo#39,
        terraform-google-modules/terraform-google-kubernetes-engine#916), and the cluster itself needs the nodes'
        account from here, so the bindings come in this second step.
        """
        for workload, account, kubernetes_account in self._in_cluster:
            gcp.serviceaccount.IAMMember(
                f"{self._name}-{workload}-wi", service_account_id=account.name, role="roles/iam.workloadIdentityUser",
                member=f"serviceAccount:{self._project}.svc.id.goog[{kubernetes_account}]",
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster]))
