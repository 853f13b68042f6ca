"""Load baseline and current data into numeric tables, with errors a user can act on.

Two formats, told apart by the file name (``.jsonl``/``.ndjson``/``.json`` means data capture) or,
failing that, by the first character (``{`` means data capture):

- CSV with a header row naming the features (the trainer's ``baseline.csv`` is one).
- SageMaker data-capture JSON lines (see ``capture.py``); these carry no column names, so the
  baseline's are used and the baseline itself must be a CSV.

Every value must be a finite number. Columns of the current data are matched to the baseline by
name (order may differ); a missing or extra column is an error.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from services.drift_monitor.capture import read_capture
from services.drift_monitor.errors import InputError

CAPTURE_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})


@dataclass(frozen=True)
class Table:
    """A numeric table: ``values[row, column]`` with ``names[column]``."""

    path: str
    format: str
    """``"csv"`` or ``"capture"``."""
    names: tuple[str, ...]
    values: np.ndarray

    @property
    def rows(self) -> int:
        """Number of data rows."""
        return int(self.values.shape[0])


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(path, "file not found; check the path")
    if path.is_dir():
        raise InputError(path, "is a directory; pass the data file itself")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, "is not UTF-8 text; expected CSV or JSON lines") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror})") from None


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


def load_table(path: Path | str, expected_names: Sequence[str] | None = None) -> Table:
    """Read ``path``; with ``expected_names`` (the baseline's), align columns to them or fail."""
    path = Path(path)
    text = _read_text(path)
    if _is_capture(path, text):
        if expected_names is None:
            raise InputError(path, "a data-capture file has no column names; use a CSV baseline with a header")
        names = tuple(expected_names)
        return Table(str(path), "capture", names, _to_array(path, names, read_capture(path, text, names)))
    table = _read_csv(path, text)
    if expected_names is None or table.names == tuple(expected_names):
        return table
    missing = [name for name in expected_names if name not in table.names]
    extra = [name for name in table.names if name not in expected_names]
    if missing or extra:
        raise InputError(
            path,
            f"columns do not match the baseline (missing {missing}, unexpected {extra}); "
            "the current data must have the baseline's feature columns",
        )
    order = [table.names.index(name) for name in expected_names]
    return Table(table.path, table.format, tuple(expected_names), table.values[:, order])
