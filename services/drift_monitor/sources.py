"""Where the monitor's inputs come from: a local file or folder, or an object-store prefix.

- a local file, or a local folder (every file below it, in name order);
- ``s3://bucket/prefix``: every object under the prefix, with boto3 (standard AWS configuration,
  ``AWS_ENDPOINT_URL`` for moto or MinIO);
- ``gs://bucket/prefix``: every blob under the prefix, with google-cloud-storage (application default
  credentials, ``STORAGE_EMULATOR_HOST`` for an emulator).

With ``since``, objects last written before it are not downloaded at all: a capture record is
always written after its inference, so such objects hold only older records.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from services.drift_monitor.errors import InputError

REMOTE_SCHEMES = ("s3", "gs")


def is_remote(location: str) -> bool:
    """True for ``s3://`` and ``gs://`` locations."""
    return urlparse(location).scheme in REMOTE_SCHEMES


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


def iter_sources(location: str, since: datetime | None = None, client: Any = None) -> Iterator[tuple[str, str]]:
    """``(name, text)`` of every file at ``location``, one at a time (see the module docstring).

    Objects are fetched as they are consumed, so a day of capture never sits in memory at once.
    Raises InputError for an unreadable location, or a prefix without objects.
    """
    parsed = urlparse(location)
    if parsed.scheme not in REMOTE_SCHEMES:
        yield from _local(Path(location))
        return
    if not parsed.netloc:
        raise InputError(location, f"missing bucket name; expected {parsed.scheme}://bucket/prefix")
    reader = _s3 if parsed.scheme == "s3" else _gcs
    found = False
    try:
        for item in reader(parsed.netloc, parsed.path.lstrip("/"), since, client):
            found = True
            yield item
    except InputError:
        raise
    except Exception as exc:  # SDK errors: no credentials, no bucket, access denied
        raise InputError(location, f"cannot be listed or read ({type(exc).__name__}: {exc})") from None
    if not found:
        window = " written in the --since-hours window" if since is not None else ""
        raise InputError(location, f"no objects{window} under this prefix; check the bucket and prefix")


def write_report(location: str, text: str, client: Any = None) -> None:
    """Write the report to a local path (parents created) or to an ``s3://`` / ``gs://`` object."""
    parsed = urlparse(location)
    if parsed.scheme not in REMOTE_SCHEMES:
        path = Path(location)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(location, f"cannot write the report ({exc.strerror}); choose a writable --out") from None
        return
    key = parsed.path.lstrip("/")
    if not parsed.netloc or not key or key.endswith("/"):
        raise InputError(location, f"--out needs an object key: {parsed.scheme}://bucket/path/report.json")
    try:
        if parsed.scheme == "s3":
            if client is None:
                import boto3

                client = boto3.client("s3")
            client.put_object(Bucket=parsed.netloc, Key=key, Body=text.encode(), ContentType="application/json")
        else:
            if client is None:
                from google.cloud import storage

                client = storage.Client()
            client.bucket(parsed.netloc).blob(key).upload_from_string(text, content_type="application/json")
    except Exception as exc:  # SDK errors: no credentials, no bucket, access denied
        raise InputError(location, f"cannot write the report ({type(exc).__name__}: {exc})") from None
