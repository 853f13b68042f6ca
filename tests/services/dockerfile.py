"""A small Dockerfile reader for the image structure tests (no Docker engine here: tests parse)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

COMPILERS = re.compile(r"\b(gcc|g\+\+|clang|build-essential|make|cmake|python3?-dev|libc6-dev)\b")


@dataclass
class Stage:
    """One build stage: its base, its name and its instructions in order."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        """Arguments of every instruction ``keyword`` (upper case) in this stage."""
        return [args for kw, args in self.instructions if kw == keyword]


def parse(path: Path) -> list[Stage]:
    """Stages with their instructions; continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", args.strip(), re.IGNORECASE)
            assert match, line
            stages.append(Stage(base=match[1], name=match[2]))
        else:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def external_bases(stages: list[Stage]) -> list[str]:
    """The images the stages start from (stages built on an earlier stage are left out)."""
    names = {s.name for s in stages}
    return [s.base for s in stages if s.base not in names]


def dockerignore(path: Path) -> list[str]:
    """The patterns of a .dockerignore file."""
    return [p.strip() for p in path.read_text().splitlines() if p.strip() and not p.startswith("#")]
