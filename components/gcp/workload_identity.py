"""WorkloadIdentity (GKE): one Google service account for one Kubernetes service account, with object access on
the artifact bucket restricted to key prefixes by IAM conditions, and the Workload Identity binding.

- Bucket-level grants carrying IAM conditions, not project roles and not one grant per object: GCS has no
  per-prefix resource to grant on (managed folders would need the prefixes created first), and the bucket has
  uniform bucket-level access, which IAM conditions require
  (cloud.google.com/storage/docs/access-control/iam#conditions).
- Reads: `roles/storage.objectViewer` where the object name starts with the prefix, or, for
  `storage.objects.list` (evaluated on the bucket, not on an object), where the list request's prefix does
  (`storage.googleapis.com/objectListPrefix`, cloud.google.com/iam/docs/conditions-attribute-reference). The
  model server lists `gs://<bucket>/<key>` before downloading (services/model_server/artifact.py).
- Writes: `roles/storage.objectCreator` under the capture prefix (create only: no read, no overwrite, no delete).
- The Kubernetes service account impersonates the Google one through `roles/iam.workloadIdentityUser` for
  `serviceAccount:<project>.svc.id.goog[<namespace>/<name>]` and the annotation
  `iam.gke.io/gcp-service-account` (cloud.google.com/kubernetes-engine/docs/how-to/workload-identity).
- The bucket's CMEK needs no grant to the workload: Cloud Storage's service agent decrypts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

ANNOTATION = "iam.gke.io/gcp-service-account"


def object_prefix_condition(bucket: str, prefix: str, listing: bool) -> str:
    """CEL expression matching objects under `prefix/` (and, with `listing`, list requests under it)."""
    prefix = prefix.rstrip("/") + "/"
    objects = f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}")'
    if not listing:
        return objects
    return f'{objects} || api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("{prefix}")'


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    project: str
    account_id: str
    """6-30 characters (`GcpNames.service_account`)."""
    namespace: str
    service_account: str
    bucket_name: pulumi.Input[str]
    reads_prefix: str | None = None
    writes_prefix: str | None = None


class WorkloadIdentity(pulumi.ComponentResource):
    email: pulumi.Output[str]
    annotations: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:WorkloadIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ksa = f"{args.namespace}/{args.service_account}"
        account = gcp.serviceaccount.Account(
            f"{name}-account", account_id=args.account_id, project=args.project, display_name=f"mlops {ksa}",
            description=f"Kubernetes service account {ksa} (Workload Identity)", opts=child)
        member = account.email.apply(lambda email: f"serviceAccount:{email}")
        grants = (("read", "roles/storage.objectViewer", args.reads_prefix, True),
                  ("write", "roles/storage.objectCreator", args.writes_prefix, False))
        for verb, role, prefix, listing in grants:
            if not prefix:
                continue
            gcp.storage.BucketIAMMember(
                f"{name}-{verb}", bucket=args.bucket_name, role=role, member=member,
                condition=gcp.storage.BucketIAMMemberConditionArgs(
                    title=f"{verb}-{prefix.rstrip('/').replace('/', '-')}"[:100],
                    description=f"{verb} under {prefix}/ only",
                    expression=pulumi.Output.from_input(args.bucket_name).apply(
                        lambda bucket, p=prefix, ls=listing: object_prefix_condition(bucket, p, ls))),
                opts=child)
        gcp.serviceaccount.IAMMember(
            f"{name}-wi", service_account_id=account.name, role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{args.project}.svc.id.goog[{ksa}]", opts=child)
        self.email = account.email
        self.annotations = {ANNOTATION: account.email}
        self.register_outputs({"email": account.email})
