"""Where captured lines go (``CAPTURE_DESTINATION``): a local file, an object store, or Azure ML's collector.

Object stores (S3, GCS, Azure Blob) share one layout, SageMaker's data-capture layout: one object per flush,
``prefix/YYYY/MM/DD/HH/<MM-SS-ffffff>-<uuid>.jsonl``, written when ``CAPTURE_FLUSH_RECORDS`` records are queued
or ``CAPTURE_FLUSH_SECONDS`` have passed (and on shutdown). Every key is new (time + random suffix) and GCS and
Azure uploads are create-only, so the serving identity needs permission to create objects under the prefix and
nothing else: no read, list, overwrite, delete or bucket-level get. Each cloud SDK is imported, and its client
built, on the first write, so a local run needs none of them and missing credentials are a counted write error
(``model_server_capture_failed_records_total``), never a crash of serving.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.model_server import capture_azure
from services.model_server.artifact import (
    AZURE_BLOB_HOST_SUFFIX,
    ArtifactError,
    ArtifactLocation,
    azure_container_client,
    parse_location,
    redact,
)
from services.model_server.capture import CaptureSink

CONTENT_TYPE = "application/jsonlines"
ACCEPTED = (
    "a local .jsonl path, s3://bucket/prefix, gs://bucket/prefix, "
    f"https://<account>{AZURE_BLOB_HOST_SUFFIX}/<container>/<prefix> (optionally ?<SAS>), "
    f"or {capture_azure.DESTINATION}"
)
"""Every form ``CAPTURE_DESTINATION`` accepts (start-up errors quote it)."""


class FileSink:
    """Appends to a local JSON Lines file as soon as records arrive."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, lines: list[bytes]) -> None:
        with self.path.open("ab") as handle:
            handle.write(b"".join(lines))

    def due(self, pending: int, seconds_since_write: float) -> bool:
        return pending > 0


class ObjectSink:
    """One new object per flush under ``prefix/YYYY/MM/DD/HH/``; subclasses only ``connect`` and ``put``."""

    scheme = ""

    def __init__(self, uri: str, flush_records: int, flush_seconds: float, client: Any = None) -> None:
        location = parse_location(uri)
        if location.scheme != self.scheme:
            raise ValueError(f"{type(self).__name__} writes {self.scheme} locations, got {redact(uri)!r}")
        self.location: ArtifactLocation = location
        self.bucket, self.prefix = location.bucket, location.path.strip("/")
        self.flush_records, self.flush_seconds = flush_records, flush_seconds
        self._client = client

    @property
    def client(self) -> Any:
        """The SDK client given to the constructor, else one built on first use (``connect``)."""
        if self._client is None:
            self._client = self.connect()
        return self._client

    def connect(self) -> Any:
        raise NotImplementedError

    def put(self, key: str, body: bytes) -> None:
        """Create the object ``key`` holding ``body``; raise if the store refuses."""
        raise NotImplementedError

    def key_for(self, now: datetime) -> str:
        """Object key for a flush at ``now``: hour-partitioned, unique per flush."""
        stamp = now.strftime("%Y/%m/%d/%H")
        name = f"{now.strftime('%M-%S-%f')}-{uuid.uuid4().hex[:12]}.jsonl"
        return "/".join(part for part in (self.prefix, stamp, name) if part)

    def write(self, lines: list[bytes]) -> None:
        self.put(self.key_for(datetime.now(UTC)), b"".join(lines))

    def due(self, pending: int, seconds_since_write: float) -> bool:
        return pending >= self.flush_records or (pending > 0 and seconds_since_write >= self.flush_seconds)


class S3Sink(ObjectSink):
    """``s3://bucket/prefix`` with boto3 (standard AWS configuration; IRSA on EKS). Needs ``s3:PutObject``."""

    scheme = "s3"

    def connect(self) -> Any:
        import boto3  # only when capture goes to S3

        return boto3.client("s3")

    def put(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=CONTENT_TYPE)


class GcsSink(ObjectSink):
    """``gs://bucket/prefix`` with google-cloud-storage (application default credentials: GKE Workload Identity).

    Create-only: the upload carries ``ifGenerationMatch=0`` ("the request succeeds only if there are no live
    objects" of that name, else 412; cloud.google.com/storage/docs/request-preconditions), so
    ``roles/storage.objectCreator`` (``storage.objects.create``) is enough; replacing an object would also need
    ``storage.objects.delete`` (cloud.google.com/storage/docs/access-control/iam-permissions).
    ``Client.bucket(name)`` builds the handle without a request ("This will not make an HTTP request", its
    docstring in google/cloud/storage/client.py), unlike ``get_bucket`` which reloads the bucket and needs
    ``storage.buckets.get``.
    """

    scheme = "gs"

    def connect(self) -> Any:
        from google.cloud import storage  # only when capture goes to GCS; honours STORAGE_EMULATOR_HOST

        return storage.Client()

    def put(self, key: str, body: bytes) -> None:
        blob = self.client.bucket(self.bucket).blob(key)
        blob.upload_from_string(body, content_type=CONTENT_TYPE, if_generation_match=0)


class AzureBlobSink(ObjectSink):
    """``https://<account>.blob.core.windows.net/<container>/<prefix>`` with azure-storage-blob.

    Credentials as for model downloads (``artifact.azure_container_client``): ``AZURE_STORAGE_CONNECTION_STRING``
    if set (Azurite), else a SAS in the URL, else ``DefaultAzureCredential`` (AKS workload identity: the webhook
    injects ``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``, ``AZURE_FEDERATED_TOKEN_FILE``).
    Create-only: ``upload_blob(overwrite=False)`` sends ``If-None-Match: *`` (azure/storage/blob/_upload_helpers.py
    ``upload_block_blob``), so an existing blob is refused with 409 ``BlobAlreadyExists``; a single Put Blob
    that creates a blob is authorised by ``.../containers/blobs/add/action`` or ``.../blobs/write``
    (learn.microsoft.com/rest/api/storageservices/put-blob, "Authorization"). No container or blob is read.
    """

    scheme = "azure"

    def connect(self) -> Any:
        return azure_container_client(self.location)

    def put(self, key: str, body: bytes) -> None:
        from azure.storage.blob import ContentSettings

        self.client.upload_blob(key, body, overwrite=False, content_settings=ContentSettings(content_type=CONTENT_TYPE))


OBJECT_SINKS: dict[str, type[ObjectSink]] = {sink.scheme: sink for sink in (S3Sink, GcsSink, AzureBlobSink)}


def destination_problem(destination: str) -> str | None:
    """Why ``destination`` is not a capture destination, or None when it is one (no SDK is imported)."""
    if destination == capture_azure.DESTINATION:
        return None
    try:
        location = parse_location(destination)
    except ArtifactError:
        location = None
    if location is None or (location.scheme == "local" and not location.path):
        return f"CAPTURE_DESTINATION={redact(destination)!r}: not a capture destination; expected {ACCEPTED}"
    return None


def open_sink(destination: str, flush_records: int, flush_seconds: float,
              feature_names: tuple[str, ...] | list[str] = ()) -> CaptureSink:
    """The sink for ``CAPTURE_DESTINATION`` (validated by ``destination_problem`` at start-up)."""
    problem = destination_problem(destination)
    if problem:
        raise ValueError(problem)
    if destination == capture_azure.DESTINATION:
        return capture_azure.AzureCollectorSink(feature_names)
    location = parse_location(destination)
    if location.scheme == "local":
        return FileSink(Path(location.path))
    return OBJECT_SINKS[location.scheme](destination, flush_records, flush_seconds)
