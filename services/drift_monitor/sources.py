"""Where the monitor's inputs come from: a local file or folder, or an object-store prefix.

- a local file, or a local folder (every file below it, in name order);
- ``s3://bucket/prefix``: every object under the prefix, with boto3 (standard AWS configuration,
  ``AWS_ENDPOINT_URL`` for moto or MinIO);
- ``gs://bucket/prefix``: every blob under the prefix, with google-cloud-storage (application default
  credentials, ``STORAGE_EMULATOR_HOST`` for an emulator);
- ``https://<account>.blob.core.windows.net/<container>/<prefix>``: every blob under the prefix, with
  azure-storage-blob: ``AZURE_STORAGE_CONNECTION_STRING`` if set (Azurite), else a SAS in the URL, else
  ``DefaultAzureCredential`` (AKS workload identity), the model server's order.

Only object list/read (and create for ``--out``) are used, never a bucket- or container-level get: GCS
``Client.list_blobs`` / ``Client.bucket`` build the bucket handle without a request, so GKE's prefix-conditioned
object grants suffice (``storage.objects.list`` / ``get``; ``create``, plus ``delete`` to replace an existing
report, for ``--out``).

With ``since``, objects last written before it are not downloaded at all: a capture record is
always written after its inference, so such objects hold only older records.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from services.drift_monitor.errors import InputError

REMOTE_SCHEMES = ("s3", "gs")
AZURE_BLOB_HOST_SUFFIX = ".blob.core.windows.net"
FORMS = f"s3://bucket/prefix, gs://bucket/prefix or https://<account>{AZURE_BLOB_HOST_SUFFIX}/<container>/<prefix>"


@dataclass(frozen=True)
class Remote:
    """An object-store location: ``scheme`` ``s3``, ``gs`` or ``azure``; ``bucket`` is the Azure container."""

    scheme: str
    bucket: str
    key: str
    account_url: str = ""
    sas_token: str = field(default="", repr=False)

    def uri(self, key: str) -> str:
        """The location of object ``key`` in the same bucket/container (how reports name their inputs)."""
        if self.scheme == "azure":
            return f"{self.account_url}/{self.bucket}/{key}"
        return f"{self.scheme}://{self.bucket}/{key}"


def remote(location: str) -> Remote | None:
    """The object-store location, None for a local path; InputError for a bucket- or container-less one.

    The drift-monitor image holds only this package, so the model server's ``artifact.parse_location`` is not
    importable here; this reads the same forms the same way (container = first path segment, SAS = query).
    """
    parsed = urlparse(location)
    if parsed.scheme in REMOTE_SCHEMES:
        if not parsed.netloc:
            raise InputError(location, f"missing bucket name; expected {parsed.scheme}://bucket/prefix")
        return Remote(parsed.scheme, parsed.netloc, parsed.path.lstrip("/"))
    if parsed.scheme == "https" and parsed.netloc.endswith(AZURE_BLOB_HOST_SUFFIX):
        container, _, key = parsed.path.lstrip("/").partition("/")
        if not container:
            raise InputError(location, f"missing container; expected https://<account>{AZURE_BLOB_HOST_SUFFIX}"
                                       "/<container>/<prefix>")
        return Remote("azure", container, key, f"https://{parsed.netloc}", parsed.query)
    if "://" in location:
        raise InputError(location, f"unsupported location; expected a local path, {FORMS}")
    return None


def is_remote(location: str) -> bool:
    """True for object-store locations (see ``remote``)."""
    return remote(location) is not None


def azure_container(where: Remote) -> Any:
    """A ContainerClient: AZURE_STORAGE_CONNECTION_STRING, else the URL's SAS, else DefaultAzureCredential."""
    from azure.storage.blob import BlobServiceClient, ContainerClient

    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection_string:
        return BlobServiceClient.from_connection_string(connection_string).get_container_client(where.bucket)
    if where.sas_token:
        return ContainerClient(where.account_url, where.bucket, credential=where.sas_token)
    from azure.identity import DefaultAzureCredential  # AKS workload identity, managed identity

    return ContainerClient(where.account_url, where.bucket, credential=DefaultAzureCredential())


def _sdk_error(exc: Exception) -> str:
    """One line for an SDK error: Azure's messages go on with request ids and the XML body over many lines."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    code = getattr(exc, "error_code", None)
    return f"{type(exc).__name__}: {first}" + (f" [{code}]" if code and str(code) not in first else "")


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(name, "is not UTF-8 text; expected CSV or JSON lines") from None


def _local(path: Path) -> Iterator[tuple[str, str]]:
    if not path.exists():
        raise InputError(path, "file not found; check the path")
    files = [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    for file in files:
        try:
            yield str(file), _text(str(file), file.read_bytes())
        except OSError as exc:
            raise InputError(file, f"cannot be read ({exc.strerror})") from None


def _s3(bucket: str, prefix: str, since: datetime | None, client: Any) -> Iterator[tuple[str, str]]:
    if client is None:
        import boto3

        client = boto3.client("s3")
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/") or (since is not None and obj["LastModified"] < since):
                continue
            uri = f"s3://{bucket}/{obj['Key']}"
            yield uri, _text(uri, client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())


def _gcs(bucket: str, prefix: str, since: datetime | None, client: Any) -> Iterator[tuple[str, str]]:
    if client is None:
        from google.cloud import storage

        client = storage.Client()
    for blob in client.list_blobs(bucket, prefix=prefix):
        if blob.name.endswith("/") or (since is not None and blob.updated is not None and blob.updated < since):
            continue
        uri = f"gs://{bucket}/{blob.name}"
        yield uri, _text(uri, blob.download_as_bytes())


def _azure(where: Remote, since: datetime | None, client: Any) -> Iterator[tuple[str, str]]:
    """Blobs under the prefix of an azure-storage-blob ``ContainerClient`` (List Blobs + Get Blob only)."""
    container = client if client is not None else azure_container(where)
    for blob in container.list_blobs(name_starts_with=where.key or None):
        if blob.name.endswith("/") or (since is not None and blob.last_modified < since):
            continue
        uri = where.uri(blob.name)
        yield uri, _text(uri, container.download_blob(blob.name).readall())


def iter_sources(location: str, since: datetime | None = None, client: Any = None) -> Iterator[tuple[str, str]]:
    """``(name, text)`` of every file at ``location``, one at a time (see the module docstring).

    Objects are fetched as they are consumed, so a day of capture never sits in memory at once.
    Raises InputError for an unreadable location, or a prefix without objects.
    """
    where = remote(location)
    if where is None:
        yield from _local(Path(location))
        return
    if where.scheme == "azure":
        items = _azure(where, since, client)
    else:
        items = (_s3 if where.scheme == "s3" else _gcs)(where.bucket, where.key, since, client)
    found = False
    try:
        for item in items:
            found = True
            yield item
    except InputError:
        raise
    except Exception as exc:  # SDK errors: no credentials, no bucket, access denied
        raise InputError(location, f"cannot be listed or read ({_sdk_error(exc)})") from None
    if not found:
        window = " written in the --since-hours window" if since is not None else ""
        raise InputError(location, f"no objects{window} under this prefix; check the bucket and prefix")


def write_report(location: str, text: str, client: Any = None) -> None:
    """Write the report to a local path (parents created) or to an object (see ``remote``), replacing it."""
    where = remote(location)
    if where is None:
        path = Path(location)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(location, f"cannot write the report ({exc.strerror}); choose a writable --out") from None
        return
    if not where.key or where.key.endswith("/"):
        raise InputError(location, f"--out needs an object key: {where.uri('path/report.json')}")
    try:
        if where.scheme == "s3":
            if client is None:
                import boto3

                client = boto3.client("s3")
            client.put_object(Bucket=where.bucket, Key=where.key, Body=text.encode(), ContentType="application/json")
        elif where.scheme == "gs":
            if client is None:
                from google.cloud import storage

                client = storage.Client()
            client.bucket(where.bucket).blob(where.key).upload_from_string(text, content_type="application/json")
        else:
            from azure.storage.blob import ContentSettings

            container = client if client is not None else azure_container(where)
            container.upload_blob(where.key, text.encode(), overwrite=True,
                                  content_settings=ContentSettings(content_type="application/json"))
    except Exception as exc:  # SDK errors: no credentials, no bucket, access denied
        raise InputError(location, f"cannot write the report ({_sdk_error(exc)})") from None
