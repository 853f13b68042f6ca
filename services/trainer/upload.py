"""Copy an artifact directory to the stack's bucket.

- ``s3://bucket/prefix`` uploads with boto3 (credentials, region and ``AWS_ENDPOINT_URL`` come
  from the standard AWS configuration).
- ``gs://bucket/prefix`` uploads with google-cloud-storage (application default credentials;
  ``STORAGE_EMULATOR_HOST`` for an emulator).

The prefix may contain ``{name}`` and ``{version}``, filled from ``metadata.json``, e.g.
``s3://my-artifacts/models/{name}/{version}``. The bucket's default encryption (the platform's
ArtifactStore sets a customer-managed key) applies to every object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

SCHEMES = ("s3", "gs")
CONTENT_TYPES: dict[str, str] = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".onnx": "application/octet-stream",
}


class UploadError(ValueError):
    """The destination cannot be used (bad URI, unsupported scheme, unknown placeholder)."""


@dataclass(frozen=True)
class Destination:
    """Where the artifact goes: ``scheme://bucket/prefix`` with placeholders filled."""

    scheme: str
    bucket: str
    prefix: str

    def key(self, relative: str) -> str:
        """Object key of a file at ``relative`` inside the artifact directory."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def uri(self, relative: str) -> str:
        """Object URI of a file at ``relative`` inside the artifact directory."""
        return f"{self.scheme}://{self.bucket}/{self.key(relative)}"


def parse_destination(uri: str, name: str, version: str) -> Destination:
    """Fill ``{name}``/``{version}`` in ``uri`` and split it; raise UploadError if unusable."""
    try:
        filled = uri.format(name=name, version=version)
    except (KeyError, IndexError, ValueError):
        raise UploadError(f"{uri}: only {{name}} and {{version}} may be used in the prefix") from None
    parsed = urlparse(filled)
    if parsed.scheme not in SCHEMES or not parsed.netloc:
        raise UploadError(f"{uri}: expected s3://bucket/prefix or gs://bucket/prefix")
    return Destination(parsed.scheme, parsed.netloc, parsed.path.strip("/"))


def _files(artifact_dir: Path) -> list[tuple[Path, str, str]]:
    return [
        (path, path.relative_to(artifact_dir).as_posix(), CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
        for path in sorted(p for p in artifact_dir.rglob("*") if p.is_file())
    ]


def upload_artifacts(artifact_dir: Path, uri: str, client: Any | None = None) -> list[str]:
    """Upload every file under ``artifact_dir`` to ``uri``; return the object URIs, sorted.

    ``client`` is a boto3 S3 client for ``s3://`` or a ``google.cloud.storage.Client`` for
    ``gs://``; by default one is built from the environment.
    """
    meta = json.loads((artifact_dir / "metadata.json").read_text(encoding="utf-8"))
    destination = parse_destination(uri, meta["name"], meta["version"])
    files = _files(artifact_dir)
    if destination.scheme == "s3":
        if client is None:
            import boto3

            client = boto3.client("s3")
        for path, relative, content_type in files:
            client.upload_file(
                str(path), destination.bucket, destination.key(relative), ExtraArgs={"ContentType": content_type}
            )
    else:
        if client is None:
            from google.cloud import storage

            client = storage.Client()
        bucket = client.bucket(destination.bucket)
        for path, relative, content_type in files:
            bucket.blob(destination.key(relative)).upload_from_filename(str(path), content_type=content_type)
    return [destination.uri(relative) for _, relative, _ in files]
