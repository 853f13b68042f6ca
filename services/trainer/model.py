"""The demo estimator: standardisation followed by logistic regression, and its evaluation."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from services.trainer.dataset import Dataset

# lbfgs is deterministic for a fixed input, so the seed only acts through the data split.
HYPERPARAMETERS: dict[str, Any] = {"C": 1.0, "max_iter": 1000, "solver": "lbfgs"}


def fit(dataset: Dataset, hyperparameters: dict[str, Any] | None = None) -> Pipeline:
    """Fit the pipeline on the training split."""
    params = {**HYPERPARAMETERS, **(hyperparameters or {})}
    pipeline = Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression(**params))])
    pipeline.fit(dataset.x_train, dataset.y_train)
    return pipeline


def evaluate(pipeline: Pipeline, dataset: Dataset) -> dict[str, float]:
    """Held-out metrics (and training accuracy, to spot over-fitting), as plain floats."""
    proba = pipeline.predict_proba(dataset.x_test)[:, 1]
    predicted = pipeline.predict(dataset.x_test)
    return {
        "test_accuracy": float(accuracy_score(dataset.y_test, predicted)),
        "test_f1": float(f1_score(dataset.y_test, predicted)),
        "test_log_loss": float(log_loss(dataset.y_test, proba)),
        "test_roc_auc": float(roc_auc_score(dataset.y_test, proba)),
        "train_accuracy": float(accuracy_score(dataset.y_train, pipeline.predict(dataset.x_train))),
    }


def class_labels(pipeline: Pipeline) -> list[int]:
    """The integer labels the classifier predicts, in probability-column order."""
    return [int(label) for label in np.asarray(pipeline.classes_)]
