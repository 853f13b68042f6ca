"""ArtifactStore (GCS): the stack's bucket of models, baselines, captured data and monitoring reports.

Uniform bucket-level access (no object ACLs), public access prevention enforced, versioning, CMEK with the
`storage` key (created only after the Cloud Storage agent may use it), lifecycle: captured data and reports
expire after `retention_days`, replaced versions after `noncurrent_version_days`. Prod protects the bucket and
refuses `force_destroy`; dev may be destroyed with its objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

EXPIRING_PREFIXES = ("data-capture/", "monitoring/")
"""Objects under these prefixes expire (models and baselines stay until replaced). `data-capture/` is where the model
servers on the GKE cluster write (infra/kubernetes_serving.py `CAPTURE_PREFIX`), as on S3; a lifecycle prefix
matches from the start of the object name, so the former `capture/` never matched it and captured requests were
kept forever, whatever `storage.retentionDays` said."""


@dataclass(frozen=True)
class ArtifactStoreArgs:
    bucket_name: str
    region: str
    kms_key_id: pulumi.Input[str]
    retention_days: int = 90
    noncurrent_version_days: int = 30
    labels: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False
    depends_on: Sequence[pulumi.Resource] = ()
    """The Cloud Storage agent's grant on the key."""


def lifecycle_rules(retention_days: int, noncurrent_days: int) -> list[gcp.storage.BucketLifecycleRuleArgs]:
    delete = gcp.storage.BucketLifecycleRuleActionArgs(type="Delete")
    return [
        gcp.storage.BucketLifecycleRuleArgs(action=delete, condition=gcp.storage.BucketLifecycleRuleConditionArgs(
            age=retention_days, matches_prefixes=list(EXPIRING_PREFIXES))),
        gcp.storage.BucketLifecycleRuleArgs(action=delete, condition=gcp.storage.BucketLifecycleRuleConditionArgs(
            days_since_noncurrent_time=noncurrent_days, with_state="ARCHIVED")),
        gcp.storage.BucketLifecycleRuleArgs(
            action=gcp.storage.BucketLifecycleRuleActionArgs(type="AbortIncompleteMultipartUpload"),
            condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=1)),
    ]


class ArtifactStore(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:ArtifactStore", name, None, opts)
        bucket = gcp.storage.Bucket(
            f"{name}-bucket", name=args.bucket_name, location=args.region.upper(), storage_class="STANDARD",
            uniform_bucket_level_access=True, public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            encryption=gcp.storage.BucketEncryptionArgs(default_kms_key_name=args.kms_key_id),
            lifecycle_rules=lifecycle_rules(args.retention_days, args.noncurrent_version_days),
            force_destroy=not args.protect, labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect,
                                        depends_on=list(args.depends_on)))
        self.bucket_name = bucket.name
        self.register_outputs({"bucket_name": bucket.name})

    def gs_uri(self, key: str) -> pulumi.Output[str]:
        """`gs://<bucket>/<key>` for a key relative to the store."""
        return pulumi.Output.concat("gs://", self.bucket_name, "/", key)
