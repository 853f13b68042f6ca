"""The demo dataset: scikit-learn's bundled breast-cancer table, split reproducibly.

scikit-learn ships this dataset inside the wheel, so training never downloads anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

DATASET_ID = "sklearn.datasets.load_breast_cancer"


@dataclass(frozen=True)
class Dataset:
    """A stratified train/test split of the demo data."""

    feature_names: tuple[str, ...]
    """Column names, in the order the model expects them."""
    class_names: tuple[str, ...]
    """Human-readable name of each class label (index = label)."""
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def load_dataset(seed: int, test_size: float = 0.2) -> Dataset:
    """Load the breast-cancer data and split it with ``seed`` (stratified by label)."""
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be between 0 and 1 (exclusive), got {test_size}")
    bunch = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data.astype(np.float64),
        bunch.target.astype(np.int64),
        test_size=test_size,
        random_state=seed,
        stratify=bunch.target,
    )
    return Dataset(
        feature_names=tuple(str(name) for name in bunch.feature_names),
        class_names=tuple(str(name) for name in bunch.target_names),
        x_train=x_train,
        x_test=x_test,
        y_train=y_train,
        y_test=y_test,
    )
