"""``train()``: fit the demo model and write a complete, reproducible artifact directory."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from services.trainer import baseline, metadata, model, onnx_export, tracking
from services.trainer.dataset import DATASET_ID, load_dataset
from services.trainer.package import ARCHIVE, pack_model

DEFAULT_MODEL_NAME = "breast-cancer-classifier"

MODEL_FILE = "model.onnx"
METADATA_FILE = "metadata.json"
BASELINE_CSV = "baseline.csv"
BASELINE_SUMMARY = "baseline_summary.json"
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"


def _json_text(document: dict[str, Any], *, compact: bool = False) -> str:
    if compact:  # statistics.json holds every training value in its sketch: keep it small
        return json.dumps(document, separators=(",", ":"), allow_nan=False) + "\n"
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def train(
    out_dir: Path,
    seed: int = 42,
    *,
    test_size: float = 0.2,
    model_name: str = DEFAULT_MODEL_NAME,
    model_version: str | None = None,
    git_sha: str | None = None,
    tracking_uri: str | None = None,
    log_to_mlflow: bool = False,
    experiment: str = tracking.DEFAULT_EXPERIMENT,
) -> Path:
    """Train the demo classifier and write its artifact directory; return ``out_dir``.

    Args:
        out_dir: Created if missing; the artifact files in it are overwritten.
        seed: Controls the train/test split (the only source of randomness).
        test_size: Fraction of rows held out for the reported metrics.
        model_name: ``name`` in metadata.json.
        model_version: ``version`` in metadata.json; default: the first 12 hex digits of
            model.onnx's SHA-256, so different models never share a version.
        git_sha: Source revision to record; default: ``git rev-parse HEAD`` or ``"unknown"``.
        tracking_uri: Where MLflow runs go (see ``services.trainer.tracking.resolve``).
        log_to_mlflow: Record the run in MLflow (the CLI turns it on unless ``--no-mlflow``).
        experiment: MLflow experiment name.

    Same seed, same source revision and same library versions give byte-identical files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_dataset(seed, test_size)
    pipeline = model.fit(data)
    metrics = model.evaluate(pipeline, data)

    onnx_model = onnx_export.to_onnx(pipeline, len(data.feature_names), graph_name=model_name.replace("-", "_"))
    model_bytes = onnx_model.SerializeToString()
    parity = onnx_export.check_parity(model_bytes, pipeline, data.x_test)
    model_sha256 = hashlib.sha256(model_bytes).hexdigest()
    version = model_version or model_sha256[:12]
    source_sha = git_sha or metadata.git_sha()
    feature_names = list(data.feature_names)

    artifacts = {
        "model": MODEL_FILE,
        "model_archive": ARCHIVE,
        "baseline_csv": BASELINE_CSV,
        "baseline_summary": BASELINE_SUMMARY,
        "statistics": STATISTICS_FILE,
        "constraints": CONSTRAINTS_FILE,
    }
    training = {
        "dataset": DATASET_ID,
        "estimator": "sklearn.pipeline.Pipeline(StandardScaler, LogisticRegression)",
        "hyperparameters": dict(model.HYPERPARAMETERS),
        "test_size": test_size,
        "train_rows": int(data.x_train.shape[0]),
        "test_rows": int(data.x_test.shape[0]),
    }
    document = metadata.build(
        name=model_name,
        version=version,
        feature_names=feature_names,
        class_labels=model.class_labels(pipeline),
        class_names=list(data.class_names),
        signature=onnx_export.signature(onnx_model),
        opsets=onnx_export.opsets(onnx_model),
        metrics=metrics,
        training=training,
        seed=seed,
        source_sha=source_sha,
        model_sha256=model_sha256,
        artifacts=artifacts,
    )

    (out_dir / MODEL_FILE).write_bytes(model_bytes)
    (out_dir / BASELINE_CSV).write_text(baseline.baseline_csv(feature_names, data.x_train), encoding="utf-8")
    for filename, content in (
        (BASELINE_SUMMARY, baseline.summary(feature_names, data.x_train)),
        (CONSTRAINTS_FILE, baseline.constraints(feature_names, data.x_train)),
        (METADATA_FILE, document),
    ):
        (out_dir / filename).write_text(_json_text(content), encoding="utf-8")
    statistics = baseline.statistics(feature_names, data.x_train)
    (out_dir / STATISTICS_FILE).write_text(_json_text(statistics, compact=True), encoding="utf-8")
    pack_model(out_dir)  # model.onnx + metadata.json, as the endpoints read them

    if log_to_mlflow:
        tracking.log_run(
            tracking_uri=tracking_uri,
            experiment=experiment,
            run_name=f"{model_name}-{version}",
            params={
                "seed": seed,
                "test_size": test_size,
                "model_name": model_name,
                "model_version": version,
                "git_sha": source_sha,
                **training["hyperparameters"],
            },
            metrics={**metrics, "onnx_parity_max_abs_diff": parity},
            tags={"mlflow.source.git.commit": source_sha, "model_sha256": model_sha256},
            artifact_dir=out_dir,
        )
    return out_dir
