"""The monitoring spec every target shares: alert thresholds and drift checks, with one meaning of drift.

Cloud-neutral and standard-library only (config validation, every target's monitoring component and the
policy pack read it). A drift threshold is always a population stability index (PSI), computed as the
drift monitor computes it (services/drift_monitor/statistics.py): over `PSI_BINS` bins whose edges are
the baseline's quantiles, empty bins floored at `PSI_EPSILON`. Common practice reads 0.1 as a moderate
and 0.25 as a major shift.

A cloud whose own drift metric is not PSI converts the threshold explicitly, through one reference
model: a feature whose distribution keeps its shape and moves its mean by `shift` standard deviations
(normal, unit variance). `mean_shift_for_psi` gives the shift at which PSI reaches the threshold; the
cloud reports the value of its own metric at that shift (SageMaker Model Monitor's KS distance:
`components.aws.model_monitor.ks_distance_for_psi`). Under that model both alarms fire on the same drift.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

DEFAULT_ERROR_RATE_PERCENT = 1.0
DEFAULT_P99_LATENCY_MS = 1000
DEFAULT_DRIFT_PSI = 0.2

DriftSchedule = Literal["hourly", "daily"]
SCHEDULE_SECONDS: dict[str, int] = {"hourly": 3600, "daily": 86400}

PSI_BINS = 10
"""Baseline-quantile bins of the PSI (the drift monitor's `psi_bins` default)."""
PSI_EPSILON = 1e-4
"""Floor of an empty bin's share (the drift monitor's `psi_epsilon` default)."""

_NORMAL = NormalDist()
_EDGES = tuple(_NORMAL.inv_cdf(i / PSI_BINS) for i in range(1, PSI_BINS))


@dataclass(frozen=True)
class AlertThresholds:
    """When a serving slot pages on-call (and, where the target supports it, rolls a rollout back)."""

    error_rate_percent: float = DEFAULT_ERROR_RATE_PERCENT
    """Server errors (5XX) as a share of requests, percent."""
    p99_latency_ms: float = DEFAULT_P99_LATENCY_MS
    """p99 model latency, milliseconds."""


@dataclass(frozen=True)
class DriftSpec:
    """A drift check of one service: which features, how much change counts, how often it runs."""

    features: tuple[str, ...] = ()
    """Features whose drift raises an alert (names as in the training baseline)."""
    threshold_psi: float = DEFAULT_DRIFT_PSI
    """PSI of a feature that counts as drift (see the module docstring for how clouds convert it)."""
    schedule: DriftSchedule | None = None
    """How often the check runs; default `default_drift_schedule(environment)`."""


def default_drift_schedule(environment: str) -> DriftSchedule:
    """Hourly in prod, daily elsewhere."""
    return "hourly" if environment == "prod" else "daily"


def psi_of_mean_shift(shift: float) -> float:
    """PSI of a unit normal feature whose mean moved by `shift` standard deviations (bins as the monitor's)."""
    cdf = [0.0, *(_NORMAL.cdf(edge - shift) for edge in _EDGES), 1.0]
    expected = 1 / PSI_BINS
    total = 0.0
    for low, high in itertools.pairwise(cdf):
        actual = max(high - low, PSI_EPSILON)
        total += (actual - expected) * math.log(actual / expected)
    return total


MAX_PSI = psi_of_mean_shift(40.0)
"""The largest PSI the binned statistic reaches (all traffic in one outer bin): about 8.28."""


def mean_shift_for_psi(psi: float) -> float:
    """The mean shift, in standard deviations, at which PSI reaches `psi` (inverse of `psi_of_mean_shift`)."""
    if not 0 < psi < MAX_PSI:
        raise ValueError(f"a PSI threshold must be between 0 and {MAX_PSI:.2f} (all traffic in one bin), got {psi}")
    low, high = 0.0, 40.0
    for _ in range(100):  # PSI grows monotonically with the shift; bisection to float precision
        mid = (low + high) / 2
        low, high = (mid, high) if psi_of_mean_shift(mid) < psi else (low, mid)
    return (low + high) / 2


def ks_distance_of_mean_shift(shift: float) -> float:
    """Kolmogorov-Smirnov distance (max gap between the CDFs) of two unit normals `shift` apart."""
    return 2 * _NORMAL.cdf(abs(shift) / 2) - 1
