"""The two drift statistics and the multiple-testing corrections that keep alarms honest.

- Kolmogorov-Smirnov (two-sample): is the current sample drawn from the baseline's distribution?
  Sensitive to any change in shape, and its p-value shrinks as samples grow.
- Population stability index: how *much* the binned distribution moved, independent of sample
  size once samples are large. PSI = sum((c - b) * ln(c / b)) over bins whose edges are the
  baseline's quantiles; empty bins are floored at ``epsilon`` so the log stays finite.
- With many features, testing each at alpha raises false alarms (30 features at 0.05 would alarm
  in ~79% of drift-free runs), so p-values are adjusted across features (Holm by default).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.stats import ks_2samp

Correction = Literal["holm", "bonferroni", "bh", "none"]
CORRECTIONS: tuple[str, ...] = ("holm", "bonferroni", "bh", "none")


def ks_test(baseline: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample KS ``(statistic, p-value)``."""
    result = ks_2samp(baseline, current)
    return float(result.statistic), float(result.pvalue)


def psi_edges(baseline: np.ndarray, bins: int) -> np.ndarray:
    """Bin edges for PSI; bins are ``(-inf, e0], (e0, e1], ..., (e_last, inf)``.

    The edges are the baseline's ``1/bins .. (bins-1)/bins`` quantiles, de-duplicated. When ties
    put the lowest edge on the baseline's minimum (a constant or mostly-constant feature), an edge
    just below the minimum is added, so values below the baseline's range get a bin of their own;
    the top bin already holds only values above the maximum in that case.
    """
    edges = np.unique(np.quantile(baseline, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    low = baseline.min()
    if edges[0] <= low:
        edges = np.concatenate([[np.nextafter(low, -np.inf)], edges])
    return edges


def psi(baseline: np.ndarray, current: np.ndarray, bins: int = 10, epsilon: float = 1e-4) -> float:
    """Population stability index of ``current`` against ``baseline`` (0 = same distribution).

    Values outside the baseline's range fall in the outermost bins, so a shift out of the
    observed range still counts.
    """
    edges = psi_edges(baseline, bins)
    expected = np.bincount(np.searchsorted(edges, baseline, side="left"), minlength=edges.size + 1)
    actual = np.bincount(np.searchsorted(edges, current, side="left"), minlength=edges.size + 1)
    p = np.maximum(expected / baseline.size, epsilon)
    q = np.maximum(actual / current.size, epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def adjust_pvalues(pvalues: np.ndarray, method: str) -> np.ndarray:
    """Adjust p-values for testing ``len(pvalues)`` features at once.

    ``holm`` and ``bonferroni`` bound the chance of *any* false alarm (family-wise error) by
    alpha; Holm is never less powerful. ``bh`` (Benjamini-Hochberg) bounds the expected share of
    false alarms among alarms instead: more power, weaker guarantee. ``none`` leaves them as is.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    if method == "none" or m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        stepped = np.maximum.accumulate(ranked * (m - np.arange(m)))
    elif method == "bh":
        stepped = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}; choose one of {', '.join(CORRECTIONS)}")
    adjusted = np.empty(m, dtype=np.float64)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted
