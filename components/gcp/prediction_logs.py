"""PredictionLogs (BigQuery): the dataset Vertex AI writes sampled request/response logs to, under CMEK.

Vertex creates the table `request_response_logging` in the dataset named by the endpoint's
`bigquery_destination` (cloud.google.com/vertex-ai/docs/predictions/online-prediction-logging); the dataset's
default key is the `logs` key, usable once BigQuery's agent is granted on it. Tables expire after the store's
retention, like the captured data in the bucket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp


@dataclass(frozen=True)
class PredictionLogsArgs:
    dataset_id: str
    project: str
    region: str
    kms_key_id: pulumi.Input[str]
    retention_days: int = 90
    labels: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False
    depends_on: Sequence[pulumi.Resource] = ()


class PredictionLogs(pulumi.ComponentResource):
    destination: pulumi.Output[str]
    """`bq://<project>.<dataset>` for an endpoint's logging config."""

    def __init__(self, name: str, args: PredictionLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:PredictionLogs", name, None, opts)
        dataset = gcp.bigquery.Dataset(
            f"{name}-dataset", dataset_id=args.dataset_id, project=args.project, location=args.region,
            default_encryption_configuration=gcp.bigquery.DatasetDefaultEncryptionConfigurationArgs(
                kms_key_name=args.kms_key_id),
            default_table_expiration_ms=args.retention_days * 86_400_000, delete_contents_on_destroy=not args.protect,
            labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=list(args.depends_on)))
        self.destination = pulumi.Output.concat("bq://", args.project, ".", dataset.dataset_id)
        self.register_outputs({"destination": self.destination})
