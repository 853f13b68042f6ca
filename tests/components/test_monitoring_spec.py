"""The shared monitoring spec: PSI is the one meaning of a drift threshold, and the reference model that
converts it to other drift metrics agrees with scipy and with the drift monitor's own statistics."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import optimize, stats

from components.monitoring import (
    MAX_PSI,
    PSI_BINS,
    PSI_EPSILON,
    DriftSpec,
    default_drift_schedule,
    ks_distance_of_mean_shift,
    mean_shift_for_psi,
    psi_of_mean_shift,
)
from services.drift_monitor import statistics
from services.drift_monitor.detector import DriftConfig


def test_psi_is_binned_as_the_drift_monitor_bins_it():
    assert (DriftConfig().psi_bins, DriftConfig().psi_epsilon) == (PSI_BINS, PSI_EPSILON)


def test_default_drift_threshold_is_a_psi_of_0_2():
    assert DriftSpec().threshold_psi == 0.2


@pytest.mark.parametrize("psi", [0.05, 0.1, 0.2, 0.25, 1.0, 5.0])
def test_mean_shift_for_psi_matches_scipy(psi):
    """The standard-library computation (no scipy import at plan time) equals scipy's normal model and root."""
    edges = stats.norm.ppf(np.arange(1, PSI_BINS) / PSI_BINS)

    def scipy_psi(shift: float) -> float:
        actual = np.maximum(np.diff(np.concatenate([[0.0], stats.norm.cdf(edges - shift), [1.0]])), PSI_EPSILON)
        return float(np.sum((actual - 1 / PSI_BINS) * np.log(actual * PSI_BINS)))

    shift = optimize.brentq(lambda d: scipy_psi(d) - psi, 0.0, 40.0, xtol=1e-12)
    assert mean_shift_for_psi(psi) == pytest.approx(shift, abs=1e-9)
    assert psi_of_mean_shift(shift) == pytest.approx(psi, abs=1e-9)
    gap = optimize.minimize_scalar(lambda x: -(stats.norm.cdf(x) - stats.norm.cdf(x - shift)),
                                   bounds=(-10, 10), method="bounded")
    assert ks_distance_of_mean_shift(shift) == pytest.approx(-gap.fun, abs=1e-7)


@pytest.mark.parametrize("psi", [0.1, 0.2, 0.25])
def test_conversion_agrees_with_the_drift_monitors_statistics_on_samples(psi):
    """Shift a sample by the converted amount: the drift monitor measures the PSI we started from, and the KS
    statistic Model Monitor would compare with the converted threshold."""
    rng = np.random.default_rng(7)
    shift = mean_shift_for_psi(psi)
    baseline, current = rng.normal(size=200_000), rng.normal(loc=shift, size=200_000)
    assert statistics.psi(baseline, current) == pytest.approx(psi, abs=0.01)
    assert statistics.ks_test(baseline, current)[0] == pytest.approx(ks_distance_of_mean_shift(shift), abs=0.005)


def test_psi_grows_with_the_shift_up_to_its_ceiling():
    shifts = [0.0, 0.1, 0.5, 1.0, 2.0, 4.0]
    values = [psi_of_mean_shift(s) for s in shifts]
    assert values[0] == pytest.approx(0.0, abs=1e-15) and values == sorted(values)
    assert pytest.approx(8.28, abs=0.01) == MAX_PSI


@pytest.mark.parametrize("psi", [0.0, -0.1, MAX_PSI, 9.0])
def test_unreachable_psi_is_refused(psi):
    with pytest.raises(ValueError, match=r"PSI threshold must be between 0 and 8\.28"):
        mean_shift_for_psi(psi)


def test_drift_schedule_is_hourly_in_prod_daily_elsewhere():
    assert [default_drift_schedule(env) for env in ("prod", "staging", "dev")] == ["hourly", "daily", "daily"]


def test_specs_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DriftSpec().threshold_psi = 1.0  # type: ignore[misc]
