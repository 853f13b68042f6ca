"""WorkloadIdentity (GKE): one Google service account for one Kubernetes service account, with object access on
the artifact bucket restricted to key prefixes by IAM conditions, and the Workload Identity binding.

- Bucket-level grants carrying IAM conditions, not project roles and not one grant per object: GCS has no
  per-prefix resource to grant on (managed folders would need the prefixes created first), and the bucket has
  uniform bucket-level access, which IAM conditions require
  (cloud.google.com/storage/docs/access-control/iam#conditions).
- Reads: `roles/storage.objectViewer` where the object name starts with one of the read prefixes, or, for
  `storage.objects.list` (evaluated on the bucket, not on an object), where the list request's prefix does
  (`storage.googleapis.com/objectListPrefix`, cloud.google.com/iam/docs/conditions-attribute-reference). The
  model server lists `gs://<bucket>/<key>` before downloading (services/model_server/artifact.py); the drift
  monitor lists its baseline and capture locations (services/drift_monitor/sources.py). Several read prefixes
  (the drift monitor's baseline and capture) are one grant whose condition ORs them: one binding per principal
  and role, and a condition may hold at most 12 logical operators
  (cloud.google.com/iam/docs/conditions-overview, limits), so at most `MAX_READ_PREFIXES` prefixes.
- Writes: `roles/storage.objectCreator` under the capture prefix (create only: no read, no overwrite, no delete).
- The Kubernetes service account impersonates the Google one through `roles/iam.workloadIdentityUser` for
  `serviceAccount:<project>.svc.id.goog[<namespace>/<name>]` and the annotation
  `iam.gke.io/gcp-service-account` (cloud.google.com/kubernetes-engine/docs/how-to/workload-identity).
- The bucket's CMEK needs no grant to the workload: Cloud Storage's service agent decrypts.
- The Workload Identity binding waits for `depends_on` (the cluster): the pool `<project>.svc.id.goog` exists only
  once the project's first cluster with Workload Identity does, and a binding made before fails with "Identity
  Pool does not exist" (googleforgames/global-multiplayer-demo#39,
  terraform-google-modules/terraform-google-kubernetes-engine#916).
- New grants take effect after IAM propagation (typically 2 minutes, up to 7: cloud.google.com/iam/docs/
  access-change-propagation); nothing here waits for it, so a pod's first call may meet a 403 and is retried
  by its restart (model server) or its next scheduled run (drift CronJob).
"""

from __future__ import annotations

from collections.abc import Sequence
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


MAX_CONDITION_OPERATORS = 12
"""Logical operators one IAM condition expression may hold (cloud.google.com/iam/docs/conditions-overview)."""
MAX_READ_PREFIXES = (MAX_CONDITION_OPERATORS + 1) // 2
"""Each listing prefix costs one `||` inside and one `||` joining it: 2n - 1 <= 12."""


def objects_condition(bucket: str, prefixes: Sequence[str], listing: bool) -> str:
    """CEL expression matching objects (and, with `listing`, list requests) under any of `prefixes`."""
    return " || ".join(object_prefix_condition(bucket, prefix, listing) for prefix in prefixes)


def condition_title(verb: str, prefixes: Sequence[str]) -> str:
    """The condition's title (at most 100 characters): the verb and the prefixes, `/` spelled `-`."""
    return "-".join([verb, *(p.strip("/").replace("/", "-") for p in prefixes)])[:100]


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    project: str
    account_id: str
    """6-30 characters (`GcpNames.service_account`)."""
    namespace: str
    service_account: str
    bucket_name: pulumi.Input[str]
    reads_prefixes: tuple[str, ...] = ()
    """Object name prefixes the account may read and list (one conditioned grant)."""
    writes_prefix: str | None = None
    """Object name prefix the account may create objects under (create only)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the Workload Identity binding waits for: the cluster whose creation makes the identity pool."""

    def __post_init__(self) -> None:
        if len(self.reads_prefixes) > MAX_READ_PREFIXES:
            raise ValueError(f"{len(self.reads_prefixes)} read prefixes for {self.namespace}/{self.service_account}: "
                             f"one IAM condition holds at most {MAX_CONDITION_OPERATORS} logical operators, i.e. "
                             f"{MAX_READ_PREFIXES} prefixes; grant a common parent prefix instead")


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
        grants = (("read", "roles/storage.objectViewer", args.reads_prefixes, True),
                  ("write", "roles/storage.objectCreator", (args.writes_prefix,) if args.writes_prefix else (), False))
        for verb, role, prefixes, listing in grants:
            if not prefixes:
                continue
            gcp.storage.BucketIAMMember(
                f"{name}-{verb}", bucket=args.bucket_name, role=role, member=member,
                condition=gcp.storage.BucketIAMMemberConditionArgs(
                    title=condition_title(verb, prefixes),
                    description=f"{verb} under {', '.join(p.rstrip('/') + '/' for p in prefixes)} only"[:256],
                    expression=pulumi.Output.from_input(args.bucket_name).apply(
                        lambda bucket, ps=prefixes, ls=listing: objects_condition(bucket, ps, ls))),
                opts=child)
        gcp.serviceaccount.IAMMember(
            f"{name}-wi", service_account_id=account.name, role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{args.project}.svc.id.goog[{ksa}]",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)))
        self.email = account.email
        self.annotations = {ANNOTATION: account.email}
        self.register_outputs({"email": account.email})
