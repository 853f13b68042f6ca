"""The one error type the CLI turns into exit code 2 and a one-line message."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REDACTED = "<SAS redacted>"


def redact(location: str) -> str:
    """``location`` without its query string: on an Azure Blob URL that is a SAS token, a bearer credential
    that must not reach logs, error messages or reports."""
    parts = urlsplit(location)
    return urlunsplit(parts._replace(query=REDACTED)) if parts.scheme and parts.query else location


class InputError(ValueError):
    """Input the drift monitor cannot use; the message names the file and what to fix."""

    def __init__(self, path: Path | str | None, problem: str) -> None:
        self.path = None if path is None else redact(str(path))
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)
