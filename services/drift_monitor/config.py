"""Thresholds from a config file (JSON or TOML), overridden by command-line flags.

A config file holds any of DriftConfig's fields at the top level, e.g. ``drift.toml``::

    ks_pvalue = 0.01
    psi_threshold = 0.2
    correction = "bh"
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from services.drift_monitor.detector import DriftConfig
from services.drift_monitor.errors import InputError

FIELD_TYPES: dict[str, type] = {f.name: type(getattr(DriftConfig(), f.name)) for f in fields(DriftConfig)}


def _parse(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(path, "config file not found; check the --config path")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise InputError(path, f"is not valid {kind} ({exc}); use a .toml or .json file") from None
    if not isinstance(data, dict):
        raise InputError(path, "must hold a table/object of settings at the top level")
    return data


def load_config(path: Path | None, overrides: dict[str, Any]) -> DriftConfig:
    """DriftConfig from defaults <- ``path`` <- ``overrides`` (None values are ignored)."""
    settings: dict[str, Any] = {}
    if path is not None:
        data = _parse(path)
        unknown = sorted(set(data) - set(FIELD_TYPES))
        if unknown:
            raise InputError(path, f"unknown setting(s) {unknown}; allowed: {', '.join(FIELD_TYPES)}")
        for key, value in data.items():
            expected = FIELD_TYPES[key]
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or isinstance(value, bool):
                raise InputError(path, f"{key} must be a {expected.__name__}, got {value!r}")
            settings[key] = value
    settings.update({key: value for key, value in overrides.items() if value is not None})
    config = replace(DriftConfig(), **settings)
    problems = config.problems()
    if problems:
        raise InputError(path, "; ".join(problems)) if path else InputError(None, "; ".join(problems))
    return config
