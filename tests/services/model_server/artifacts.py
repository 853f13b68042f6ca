"""Build small real model artifacts (sklearn -> skl2onnx) in the trainer's artifact format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

INPUT_NAME = "features"


def breast_cancer() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The 30-feature breast cancer data set that scikit-learn ships, as float32."""
    data = load_breast_cancer()
    return data.data.astype(np.float32), data.target, [str(n) for n in data.feature_names]


def write_artifact(directory: Path, *, version: str = "1", string_labels: bool = False) -> Path:
    """Train a scaled logistic regression and write ``model.onnx`` + ``metadata.json`` to ``directory``.

    ``string_labels`` trains on class names and keeps skl2onnx's ZipMap output (a list of dicts),
    the other output shape the server has to understand.
    """
    x, y, feature_names = breast_cancer()
    target = np.array(["malignant", "benign"])[y] if string_labels else y
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, target)
    options = {id(model): {"zipmap": string_labels}}
    onnx_model = to_onnx(
        model, initial_types=[(INPUT_NAME, FloatTensorType([None, x.shape[1]]))], options=options, target_opset=17
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(onnx_model.SerializeToString())
    metadata = {
        "name": "breast-cancer",
        "version": version,
        "feature_names": feature_names,
        "input_name": INPUT_NAME,
        "output_names": [o.name for o in onnx_model.graph.output],
        "task": "classification",
        "class_labels": [c.item() for c in model.classes_],
        "training_metrics": {"accuracy": float(model.score(x, target))},
    }
    (directory / "metadata.json").write_text(json.dumps(metadata, indent=2))
    return directory
