"""Config problems as one line each: stack file, key path, bad value, what was expected.

Every way a stack file can be wrong ends up here, so the messages look the same whether the problem
is broken YAML, an unknown key, a wrong type or a cross-field rule.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_NOT_SET = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack's config."""

    key: str
    """Full key path as written in the stack file, e.g. `mlops-platform:gpu.minNodes`."""
    message: str
    """What was expected, and how to fix it."""
    value: Any = _NOT_SET
    """The offending value (omitted for missing keys)."""

    def render(self, source: str) -> str:
        shown = "" if self.value is _NOT_SET else f" = {_show(self.value)}"
        key = f" {self.key}{shown}:" if self.key else ""
        return f"{source}:{key} {self.message}"


class ConfigError(Exception):
    """A stack's config is invalid. `lines()` gives one line per problem."""

    def __init__(self, source: str, problems: Iterable[Problem]):
        self.source = source
        unique = {(p.key, p.message, _show(p.value) if p.value is not _NOT_SET else ""): p for p in problems}
        self.problems = [unique[k] for k in sorted(unique)]
        self._lines = [p.render(source) for p in self.problems]
        super().__init__("\n".join(self._lines))

    def lines(self) -> list[str]:
        return list(self._lines)

    @classmethod
    def merge(cls, errors: Iterable[ConfigError]) -> ConfigError:
        """One error carrying the lines of several (e.g. every stack file at once)."""
        merged = cls("", [])
        merged._lines = [line for error in errors for line in error.lines()]
        merged.args = ("\n".join(merged._lines),)
        return merged


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest choice, or an empty string."""
    choices = list(choices)
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in choices}
        match = [lowered[word.lower()]] if word.lower() in lowered else []
    if not match and len(word) >= 3:
        match = [c for c in choices if c.startswith(word)][:1]
    return f"; did you mean {match[0]!r}?" if match else ""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
