"""Baseline statistics of the training features, for the drift monitor and SageMaker Model Monitor.

Four files, all derived from the training split only:

- ``baseline.csv``: the training features with a header row (the drift monitor's ``--baseline``).
- ``baseline_summary.json``: per-feature count, mean, std, min, max and quantiles, for people
  and dashboards.
- ``statistics.json`` / ``constraints.json``: SageMaker Model Monitor's data-quality baseline
  format (``version: 0``), so a monitoring schedule can use them as its ``BaselineConfig``
  without running a separate baselining job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

SUMMARY_QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
# Model Monitor materialises distributions in 10 buckets; its KLL sketches use these parameters.
KLL_BUCKETS = 10
KLL_PARAMETERS: dict[str, float] = {"c": 0.64, "k": 2048.0}
# Defaults the Model Monitor documentation lists for the constraints file's monitoring_config.
COMPARISON_THRESHOLD = 0.1


def _column(x: np.ndarray, index: int) -> np.ndarray:
    return np.asarray(x[:, index], dtype=np.float64)


def _inferred_type(values: np.ndarray) -> str:
    return "Integral" if bool(np.all(np.mod(values, 1.0) == 0.0)) else "Fractional"


def baseline_csv(feature_names: Sequence[str], x: np.ndarray) -> str:
    """The features as CSV text: a header, then one row per training example (shortest exact floats)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(feature_names)
    for row in x:
        writer.writerow([repr(float(value)) for value in row])
    return buffer.getvalue()


def summary(feature_names: Sequence[str], x: np.ndarray) -> dict[str, Any]:
    """Per-feature summary statistics (population std, linear-interpolated quantiles)."""
    features = []
    for index, name in enumerate(feature_names):
        values = _column(x, index)
        quantiles = zip(SUMMARY_QUANTILES, np.quantile(values, SUMMARY_QUANTILES), strict=True)
        features.append(
            {
                "name": name,
                "count": int(values.size),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
                "quantiles": {f"p{round(q * 100):02d}": float(v) for q, v in quantiles},
            }
        )
    return {"row_count": int(x.shape[0]), "features": features}


def _kll_buckets(values: np.ndarray) -> list[dict[str, float]]:
    low, high = float(values.min()), float(values.max())
    counts, edges = np.histogram(values, bins=KLL_BUCKETS, range=(low, high) if high > low else None)
    return [
        {"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(counts[i])}
        for i in range(len(counts))
    ]


def statistics(feature_names: Sequence[str], x: np.ndarray) -> dict[str, Any]:
    """Model Monitor ``statistics.json`` for numeric features.

    The KLL sketch is exact: with fewer rows than ``k`` a KLL sketch never compacts, so its single
    level holds every value. With more rows the sketch is left out (the buckets remain).
    """
    features = []
    for index, name in enumerate(feature_names):
        values = _column(x, index)
        distribution: dict[str, Any] = {"buckets": _kll_buckets(values)}
        if values.size <= KLL_PARAMETERS["k"]:
            distribution["sketch"] = {
                "parameters": dict(KLL_PARAMETERS),
                "data": [[float(v) for v in values]],
            }
        features.append(
            {
                "name": name,
                "inferred_type": _inferred_type(values),
                "numerical_statistics": {
                    "common": {"num_present": int(values.size), "num_missing": 0},
                    "mean": float(values.mean()),
                    "sum": float(values.sum()),
                    "std_dev": float(values.std()),
                    "min": float(values.min()),
                    "max": float(values.max()),
                    "distribution": {"kll": distribution},
                },
            }
        )
    return {"version": 0, "dataset": {"item_count": int(x.shape[0])}, "features": features}


def constraints(feature_names: Sequence[str], x: np.ndarray) -> dict[str, Any]:
    """Model Monitor ``constraints.json``: types, completeness, sign, and drift comparison settings."""
    features = []
    for index, name in enumerate(feature_names):
        values = _column(x, index)
        features.append(
            {
                "name": name,
                "inferred_type": _inferred_type(values),
                "completeness": 1.0,
                "num_constraints": {"is_non_negative": bool(values.min() >= 0.0)},
            }
        )
    return {
        "version": 0,
        "features": features,
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": COMPARISON_THRESHOLD,
                "comparison_method": "Robust",
            },
        },
    }
