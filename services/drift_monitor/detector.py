"""Per-feature drift decisions and the report they produce.

A feature has drifted when BOTH hold:

1. its KS p-value, adjusted across all features (``correction``), is below ``ks_pvalue``: the
   change is unlikely to be sampling noise, even with many features tested at once; and
2. its PSI is at least ``psi_threshold``: the change is big enough to matter (with large samples
   KS alone flags shifts too small to care about).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from services.drift_monitor import statistics
from services.drift_monitor.tables import Table

REPORT_VERSION = 1


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds; every field has the default the CLI documents."""

    ks_pvalue: float = 0.05
    """Family-wise significance level for the (adjusted) KS p-values."""
    psi_threshold: float = 0.1
    """Minimum PSI for a drift alarm (0.1 = moderate shift, 0.25 = major, by common practice)."""
    psi_bins: int = 10
    """Number of baseline-quantile bins for PSI."""
    psi_epsilon: float = 1e-4
    """Floor for empty-bin proportions in PSI."""
    correction: str = "holm"
    """Multiple-testing correction: holm, bonferroni, bh or none."""
    max_unreadable_percent: float = 1.0
    """Largest share of unreadable capture records (skipped) before the run fails with exit 2."""
    max_rows: int = 100_000
    """Capture rows compared at most: above it, a seeded uniform sample of every row read."""

    def problems(self) -> list[str]:
        """Every invalid field, described (empty when the config is usable)."""
        found = []
        if not 0.0 < self.ks_pvalue < 1.0:
            found.append(f"ks_pvalue must be between 0 and 1 (exclusive), got {self.ks_pvalue}")
        if self.psi_threshold < 0.0:
            found.append(f"psi_threshold must be >= 0, got {self.psi_threshold}")
        if self.psi_bins < 2:
            found.append(f"psi_bins must be >= 2, got {self.psi_bins}")
        if not 0.0 < self.psi_epsilon < 1.0:
            found.append(f"psi_epsilon must be between 0 and 1 (exclusive), got {self.psi_epsilon}")
        if not 0.0 <= self.max_unreadable_percent <= 100.0:
            found.append(f"max_unreadable_percent must be between 0 and 100, got {self.max_unreadable_percent}")
        if self.max_rows < 100:
            found.append(f"max_rows must be >= 100, got {self.max_rows}")
        if self.correction not in statistics.CORRECTIONS:
            found.append(f"correction must be one of {', '.join(statistics.CORRECTIONS)}, got {self.correction!r}")
        return found


@dataclass(frozen=True)
class FeatureDrift:
    """Statistics and verdict for one feature."""

    name: str
    drifted: bool
    ks_statistic: float
    ks_pvalue: float
    ks_pvalue_adjusted: float
    psi: float
    baseline_mean: float
    current_mean: float
    baseline_std: float
    current_std: float
    mean_shift_in_baseline_std: float | None
    """(current mean - baseline mean) / baseline std; None for a constant baseline."""


@dataclass(frozen=True)
class DriftReport:
    """The outcome of comparing one current sample with the baseline."""

    baseline: dict[str, Any]
    current: dict[str, Any]
    config: DriftConfig
    features: list[FeatureDrift] = field(default_factory=list)

    @property
    def drifted_features(self) -> list[str]:
        """Names of drifted features, in column order."""
        return [feature.name for feature in self.features if feature.drifted]

    @property
    def drift_detected(self) -> bool:
        """Whether any feature drifted."""
        return any(feature.drifted for feature in self.features)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's content."""
        return {
            "report_version": REPORT_VERSION,
            "drift_detected": self.drift_detected,
            "drifted_features": self.drifted_features,
            "summary": {"features": len(self.features), "drifted": len(self.drifted_features)},
            "baseline": self.baseline,
            "current": self.current,
            "config": asdict(self.config),
            "features": [asdict(feature) for feature in self.features],
        }

    def to_json(self) -> str:
        """Deterministic JSON text (sorted keys; features in column order)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _describe(table: Table) -> dict[str, Any]:
    described: dict[str, Any] = {"path": table.path, "format": table.format, "rows": table.rows}
    if table.records is not None:
        described |= {
            "records": table.records,
            "records_outside_window": table.outside_window,
            "rows_seen": table.rows_seen,
            "unreadable_records": table.unreadable,
            "unreadable_examples": [f"{where}: {reason}" for where, reason in table.unreadable_examples],
        }
    return described


def detect(baseline: Table, current: Table, config: DriftConfig | None = None) -> DriftReport:
    """Compare ``current`` with ``baseline`` column by column (columns must already be aligned)."""
    config = config or DriftConfig()
    if baseline.names != current.names:
        raise ValueError("baseline and current columns must be aligned first (load_table does this)")
    ks = [statistics.ks_test(baseline.values[:, j], current.values[:, j]) for j in range(len(baseline.names))]
    adjusted = statistics.adjust_pvalues(np.array([p for _, p in ks]), config.correction)
    features = []
    for j, name in enumerate(baseline.names):
        b, c = baseline.values[:, j], current.values[:, j]
        stat, pvalue = ks[j]
        psi = statistics.psi(b, c, config.psi_bins, config.psi_epsilon)
        b_std = float(b.std())
        features.append(
            FeatureDrift(
                name=name,
                drifted=bool(adjusted[j] < config.ks_pvalue and psi >= config.psi_threshold),
                ks_statistic=stat,
                ks_pvalue=pvalue,
                ks_pvalue_adjusted=float(adjusted[j]),
                psi=psi,
                baseline_mean=float(b.mean()),
                current_mean=float(c.mean()),
                baseline_std=b_std,
                current_std=float(c.std()),
                mean_shift_in_baseline_std=float((c.mean() - b.mean()) / b_std) if b_std > 0 else None,
            )
        )
    return DriftReport(_describe(baseline), _describe(current), config, features)
