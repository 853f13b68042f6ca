"""Copy an artifact directory to the stack's bucket.

``s3://bucket/prefix`` uploads with boto3 (credentials, region and ``AWS_ENDPOINT_URL`` come from
the usual AWS environment/configuration). The prefix may contain ``{name}`` and ``{version}``,
filled from ``metadata.json``, e.g. ``s3://my-artifacts/models/{name}/{version}``. The bucket's
default encryption (the platform's ArtifactStore sets a KMS key) applies to every object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CONTENT_TYPES: dict[str, str] = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".onnx": "application/octet-stream",
}


class UploadError(ValueError):
    """The destination cannot be used (bad URI, unsupported scheme)."""


def resolve_destination(uri: str, artifact_dir: Path) -> tuple[str, str, str]:
    """Split ``uri`` into ``(scheme, bucket, prefix)`` after filling ``{name}``/``{version}``."""
    if "{" in uri:
        meta = json.loads((artifact_dir / "metadata.json").read_text(encoding="utf-8"))
        try:
            uri = uri.format(name=meta["name"], version=meta["version"])
        except (KeyError, IndexError, ValueError) as exc:
            raise UploadError(f"{uri}: only {{name}} and {{version}} may be used in the prefix") from exc
    parsed = urlparse(uri)
    if parsed.scheme == "gs":
        raise UploadError(f"{uri}: gs:// upload is not built in yet; use `gcloud storage cp -r` instead")
    if parsed.scheme != "s3" or not parsed.netloc:
        raise UploadError(f"{uri}: expected s3://bucket/prefix")
    return parsed.scheme, parsed.netloc, parsed.path.strip("/")


def upload_artifacts(artifact_dir: Path, uri: str, s3_client: Any | None = None) -> list[str]:
    """Upload every file under ``artifact_dir`` to ``uri``; return the object URIs, sorted."""
    _, bucket, prefix = resolve_destination(uri, artifact_dir)
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")
    uploaded = []
    for path in sorted(p for p in artifact_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(artifact_dir).as_posix()
        key = f"{prefix}/{relative}" if prefix else relative
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        s3_client.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type})
        uploaded.append(f"s3://{bucket}/{key}")
    return uploaded
