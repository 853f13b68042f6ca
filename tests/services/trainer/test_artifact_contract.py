"""What the model server and SageMaker Model Monitor read from the artifact directory."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest

from services.trainer.metadata import git_sha

REPO_ROOT = Path(__file__).resolve().parents[3]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def meta(artifact_dir: Path) -> dict[str, Any]:
    return _json(artifact_dir / "metadata.json")


@pytest.fixture(scope="module")
def baseline_rows(artifact_dir: Path) -> tuple[list[str], np.ndarray]:
    with (artifact_dir / "baseline.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        values = np.array([[float(v) for v in row] for row in reader])
    return header, values


def test_metadata_has_the_server_contract_fields(meta: dict[str, Any]) -> None:
    assert isinstance(meta["name"], str) and meta["name"]
    assert isinstance(meta["version"], str) and meta["version"]
    assert meta["task"] == "classification"
    assert len(meta["feature_names"]) == 30 and all(isinstance(n, str) for n in meta["feature_names"])
    assert meta["input_name"] == "input"
    assert meta["output_names"] == ["label", "probabilities"]
    assert meta["class_labels"] == [0, 1]
    assert meta["class_names"] == ["malignant", "benign"]
    assert meta["seed"] == 42
    assert meta["git_sha"] == "0123456789abcdef0123456789abcdef01234567"
    assert {"numpy", "onnx", "onnxruntime", "scikit-learn", "skl2onnx", "python"} <= set(meta["libraries"])


def test_signature_describes_the_onnx_graph(meta: dict[str, Any]) -> None:
    assert meta["signature"] == {
        "inputs": [{"name": "input", "dtype": "float32", "shape": [None, 30]}],
        "outputs": [
            {"name": "label", "dtype": "int64", "shape": [None]},
            {"name": "probabilities", "dtype": "float32", "shape": [None, 2]},
        ],
    }


def test_metrics_show_a_useful_model(meta: dict[str, Any]) -> None:
    metrics = meta["metrics"]
    assert metrics["test_accuracy"] > 0.9
    assert metrics["test_roc_auc"] > 0.95
    assert all(0.0 <= metrics[k] <= 1.0 for k in ("test_accuracy", "test_f1", "test_roc_auc", "train_accuracy"))


def test_onnx_model_serves_with_the_names_in_metadata(
    artifact_dir: Path, meta: dict[str, Any], baseline_rows: tuple[list[str], np.ndarray]
) -> None:
    session = onnxruntime.InferenceSession(str(artifact_dir / meta["model_file"]), providers=["CPUExecutionProvider"])
    _, rows = baseline_rows
    labels, probabilities = session.run(meta["output_names"], {meta["input_name"]: rows[:50].astype(np.float32)})
    assert labels.dtype == np.int64 and labels.shape == (50,)
    assert probabilities.dtype == np.float32 and probabilities.shape == (50, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert set(labels.tolist()) <= set(meta["class_labels"])
    assert (labels == probabilities.argmax(axis=1)).all()


def test_baseline_csv_holds_the_training_features(
    meta: dict[str, Any], baseline_rows: tuple[list[str], np.ndarray]
) -> None:
    header, rows = baseline_rows
    assert header == meta["feature_names"]
    assert rows.shape == (meta["training"]["train_rows"], 30)


def test_statistics_json_follows_model_monitor_schema(
    artifact_dir: Path, baseline_rows: tuple[list[str], np.ndarray]
) -> None:
    header, rows = baseline_rows
    stats = _json(artifact_dir / "statistics.json")
    assert stats["version"] == 0
    assert stats["dataset"] == {"item_count": rows.shape[0]}
    assert [f["name"] for f in stats["features"]] == header
    for index, feature in enumerate(stats["features"]):
        assert feature["inferred_type"] == "Fractional"
        numbers = feature["numerical_statistics"]
        assert numbers["common"] == {"num_present": rows.shape[0], "num_missing": 0}
        assert numbers["mean"] == pytest.approx(rows[:, index].mean())
        assert numbers["sum"] == pytest.approx(rows[:, index].sum())
        assert numbers["min"] == rows[:, index].min() and numbers["max"] == rows[:, index].max()
        kll = numbers["distribution"]["kll"]
        assert len(kll["buckets"]) == 10
        assert sum(b["count"] for b in kll["buckets"]) == rows.shape[0]
        assert kll["buckets"][0]["lower_bound"] == numbers["min"]
        assert kll["buckets"][-1]["upper_bound"] == numbers["max"]
        assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
        assert sorted(kll["sketch"]["data"][0]) == sorted(rows[:, index].tolist())


def test_constraints_json_follows_model_monitor_schema(artifact_dir: Path, meta: dict[str, Any]) -> None:
    constraints = _json(artifact_dir / "constraints.json")
    assert constraints["version"] == 0
    assert [f["name"] for f in constraints["features"]] == meta["feature_names"]
    for feature in constraints["features"]:
        assert feature["inferred_type"] == "Fractional"
        assert feature["completeness"] == 1.0
        assert feature["num_constraints"] == {"is_non_negative": True}  # every measurement is >= 0
    config = constraints["monitoring_config"]
    assert config["evaluate_constraints"] == "Enabled" and config["emit_metrics"] == "Enabled"
    assert config["distribution_constraints"]["perform_comparison"] == "Enabled"
    assert 0 < config["distribution_constraints"]["comparison_threshold"] < 1


def test_baseline_summary_matches_the_csv(artifact_dir: Path, baseline_rows: tuple[list[str], np.ndarray]) -> None:
    header, rows = baseline_rows
    summary = _json(artifact_dir / "baseline_summary.json")
    assert summary["row_count"] == rows.shape[0]
    first = summary["features"][0]
    assert first["name"] == header[0]
    assert first["mean"] == pytest.approx(rows[:, 0].mean())
    assert first["quantiles"]["p50"] == pytest.approx(np.median(rows[:, 0]))


def test_git_sha_is_head_of_the_checkout_or_unknown(tmp_path: Path) -> None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    expected = head.stdout.strip() if head.returncode == 0 else "unknown"
    assert git_sha(REPO_ROOT) == expected
    assert git_sha(tmp_path) == "unknown"  # not a repository
