"""Same seed and revision => byte-identical artifacts; a different seed => a different model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from services.trainer import train
from tests.services.trainer.conftest import FIXED_SHA

EXPECTED_FILES = {
    "model.tar.gz",
    "model.onnx",
    "metadata.json",
    "baseline.csv",
    "baseline_summary.json",
    "statistics.json",
    "constraints.json",
}


def _hashes(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_writes_exactly_the_documented_files(artifact_dir: Path) -> None:
    assert {p.name for p in artifact_dir.iterdir()} == EXPECTED_FILES


def test_same_seed_gives_byte_identical_artifacts(artifact_dir: Path, tmp_path: Path) -> None:
    again = train(tmp_path / "again", seed=42, git_sha=FIXED_SHA)
    assert _hashes(again) == _hashes(artifact_dir)


def test_different_seed_gives_a_different_model_and_version(artifact_dir: Path, tmp_path: Path) -> None:
    other = train(tmp_path / "seed7", seed=7, git_sha=FIXED_SHA)
    assert _hashes(other)["model.onnx"] != _hashes(artifact_dir)["model.onnx"]
    versions = {json.loads((d / "metadata.json").read_text())["version"] for d in (other, artifact_dir)}
    assert len(versions) == 2


def test_version_defaults_to_the_model_hash(artifact_dir: Path) -> None:
    meta = json.loads((artifact_dir / "metadata.json").read_text())
    digest = hashlib.sha256((artifact_dir / "model.onnx").read_bytes()).hexdigest()
    assert meta["model_sha256"] == digest
    assert meta["version"] == digest[:12]
