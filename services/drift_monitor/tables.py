"""Load baseline and current data into numeric tables, with errors a user can act on.

A location is a local file or folder, or an ``s3://`` / ``gs://`` prefix (``sources.py``). Two
formats, told apart by the file name (``.jsonl``/``.ndjson``/``.json`` means data capture) or,
failing that, by the first character (``{`` means data capture):

- CSV with a header row naming the features (the trainer's ``baseline.csv`` is one); one file.
- Data-capture JSON lines (see ``capture.py``), any number of files; these carry no column
  names, so the baseline's are used and the baseline itself must be a CSV. Records that cannot
  be read are skipped and counted (``Table.unreadable``); ``check_unreadable`` applies the limit.

Every CSV value must be a finite number. Columns of the current data are matched to the baseline
by name (order may differ); a missing or extra column is an error.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from services.drift_monitor.capture import read_capture
from services.drift_monitor.errors import InputError, redact
from services.drift_monitor.sources import iter_sources

CAPTURE_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})


@dataclass(frozen=True)
class Table:
    """A numeric table: ``values[row, column]`` with ``names[column]``."""

    path: str
    format: str
    """``"csv"`` or ``"capture"``."""
    names: tuple[str, ...]
    values: np.ndarray
    records: int | None = None
    """Capture records read (None for a CSV)."""
    unreadable: int = 0
    """Capture records skipped because they could not be read."""
    unreadable_examples: tuple[tuple[str, str], ...] = ()
    """``(where, reason)`` of the first few skipped records."""
    outside_window: int = 0
    """Capture records older than the ``since`` cut-off."""
    rows_seen: int | None = None
    """Capture rows read, of which ``rows`` were kept (a uniform sample above ``max_rows``)."""

    @property
    def rows(self) -> int:
        """Number of data rows."""
        return int(self.values.shape[0])


def _is_capture(path: Path, text: str) -> bool:
    return path.suffix.lower() in CAPTURE_SUFFIXES or text.lstrip().startswith("{")


def _number(value: Any, where: str, column: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(path, f"{where}, column {column!r}: {value!r} is not a number; drift needs numeric features")
    try:
        number = float(value)
    except ValueError:
        shown = value if value != "" else "(empty)"
        raise InputError(path, f"{where}, column {column!r}: {shown!r} is not a number; fix or drop the row") from None
    if not math.isfinite(number):
        raise InputError(path, f"{where}, column {column!r}: {value!r} is not finite; fix or drop the row")
    return number


def _to_array(path: Path, names: Sequence[str], rows: list[tuple[str, list[Any]]]) -> np.ndarray:
    if not rows:
        raise InputError(path, "has no data rows; drift needs at least one row of features")
    out = np.empty((len(rows), len(names)), dtype=np.float64)
    for i, (where, row) in enumerate(rows):
        if len(row) != len(names):
            raise InputError(path, f"{where}: has {len(row)} values but there are {len(names)} columns")
        for j, (value, name) in enumerate(zip(row, names, strict=True)):
            out[i, j] = _number(value, where, name, path)
    return out


def _read_csv(path: Path, text: str) -> Table:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise InputError(path, "is empty; expected a CSV header row with the feature names")
    names = tuple(cell.strip() for cell in header)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates or "" in names:
        raise InputError(path, f"header has blank or repeated column names {duplicates or ['']}; name each column once")
    rows = [(f"line {reader.line_num}", [cell.strip() for cell in row]) for row in reader if row]
    return Table(str(path), "csv", names, _to_array(path, names, rows))


def _capture_table(location: str, sources: Iterable[tuple[str, str]], names: tuple[str, ...],
                   since: datetime | None, max_rows: int | None) -> Table:
    captured = read_capture(sources, names, since, location, max_rows)
    if not captured.rows:
        if captured.unreadable:
            where, reason = captured.examples[0]
            raise InputError(location, f"none of {captured.records} capture record(s) is readable; {where}: {reason}")
        window = f" ({captured.outside_window} older than the --since-hours window)" if captured.outside_window else ""
        raise InputError(location, f"has no data rows{window}; drift needs at least one row of features")
    return Table(redact(location), "capture", names, np.array(captured.rows, dtype=np.float64), captured.records,
                 captured.unreadable, tuple(captured.examples), captured.outside_window, captured.rows_seen)


def load_table(path: Path | str, expected_names: Sequence[str] | None = None, *,
               since: datetime | None = None, max_rows: int | None = None) -> Table:
    """Read ``path`` (see the module docstring); with ``expected_names`` (the baseline's), align columns
    to them or fail. ``since`` keeps capture records whose ``inferenceTime`` is not older; ``max_rows``
    keeps a seeded uniform sample of that many capture rows."""
    location = str(path)
    sources = iter_sources(location, since)
    first = next(sources, None)
    if first is None:
        raise InputError(location, "holds no files; expected a CSV or data-capture JSON lines")
    second = next(sources, None)
    if second is not None or _is_capture(Path(first[0]), first[1]):
        if expected_names is None:
            raise InputError(location, "a data-capture file has no column names; use a CSV baseline with a header")
        found = itertools.chain([first], [second] if second is not None else [], sources)
        return _capture_table(location, found, tuple(expected_names), since, max_rows)
    if since is not None:
        raise InputError(location, "--since-hours needs data-capture records (a CSV has no inference times)")
    table = _read_csv(Path(first[0]), first[1])
    if expected_names is None or table.names == tuple(expected_names):
        return table
    missing = [name for name in expected_names if name not in table.names]
    extra = [name for name in table.names if name not in expected_names]
    if missing or extra:
        raise InputError(
            location,
            f"columns do not match the baseline (missing {missing}, unexpected {extra}); "
            "the current data must have the baseline's feature columns",
        )
    order = [table.names.index(name) for name in expected_names]
    return Table(table.path, table.format, tuple(expected_names), table.values[:, order])


def check_unreadable(table: Table, max_percent: float) -> None:
    """Fail (InputError) when more than ``max_percent`` of the capture records were unreadable."""
    if not table.unreadable or table.records is None:
        return
    share = 100.0 * table.unreadable / table.records
    if share > max_percent:
        where, reason = table.unreadable_examples[0]
        raise InputError(
            table.path,
            f"{table.unreadable} of {table.records} capture records unreadable ({share:.1f}% > "
            f"max_unreadable_percent {max_percent:g}); first: {where}: {reason}",
        )
