"""Statistical behaviour: power against a real shift, silence without one, and why correction matters."""

from __future__ import annotations

import numpy as np
import pytest

from services.drift_monitor import DriftConfig, Table, detect
from services.drift_monitor.statistics import adjust_pvalues, psi
from tests.services.drift_monitor.conftest import normal_tables

SEEDS = range(100)


def _tables(baseline: np.ndarray, current: np.ndarray) -> tuple[Table, Table]:
    names = tuple(f"f{i}" for i in range(baseline.shape[1]))
    return Table("baseline", "csv", names, baseline), Table("current", "csv", names, current)


def test_half_sigma_shift_in_one_of_three_features_is_found_and_only_that_one() -> None:
    misses = []
    for seed in SEEDS:
        report = detect(*_tables(*normal_tables(seed, n=2000, shift={1: 0.5})))
        if report.drifted_features != ["f1"]:
            misses.append((seed, report.drifted_features))
    assert misses == []


def test_no_shift_is_quiet_in_at_least_95_percent_of_runs() -> None:
    alarms = sum(detect(*_tables(*normal_tables(seed, n=2000))).drift_detected for seed in SEEDS)
    assert alarms <= 5


def test_with_30_features_the_correction_keeps_false_alarms_rare() -> None:
    corrected = uncorrected = 0
    for seed in SEEDS:
        tables = _tables(*normal_tables(seed, n=200, features=30))
        corrected += detect(*tables).drift_detected
        uncorrected += detect(*tables, DriftConfig(correction="none")).drift_detected
    assert corrected <= 5
    assert uncorrected > 50  # what a per-feature 0.05 test would do: alarm most of the time


def test_significant_but_negligible_shift_in_a_huge_sample_is_not_drift() -> None:
    baseline, current = normal_tables(seed=0, n=50_000, features=1, shift={0: 0.05})
    report = detect(*_tables(baseline, current))
    (feature,) = report.features
    assert feature.ks_pvalue_adjusted < 0.05  # KS alone would alarm
    assert feature.psi < 0.1 and not feature.drifted  # PSI says the change is too small to matter


def test_report_carries_the_statistics_of_the_drifted_feature() -> None:
    report = detect(*_tables(*normal_tables(seed=3, shift={2: 0.5})))
    drifted = {f.name: f for f in report.features}["f2"]
    assert drifted.drifted
    assert drifted.ks_statistic > 0.1 and drifted.psi > 0.15
    assert drifted.mean_shift_in_baseline_std == pytest.approx(0.5, abs=0.1)


def test_psi_is_zero_for_identical_samples_and_finite_for_empty_bins() -> None:
    values = np.random.default_rng(0).normal(size=1000)
    assert psi(values, values) == pytest.approx(0.0)
    far_away = psi(values, values + 100.0)  # every current value lands in the last bin
    assert np.isfinite(far_away) and far_away > 5.0


def test_psi_sees_a_constant_feature_move_either_way() -> None:
    constant = np.zeros(100)
    assert psi(constant, np.zeros(50)) == pytest.approx(0.0)
    assert psi(constant, np.ones(50)) > 1.0
    assert psi(constant, -np.ones(50)) > 1.0


def test_a_constant_feature_that_starts_varying_is_reported() -> None:
    baseline, current = normal_tables(seed=5, n=500, features=2)
    baseline[:, 0] = 0.0
    current[:, 0] = np.where(np.arange(500) % 2 == 0, 0.0, 1.0)  # half the rows now carry 1.0
    assert detect(*_tables(baseline, current)).drifted_features == ["f0"]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("none", [0.01, 0.04, 0.03, 0.2]),
        ("bonferroni", [0.04, 0.16, 0.12, 0.8]),
        ("holm", [0.04, 0.09, 0.09, 0.2]),
        ("bh", [0.04, 0.0533333, 0.0533333, 0.2]),
    ],
)
def test_pvalue_adjustments_match_hand_computed_values(method: str, expected: list[float]) -> None:
    adjusted = adjust_pvalues(np.array([0.01, 0.04, 0.03, 0.2]), method)
    np.testing.assert_allclose(adjusted, expected, rtol=1e-5)
