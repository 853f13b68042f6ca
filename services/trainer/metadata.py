"""``metadata.json``: the contract between the trainer and the model server.

Everything here is a pure function of the inputs (no wall-clock time), so the same seed and the
same source revision produce byte-identical metadata.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from services.trainer.onnx_export import LABEL_OUTPUT, PROBABILITY_OUTPUT

METADATA_VERSION = 1
# Distributions whose versions decide the artifact's bytes; recorded so a rebuild can match them.
TRACKED_LIBRARIES: tuple[str, ...] = ("numpy", "onnx", "onnxruntime", "scikit-learn", "skl2onnx")
UNKNOWN = "unknown"


def git_sha(repo_dir: Path | None = None) -> str:
    """``git rev-parse HEAD`` of ``repo_dir`` (default: this source tree), or ``"unknown"``."""
    cwd = repo_dir or Path(__file__).resolve().parent
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    sha = result.stdout.strip()
    return sha if result.returncode == 0 and sha else UNKNOWN


def library_versions() -> dict[str, str]:
    """Python and the tracked libraries' installed versions (``"unknown"`` when not installed)."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = UNKNOWN
    return versions


def build(
    *,
    name: str,
    version: str,
    feature_names: list[str],
    class_labels: list[int],
    class_names: list[str],
    signature: dict[str, list[dict[str, Any]]],
    opsets: dict[str, int],
    metrics: dict[str, float],
    training: dict[str, Any],
    seed: int,
    source_sha: str,
    model_sha256: str,
    artifacts: dict[str, str],
) -> dict[str, Any]:
    """Assemble the metadata document (key order is fixed here and kept when written)."""
    return {
        "metadata_version": METADATA_VERSION,
        "name": name,
        "version": version,
        "task": "classification",
        "format": "onnx",
        "model_file": artifacts["model"],
        "model_sha256": model_sha256,
        "feature_names": feature_names,
        "input_name": signature["inputs"][0]["name"],
        "output_names": [output["name"] for output in signature["outputs"]],
        "label_output": LABEL_OUTPUT,
        "probability_output": PROBABILITY_OUTPUT,
        "class_labels": class_labels,
        "class_names": class_names,
        "signature": signature,
        "opsets": opsets,
        "metrics": metrics,
        "training": training,
        "seed": seed,
        "git_sha": source_sha,
        "libraries": library_versions(),
        "artifacts": artifacts,
    }
