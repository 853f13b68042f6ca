"""tasks.py, the entry point a fresh clone starts from: setting up shows pip's own progress."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from infra.stackfile import PROJECT_ROOT


def load_tasks():
    spec = importlib.util.spec_from_file_location("tasks", PROJECT_ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_setup_runs_pip_with_its_own_output_visible(tmp_path: Path, monkeypatch):
    """A first install takes minutes; pip's per-package output is what tells the user it is progressing."""
    tasks = load_tasks()
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    monkeypatch.setattr(tasks, "PYTHON", Path(sys.executable))
    monkeypatch.setattr(tasks, "MARKER", venv / ".requirements-sha256")
    commands: list[tuple[str, ...]] = []
    monkeypatch.setattr(tasks, "_run", lambda *cmd: commands.append(cmd))
    tasks.setup()
    installs = [c for c in commands if c[1:4] == ("-m", "pip", "install")]
    assert [c[-1] for c in installs] == ["pip", "requirements-dev.txt"]
    assert not [c for c in installs if {"-q", "--quiet", "-qq"} & set(c)], installs
    assert tasks.MARKER.read_text() == tasks._requirements_hash()
    commands.clear()
    tasks.setup()
    assert commands == [], "an unchanged .venv is not reinstalled"
