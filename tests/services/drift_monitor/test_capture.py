"""Current data as SageMaker data-capture JSON lines (what the model server's capture sink writes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.drift_monitor import InputError, load_table
from services.drift_monitor.cli import main
from services.trainer import train
from tests.services.drift_monitor.conftest import capture_record, normal_tables, write_csv

NAMES = ("a", "b", "c")


def _write_capture(path: Path, rows: np.ndarray, encoding: str = "JSON", per_request: int = 10) -> Path:
    lines = [
        capture_record(rows[i : i + per_request].tolist(), encoding, event_id=f"e-{i}")
        for i in range(0, len(rows), per_request)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("encoding", ["JSON", "CSV", "BASE64"])
def test_capture_file_rows_match_what_was_sent(encoding: str, tmp_path: Path) -> None:
    rows = np.round(np.random.default_rng(0).normal(size=(25, 3)), 6)
    table = load_table(_write_capture(tmp_path / "capture.jsonl", rows, encoding), expected_names=NAMES)
    assert table.format == "capture" and table.names == NAMES
    np.testing.assert_array_equal(table.values, rows)


def test_drift_is_found_in_captured_traffic(tmp_path: Path) -> None:
    baseline, current = normal_tables(seed=11, shift={0: 0.5})
    base = write_csv(tmp_path / "baseline.csv", NAMES, baseline)
    capture = _write_capture(tmp_path / "capture.jsonl", current, per_request=50)
    out = tmp_path / "r.json"
    assert main(["--baseline", str(base), "--current", str(capture), "--out", str(out)]) == 3
    report = json.loads(out.read_text())
    assert report["drifted_features"] == ["a"]
    assert report["current"]["format"] == "capture" and report["current"]["rows"] == 2000


def test_instances_keyed_by_feature_name_are_aligned_to_the_baseline(tmp_path: Path) -> None:
    record = json.loads(capture_record([[0.0, 0.0, 0.0]]))
    record["captureData"]["endpointInput"]["data"] = json.dumps({"instances": [{"c": 3, "a": 1, "b": 2}]})
    path = tmp_path / "named.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert load_table(path, expected_names=NAMES).values.tolist() == [[1.0, 2.0, 3.0]]


def test_capture_is_recognised_by_content_whatever_the_file_name(tmp_path: Path) -> None:
    path = _write_capture(tmp_path / "capture-2024-01-01-00-00.log", np.ones((3, 3)))
    assert load_table(path, expected_names=NAMES).format == "capture"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda ei: ei.update(data=json.dumps({"instances": [[1, 2]]})),
            "line 1: an instance has 2 values but the baseline has 3 columns",
        ),
        (lambda ei: ei.update(data=json.dumps({"rows": [[1, 2, 3]]})), "JSON body has none of"),
        (lambda ei: ei.update(encoding="PROTOBUF"), "line 1: unsupported encoding 'PROTOBUF'"),
        (lambda ei: ei.update(encoding="BASE64", data="%%%"), "line 1: BASE64 data does not decode"),
        (lambda ei: ei.update(data=json.dumps({"instances": [[1, "x", 3]]})), "column 'b': 'x' is not a number"),
        (lambda ei: ei.update(data=json.dumps({"instances": [{"a": 1}]})), "instance lacks feature(s) ['b', 'c']"),
    ],
)
def test_malformed_capture_names_the_line_and_the_problem(
    mutate: Callable[[dict[str, Any]], None], expected: str, tmp_path: Path
) -> None:
    record = json.loads(capture_record([[1.0, 2.0, 3.0]]))
    mutate(record["captureData"]["endpointInput"])
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(InputError) as raised:
        load_table(path, expected_names=NAMES)
    assert str(path) in str(raised.value) and expected in str(raised.value)


def test_trainer_baseline_against_captured_traffic(tmp_path: Path) -> None:
    """End to end with the real artifact: the trainer's baseline.csv and the server's capture format."""
    artifact = train(tmp_path / "model", seed=42, git_sha="unknown")
    names = json.loads((artifact / "metadata.json").read_text())["feature_names"]
    baseline = load_table(artifact / "baseline.csv")
    assert baseline.names == tuple(names)

    same = _write_capture(tmp_path / "same.jsonl", baseline.values)
    assert (
        main(["--baseline", str(artifact / "baseline.csv"), "--current", str(same), "--out", str(tmp_path / "1.json")])
        == 0
    )

    shifted_values = baseline.values.copy()
    shifted_values[:, 0] += 0.5 * shifted_values[:, 0].std()  # 'mean radius' drifts by half a sigma
    shifted = _write_capture(tmp_path / "shifted.jsonl", shifted_values)
    out = tmp_path / "2.json"
    assert main(["--baseline", str(artifact / "baseline.csv"), "--current", str(shifted), "--out", str(out)]) == 3
    assert json.loads(out.read_text())["drifted_features"] == [names[0]]


def test_since_keeps_only_records_inside_the_window(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    old = json.loads(capture_record([[9.0, 9.0, 9.0]], event_id="old"))
    new = json.loads(capture_record([[1.0, 2.0, 3.0]], event_id="new"))
    new["eventMetadata"]["inferenceTime"] = "2024-01-02T10:00:00.000Z"  # old: 2024-01-01T00:00:00Z
    path = tmp_path / "capture.jsonl"
    path.write_text(f"{json.dumps(old)}\n{json.dumps(new)}\n")
    table = load_table(path, expected_names=NAMES, since=datetime(2024, 1, 2, 9, tzinfo=UTC))
    assert table.values.tolist() == [[1.0, 2.0, 3.0]]
    assert (table.records, table.outside_window) == (1, 1)
    with pytest.raises(InputError, match=r"has no data rows \(2 older than the --since-hours window\)"):
        load_table(path, expected_names=NAMES, since=datetime(2025, 1, 1, tzinfo=UTC))


def test_since_hours_on_a_csv_is_an_error(tmp_path: Path) -> None:
    base = write_csv(tmp_path / "b.csv", NAMES, np.ones((3, 3)))
    code = main(["--baseline", str(base), "--current", str(base), "--out", str(tmp_path / "r.json"),
                 "--since-hours", "24"])
    assert code == 2


def test_max_rows_keeps_a_seeded_uniform_sample(tmp_path: Path) -> None:
    """A busy endpoint's day of capture is sampled, not held whole: same input, same sample."""
    rows = np.arange(3000, dtype=float).reshape(1000, 3)
    path = _write_capture(tmp_path / "capture.jsonl", rows)
    first = load_table(path, expected_names=NAMES, max_rows=200)
    again = load_table(path, expected_names=NAMES, max_rows=200)
    assert (first.rows, first.rows_seen, first.records) == (200, 1000, 100)
    np.testing.assert_array_equal(first.values, again.values)
    kept = {tuple(row) for row in first.values.tolist()}
    assert kept <= {tuple(row) for row in rows.tolist()} and len(kept) == 200
    assert first.values[:, 0].max() > 2000  # late rows are kept too, not just the first 200


def test_max_rows_is_reported_and_checked(tmp_path: Path) -> None:
    baseline, current = normal_tables(seed=3)
    base = write_csv(tmp_path / "b.csv", NAMES, baseline)
    capture = _write_capture(tmp_path / "c.jsonl", current)
    out = tmp_path / "r.json"
    assert main(["--baseline", str(base), "--current", str(capture), "--out", str(out), "--max-rows", "500"]) == 0
    report = json.loads(out.read_text())
    assert (report["current"]["rows"], report["current"]["rows_seen"], report["config"]["max_rows"]) == (500, 2000, 500)
    assert main(["--baseline", str(base), "--current", str(capture), "--out", str(out), "--max-rows", "5"]) == 2
