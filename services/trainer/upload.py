"""Publish a trained model to the stack's artifact bucket, in the layout every target's endpoint reads.

One model version is one folder::

    <bucket>/<model prefix>/<model version>/model.tar.gz      model.onnx + metadata.json
                                            statistics.json    drift baselines (SageMaker Model Monitor
                                            constraints.json   and services.drift_monitor)
                                            baseline.csv       the training features (drift monitor)

``<model prefix>`` is the service's ``modelArtifactUri`` in the stack file, by default
``models/<service>`` (``infra/composition.py`` plans the same keys). ``s3://`` uploads with boto3
(standard AWS configuration, ``AWS_ENDPOINT_URL``), ``gs://`` with google-cloud-storage (application
default credentials, ``STORAGE_EMULATOR_HOST``). The bucket's default encryption applies.

A model version is immutable: publishing different bytes under an existing version is refused
(the endpoints pinning it would silently change); publishing the same bytes again is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from services.trainer.package import ARCHIVE

SCHEMES = ("s3", "gs")
BASELINE_FILES = ("statistics.json", "constraints.json")
PUBLISHED_FILES = (ARCHIVE, *BASELINE_FILES, "baseline.csv")
DEFAULT_PREFIX = "models/{service}"
CONTENT_TYPES: dict[str, str] = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".gz": "application/gzip",
}
SHA_KEY = "sha256"
"""User metadata on every object: the file's SHA-256 (S3 ETags are not MD5s under SSE-KMS)."""
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class UploadError(ValueError):
    """The destination cannot be used (bad URI or name, or the version already holds another model)."""


@dataclass(frozen=True)
class Destination:
    """The folder of one model version: ``scheme://bucket/folder``."""

    scheme: str
    bucket: str
    folder: str

    def key(self, file: str) -> str:
        """Object key of ``file`` in the version folder."""
        return f"{self.folder}/{file}"

    def uri(self, file: str) -> str:
        """Object URI of ``file`` in the version folder."""
        return f"{self.scheme}://{self.bucket}/{self.key(file)}"


def _segment(value: str, flag: str) -> str:
    if not _SEGMENT.match(value or ""):
        raise UploadError(f"{flag} {value!r}: use letters, digits, '.', '_' or '-' (one path segment, no '/')")
    return value


def destination(
    bucket_uri: str, service: str, model_version: str, model_prefix: str | None = None
) -> Destination:
    """The version folder for ``--upload BUCKET_URI --service --model-version [--model-prefix]``."""
    parsed = urlparse(bucket_uri)
    if parsed.scheme not in SCHEMES or not parsed.netloc:
        raise UploadError(f"--upload {bucket_uri}: expected s3://BUCKET or gs://BUCKET")
    if parsed.path.strip("/") or parsed.query:
        raise UploadError(
            f"--upload {bucket_uri}: give the bucket only ({parsed.scheme}://{parsed.netloc}); the model goes to "
            "<model prefix>/<model version>/model.tar.gz, the prefix is models/<service> unless --model-prefix says "
            "otherwise (the service's modelArtifactUri in the stack file)"
        )
    _segment(service, "--service")
    _segment(model_version, "--model-version")
    prefix = DEFAULT_PREFIX.format(service=service) if model_prefix is None else model_prefix
    if not prefix or "://" in prefix or prefix.startswith("/") or prefix.endswith("/"):
        raise UploadError(
            f"--model-prefix {model_prefix!r}: expected a key prefix such as models/fraud "
            "(no scheme, no leading or trailing slash), as in the stack's modelArtifactUri"
        )
    return Destination(parsed.scheme, parsed.netloc, f"{prefix}/{model_version}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _S3:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    def existing_sha(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return head.get("Metadata", {}).get(SHA_KEY, "")

    def put(self, path: Path, key: str, content_type: str, sha: str) -> None:
        self.client.upload_file(
            str(path), self.bucket, key, ExtraArgs={"ContentType": content_type, "Metadata": {SHA_KEY: sha}}
        )


class _GCS:
    def __init__(self, client: Any, bucket: str) -> None:
        self.bucket = client.bucket(bucket)

    def existing_sha(self, key: str) -> str | None:
        blob = self.bucket.get_blob(key)
        return None if blob is None else (blob.metadata or {}).get(SHA_KEY, "")

    def put(self, path: Path, key: str, content_type: str, sha: str) -> None:
        blob = self.bucket.blob(key)
        blob.metadata = {SHA_KEY: sha}
        blob.upload_from_filename(str(path), content_type=content_type)


def _store(target: Destination, client: Any | None) -> _S3 | _GCS:
    if target.scheme == "s3":
        if client is None:
            import boto3

            client = boto3.client("s3")
        return _S3(client, target.bucket)
    if client is None:
        from google.cloud import storage

        client = storage.Client()
    return _GCS(client, target.bucket)


def upload_artifacts(artifact_dir: Path, target: Destination, client: Any | None = None) -> list[str]:
    """Publish ``PUBLISHED_FILES`` of ``artifact_dir`` to ``target``; return their URIs in that order.

    ``client`` is a boto3 S3 client (``s3://``) or a ``google.cloud.storage.Client`` (``gs://``);
    by default one is built from the environment. Raises ``UploadError`` before writing anything if
    the version folder already holds different files.
    """
    store = _store(target, client)
    files = [(artifact_dir / name, name, _sha256(artifact_dir / name)) for name in PUBLISHED_FILES]
    pending = []
    for path, name, sha in files:
        existing = store.existing_sha(target.key(name))
        if existing is None:
            pending.append((path, name, sha))
        elif existing != sha:
            raise UploadError(
                f"{target.uri(name)} already exists with other content; model versions are immutable "
                "(endpoints pinning this version would change under them): choose a new --model-version"
            )
    # model.tar.gz last: a version folder whose archive exists is complete
    for path, name, sha in sorted(pending, key=lambda item: item[1] == ARCHIVE):
        store.put(path, target.key(name), CONTENT_TYPES.get(path.suffix, "application/octet-stream"), sha)
    return [target.uri(name) for _, name, _ in files]
