"""Documented steps work as written from a fresh clone: commands, sample files, runbook links.

Issue 10: commands in the READMEs, runbooks and policy docs used bare `python -m ...`, which fails from a fresh
clone (`ModuleNotFoundError`: the dependencies live in `.venv`); `docs/policy.md` used a `policy-config.json`
nobody shipped; the GPU alert's `runbook_url` pointed at a `capacity.md` that did not exist.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from components.alert_rules import RuleOptions, ServiceAlerts, alert_rules
from components.monitoring import AlertThresholds, DriftSpec
from infra.stackfile import PROJECT_ROOT
from policy.check import main as policy_check

BARE_PYTHON_M = re.compile(r"(?<![/\w.])python3? -m ")
RUNBOOK_REF = re.compile(r"docs/runbooks/[\w-]+\.md")


def _tracked(*patterns: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return [p for p in out.stdout.split() if (PROJECT_ROOT / p).is_file()]


def test_no_document_runs_a_bare_python_m():
    found = [f"{path}:{n}: {line.strip()}" for path in _tracked("*.md")
             for n, line in enumerate((PROJECT_ROOT / path).read_text(encoding="utf-8").splitlines(), 1)
             if BARE_PYTHON_M.search(line)]
    assert not found, ("use `python3 tasks.py ...` or `.venv/bin/python -m ...` (a fresh clone has no packages "
                       "on the system Python):\n" + "\n".join(found))


def test_the_bare_python_m_check_catches_what_it_should():
    assert BARE_PYTHON_M.search("run `python -m infra plan dev`")
    assert BARE_PYTHON_M.search("python3 -m policy.check plans/dev.json")
    assert not BARE_PYTHON_M.search(".venv/bin/python -m infra plan dev")


def test_every_runbook_url_of_the_alert_rules_exists():
    rules = alert_rules([ServiceAlerts("fraud", DriftSpec(features=("a",), threshold_psi=0.2))], AlertThresholds(),
                        RuleOptions(gpu=True))
    urls = {rule["annotations"]["runbook_url"] for group in rules["groups"] for rule in group["rules"]}
    assert "docs/runbooks/capacity.md" in urls
    assert [url for url in urls if not (PROJECT_ROOT / url).is_file()] == []


def test_every_runbook_the_code_and_docs_name_exists():
    named = {(path, ref) for path in _tracked("*.py", "*.md", "*.yaml", "*.yml")
             for ref in RUNBOOK_REF.findall((PROJECT_ROOT / path).read_text(encoding="utf-8", errors="replace"))}
    assert named, "the scan should find runbook references"
    assert sorted(f"{path}: {ref}" for path, ref in named if not (PROJECT_ROOT / ref).is_file()) == []


def test_policy_config_sample_is_shipped_and_is_what_the_docs_show():
    shipped = json.loads((PROJECT_ROOT / "policy" / "policy-config.json").read_text(encoding="utf-8"))
    doc = (PROJECT_ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    assert "policy/policy-config.json" in doc
    [block] = re.findall(r"```json\n(.*?)```", doc, re.DOTALL)
    assert json.loads(block) == shipped


@pytest.mark.parametrize("plan", sorted((PROJECT_ROOT / "plans").glob("*.json")), ids=lambda p: p.stem)
def test_the_documented_policy_command_passes_over_every_committed_plan(plan, capsys):
    assert policy_check([str(plan), "--config", str(PROJECT_ROOT / "policy" / "policy-config.json")]) == 0, (
        capsys.readouterr().out)
