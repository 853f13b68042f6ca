"""The command line as a user runs it: exit codes, the report, thresholds and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.drift_monitor.cli import main
from tests.services.drift_monitor.conftest import write_csv
from tests.services.drift_monitor.test_publishers import pushgateway  # noqa: F401 (fixture)

REPO_ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.drift_monitor", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_drift_exits_3_and_the_report_names_the_feature(
    three_features: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    baseline, shifted, _ = three_features
    out = tmp_path / "reports" / "drift.json"
    result = _run("--baseline", str(baseline), "--current", str(shifted), "--out", str(out))
    assert result.returncode == 3, result.stderr
    assert "drift in 1 of 3 features: b" in result.stdout
    report = json.loads(out.read_text())
    assert report["drift_detected"] is True
    assert report["drifted_features"] == ["b"]
    (b,) = [f for f in report["features"] if f["name"] == "b"]
    assert b["drifted"] and b["psi"] >= 0.1 and b["ks_pvalue_adjusted"] < 0.05
    assert report["current"] == {"format": "csv", "path": str(shifted), "rows": 2000}


def test_no_drift_exits_0(three_features: tuple[Path, Path, Path], tmp_path: Path) -> None:
    baseline, _, quiet = three_features
    result = _run("--baseline", str(baseline), "--current", str(quiet), "--out", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "r.json").read_text())["drifted_features"] == []


def test_report_is_deterministic_with_sorted_keys(three_features: tuple[Path, Path, Path], tmp_path: Path) -> None:
    baseline, shifted, _ = three_features
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    for out in (first, second):
        main(["--baseline", str(baseline), "--current", str(shifted), "--out", str(out)])
    assert first.read_bytes() == second.read_bytes()
    report = json.loads(first.read_text())
    assert list(report) == sorted(report)
    assert [f["name"] for f in report["features"]] == ["a", "b", "c"]  # column order, not alphabetical by accident


def test_current_columns_may_come_in_another_order(three_features: tuple[Path, Path, Path], tmp_path: Path) -> None:
    baseline, shifted, _ = three_features
    lines = shifted.read_text().splitlines()
    reordered = tmp_path / "reordered.csv"
    reordered.write_text("\n".join(",".join(reversed(line.split(","))) for line in lines) + "\n")
    assert main(["--baseline", str(baseline), "--current", str(reordered), "--out", str(tmp_path / "r.json")]) == 3
    assert json.loads((tmp_path / "r.json").read_text())["drifted_features"] == ["b"]


def test_thresholds_come_from_the_config_file_and_flags_override_it(
    three_features: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    baseline, shifted, _ = three_features
    config = tmp_path / "drift.toml"
    config.write_text('psi_threshold = 5.0\ncorrection = "bh"\n')  # a PSI no real shift reaches
    out = tmp_path / "r.json"
    common = ["--baseline", str(baseline), "--current", str(shifted), "--out", str(out), "--config", str(config)]
    assert main(common) == 0
    assert json.loads(out.read_text())["config"]["correction"] == "bh"
    assert main([*common, "--psi-threshold", "0.1"]) == 3


def _bad(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def good_baseline(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "good.csv", ["a", "b"], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


@pytest.mark.parametrize(
    ("which", "name", "text", "expected"),
    [
        ("current", "missing.csv", None, "file not found"),
        ("baseline", "missing.csv", None, "file not found"),
        (
            "current",
            "other_cols.csv",
            "a,c\n1,2\n",
            "columns do not match the baseline (missing ['b'], unexpected ['c'])",
        ),
        ("current", "extra_col.csv", "a,b,c\n1,2,3\n", "unexpected ['c']"),
        ("current", "empty.csv", "", "is empty; expected a CSV header row"),
        ("current", "header_only.csv", "a,b\n", "has no data rows"),
        ("current", "text.csv", "a,b\n1,2\n3,oops\n", "line 3, column 'b': 'oops' is not a number"),
        ("current", "blank.csv", "a,b\n1,\n", "line 2, column 'b': '(empty)' is not a number"),
        ("current", "nan.csv", "a,b\n1,nan\n", "line 2, column 'b': 'nan' is not finite"),
        ("current", "ragged.csv", "a,b\n1,2\n3\n", "line 3: has 1 values but there are 2 columns"),
        ("baseline", "dupes.csv", "a,a\n1,2\n", "repeated column names ['a']"),
        ("baseline", "capture.jsonl", '{"captureData": {}}\n', "a data-capture file has no column names"),
        ("current", "bad.jsonl", "{not json\n", "line 1: not valid JSON"),
        ("current", "other.jsonl", '{"hello": 1}\n', "line 1: no captureData.endpointInput"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_file(
    which: str,
    name: str,
    text: str | None,
    expected: str,
    good_baseline: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / name if text is None else _bad(tmp_path, name, text)
    files = {"baseline": good_baseline, "current": good_baseline, which: bad}
    code = main(
        ["--baseline", str(files["baseline"]), "--current", str(files["current"]), "--out", str(tmp_path / "r.json")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert str(bad) in err and expected in err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--ks-pvalue", "1.5"], "ks_pvalue must be between 0 and 1"),
        (["--psi-threshold", "-1"], "psi_threshold must be >= 0"),
        (["--psi-bins", "1"], "psi_bins must be >= 2"),
        (["--correction", "magic"], "invalid choice: 'magic'"),
        (["--dimension", "novalue"], "expected KEY=VALUE"),
    ],
)
def test_bad_settings_exit_2_with_one_line(
    extra: list[str], expected: str, good_baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--baseline", str(good_baseline), "--current", str(good_baseline), "--out", str(tmp_path / "r.json")]
    try:
        code = main([*argv, *extra])
    except SystemExit as exc:  # argparse rejects choices and KEY=VALUE syntax itself
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "suffix", "expected"),
    [
        ("ks_pvalue = 0.01\nbogus = 1\n", ".toml", "unknown setting(s) ['bogus']"),
        ('{"psi_threshold": "high"}', ".json", "psi_threshold must be a float"),
        ("ks_pvalue = [", ".toml", "is not valid TOML"),
    ],
)
def test_bad_config_file_exits_2_naming_it(
    text: str, suffix: str, expected: str, good_baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _bad(tmp_path, f"drift{suffix}", text)
    argv = ["--baseline", str(good_baseline), "--current", str(good_baseline), "--out", str(tmp_path / "r.json")]
    assert main([*argv, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and expected in err


def test_real_process_reports_bad_input_without_a_traceback(good_baseline: Path, tmp_path: Path) -> None:
    bad = _bad(tmp_path, "current.csv", "a,b\n1,two\n")
    result = _run("--baseline", str(good_baseline), "--current", str(bad), "--out", str(tmp_path / "r.json"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"python -m services.drift_monitor: error: {bad}: line 2, column 'b': 'two' is not a number; "
        "fix or drop the row"
    )


def test_unwritable_report_path_exits_2(
    good_baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the report folder should be")
    out = blocker / "r.json"
    assert main(["--baseline", str(good_baseline), "--current", str(good_baseline), "--out", str(out)]) == 2
    assert "cannot write the report" in capsys.readouterr().err


def test_drift_exit_code_0_still_reports_and_publishes_the_drift(
    three_features: tuple[Path, Path, Path], tmp_path: Path, pushgateway  # noqa: F811 (fixture)
) -> None:
    """A Kubernetes Job whose pod exits non-zero is a failed Job: with exit 3 on drift, kube-prometheus-stack's
    `KubeJobFailed` fired beside `ModelDrift` for every drift found. `--drift-exit-code 0` keeps the report and
    the pushed PSI (the ModelDrift alert's input) and exits 0; bad input still exits 2."""
    baseline, drifted, _ = three_features
    url, received = pushgateway
    out = tmp_path / "report.json"
    common = ["--baseline", str(baseline), "--current", str(drifted), "--out", str(out),
              "--pushgateway", url, "--grouping-key", "service=svc"]
    assert main([*common, "--drift-exit-code", "0"]) == 0
    assert json.loads(out.read_text())["drift_detected"] is True
    ((_, path, body),) = received
    assert path.endswith("/service/svc") and "mlops_drift_detected 1.0" in body
    assert main([*common, "--drift-exit-code", "0", "--current", str(tmp_path / "missing.csv")]) == 2
