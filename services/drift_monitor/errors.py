"""The one error type the CLI turns into exit code 2 and a one-line message."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Input the drift monitor cannot use; the message names the file and what to fix."""

    def __init__(self, path: Path | str | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)
