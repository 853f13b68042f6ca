"""The model artifact: where it lives, how it is fetched, and what its metadata promises.

An artifact is a directory holding ``model.onnx`` and ``metadata.json`` (written by
``services.trainer``). It may sit on local disk, in S3 (``s3://bucket/prefix``, also a SageMaker
``model.tar.gz``), in GCS (``gs://bucket/prefix``) or in Azure Blob Storage
(``https://<account>.blob.core.windows.net/<container>/<prefix>``). Each cloud SDK is imported only
when its scheme is used, so a local run needs none of them.
"""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MODEL_FILE = "model.onnx"
METADATA_FILE = "metadata.json"
AZURE_BLOB_HOST_SUFFIX = ".blob.core.windows.net"


class ArtifactError(RuntimeError):
    """The artifact cannot be found, fetched or trusted; the message says which and why."""


@dataclass(frozen=True)
class ArtifactLocation:
    """A parsed model location. ``scheme`` is one of ``local``, ``s3``, ``gs``, ``azure``."""

    scheme: str
    path: str
    """Local path, or the key prefix inside the bucket/container."""
    bucket: str = ""
    """S3/GCS bucket or Azure container."""
    account_url: str = ""
    """Azure only: ``https://<account>.blob.core.windows.net``."""
    sas_token: str = field(default="", repr=False)
    """Azure only: a SAS query string carried in the URL, if any."""


def redact(uri: str) -> str:
    """``uri`` without its query string: on an Azure Blob URL that is a SAS token, a bearer credential that must
    not reach logs or error messages."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(query="<SAS redacted>")) if parts.scheme and parts.query else uri


def parse_location(uri: str) -> ArtifactLocation:
    """Split a model URI into its parts, or raise ``ArtifactError`` naming what is unsupported."""
    if not uri:
        raise ArtifactError("empty model location")
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in {"", "file"}:
        return ArtifactLocation(scheme="local", path=parts.path if scheme == "file" else uri)
    if scheme in {"s3", "gs"}:
        if not parts.netloc:
            raise ArtifactError(f"{redact(uri)!r}: missing bucket name (expected {scheme}://bucket/prefix)")
        return ArtifactLocation(scheme=scheme, bucket=parts.netloc, path=parts.path.lstrip("/"))
    if scheme == "https" and parts.netloc.endswith(AZURE_BLOB_HOST_SUFFIX):
        container, _, prefix = parts.path.lstrip("/").partition("/")
        if not container:
            raise ArtifactError(
                f"{redact(uri)!r}: missing container (expected https://<account>{AZURE_BLOB_HOST_SUFFIX}/<container>/<prefix>)"
            )
        return ArtifactLocation(
            scheme="azure",
            bucket=container,
            path=prefix,
            account_url=f"https://{parts.netloc}",
            sas_token=parts.query,
        )
    raise ArtifactError(
        f"{redact(uri)!r}: unsupported model location; expected a local path, s3://, gs:// or "
        f"https://<account>{AZURE_BLOB_HOST_SUFFIX}/<container>/<prefix>"
    )


def _safe_target(dest: Path, relative: str) -> Path:
    """Resolve ``relative`` under ``dest``, refusing keys that would escape it (``..``, absolute)."""
    target = (dest / relative).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise ArtifactError(f"refusing object key {relative!r}: it points outside {dest}")
    return target


def _relative_key(key: str, prefix: str) -> str:
    """The part of an object key below the location's prefix (the file name for a single object)."""
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    base = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    return key[len(base) :]


def _in_prefix(key: str, prefix: str) -> bool:
    """True for the object named ``prefix`` itself or any object in the ``prefix/`` folder."""
    return not prefix or key == prefix or key.startswith(prefix.rstrip("/") + "/")


def download_s3(client: Any, bucket: str, prefix: str, dest: Path) -> list[Path]:
    """Copy every object under ``s3://bucket/prefix`` into ``dest`` with ``client`` (boto3 S3)."""
    written: list[Path] = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/") or not _in_prefix(key, prefix):
                continue
            target = _safe_target(dest, _relative_key(key, prefix))
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, key, str(target))
            written.append(target)
    return written


def download_gcs(client: Any, bucket: str, prefix: str, dest: Path) -> list[Path]:
    """Copy every blob under ``gs://bucket/prefix`` into ``dest`` with ``client`` (google-cloud-storage)."""
    written: list[Path] = []
    for blob in client.list_blobs(bucket, prefix=prefix):
        if blob.name.endswith("/") or not _in_prefix(blob.name, prefix):
            continue
        target = _safe_target(dest, _relative_key(blob.name, prefix))
        target.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(target))
        written.append(target)
    return written


def download_azure(container: Any, prefix: str, dest: Path) -> list[Path]:
    """Copy every blob under ``prefix`` of an azure-storage-blob ``ContainerClient`` into ``dest``."""
    written: list[Path] = []
    for blob in container.list_blobs(name_starts_with=prefix or None):
        if blob.name.endswith("/") or not _in_prefix(blob.name, prefix):
            continue
        target = _safe_target(dest, _relative_key(blob.name, prefix))
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            container.download_blob(blob.name).readinto(handle)
        written.append(target)
    return written


def azure_container_client(location: ArtifactLocation) -> Any:
    """A ContainerClient authenticated by SAS (in the URL), connection string, or Azure identity."""
    from azure.storage.blob import BlobServiceClient, ContainerClient

    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection_string:
        return BlobServiceClient.from_connection_string(connection_string).get_container_client(location.bucket)
    credential: Any = None
    if location.sas_token:
        credential = location.sas_token
    else:
        from azure.identity import DefaultAzureCredential  # managed identity on AML / AKS

        credential = DefaultAzureCredential()
    return ContainerClient(location.account_url, location.bucket, credential=credential)


def _extract_tarballs(dest: Path, files: list[Path]) -> None:
    """Unpack a SageMaker-style ``model.tar.gz`` in place, refusing members that escape ``dest``."""
    for path in files:
        if path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path) as archive:
                archive.extractall(dest, filter="data")
            path.unlink()


def fetch(uri: str, cache_dir: Path) -> Path:
    """Make the artifact at ``uri`` available on local disk and return its directory."""
    location = parse_location(uri)
    if location.scheme == "local":
        return find_artifact_dir(Path(location.path))
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        if location.scheme == "s3":
            import boto3  # honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 and the usual credential chain

            files = download_s3(boto3.client("s3"), location.bucket, location.path, cache_dir)
        elif location.scheme == "gs":
            from google.cloud import (
                storage,
            )  # honours STORAGE_EMULATOR_HOST and application default credentials

            files = download_gcs(storage.Client(), location.bucket, location.path, cache_dir)
        else:
            files = download_azure(azure_container_client(location), location.path, cache_dir)
    except ArtifactError:
        raise
    except Exception as exc:  # SDK errors vary by cloud; the message must still say where it failed
        raise ArtifactError(f"could not download {redact(uri)!r}: {type(exc).__name__}: {exc}") from exc
    if not files:
        raise ArtifactError(f"{redact(uri)!r}: no objects found at that location")
    _extract_tarballs(cache_dir, files)
    return find_artifact_dir(cache_dir)


def find_artifact_dir(path: Path) -> Path:
    """The directory holding ``model.onnx``: ``path`` itself or its single child that has one.

    Azure ML mounts a registered folder one level below ``AZUREML_MODEL_DIR``; SageMaker tarballs
    often wrap the files in a folder too.
    """
    if not path.is_dir():
        raise ArtifactError(f"{path}: not a directory (expected a folder with {MODEL_FILE} and {METADATA_FILE})")
    if (path / MODEL_FILE).is_file():
        return path
    candidates = [child for child in sorted(path.iterdir()) if (child / MODEL_FILE).is_file()]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise ArtifactError(
            f"{path}: several model folders found ({', '.join(c.name for c in candidates)}); point to one"
        )
    raise ArtifactError(f"{path}: no {MODEL_FILE} here or in a sub-folder")


@dataclass(frozen=True)
class ModelMetadata:
    """What ``metadata.json`` promises about the model (the trainer/server contract)."""

    name: str
    version: str
    feature_names: tuple[str, ...]
    input_name: str
    output_names: tuple[str, ...]
    task: str
    class_labels: tuple[Any, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Everything else in the file (training metrics, git sha, ...), passed through to metadata routes."""

    @classmethod
    def from_dict(cls, data: Any, source: str = METADATA_FILE) -> ModelMetadata:
        """Validate the parsed JSON, raising ``ArtifactError`` with every problem found."""
        if not isinstance(data, dict):
            raise ArtifactError(f"{source}: expected a JSON object, got {type(data).__name__}")
        problems: list[str] = []

        def text(key: str) -> str:
            value = data.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "version":
                value = str(value)
            if not isinstance(value, str) or not value:
                problems.append(f"{key}: expected a non-empty string, got {value!r}")
                return ""
            return value

        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key)
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                problems.append(f"{key}: expected a non-empty list of strings")
                return ()
            return tuple(value)

        name, version, input_name, task = text("name"), text("version"), text("input_name"), text("task")
        feature_names, output_names = strings("feature_names"), strings("output_names")
        if task and task != "classification":
            problems.append(f"task: only 'classification' is served, got {task!r}")
        labels = data.get("class_labels")
        if (
            not isinstance(labels, list)
            or len(labels) < 2
            or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in labels)
        ):
            problems.append("class_labels: expected a list of at least two strings or integers")
            labels = []
        if len(set(feature_names)) != len(feature_names):
            problems.append("feature_names: names must be unique")
        if problems:
            raise ArtifactError(f"{source} is not a valid model metadata file:\n  - " + "\n  - ".join(problems))
        known = {"name", "version", "feature_names", "input_name", "output_names", "task", "class_labels"}
        return cls(
            name=name,
            version=version,
            feature_names=feature_names,
            input_name=input_name,
            output_names=output_names,
            task=task,
            class_labels=tuple(labels),
            extra={k: v for k, v in data.items() if k not in known},
        )

    @classmethod
    def load(cls, directory: Path) -> ModelMetadata:
        """Read and validate ``metadata.json`` in ``directory``."""
        path = directory / METADATA_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ArtifactError(f"{path}: missing (the artifact needs {MODEL_FILE} and {METADATA_FILE})") from exc
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{path}: unreadable JSON: {exc}") from exc
        return cls.from_dict(data, source=str(path))
