"""Every YAML snippet in the runbooks, applied to its stack file, plans, passes policy and changes only what it says.

Issue 10: `docs/runbooks/rollback.md` (prod) showed slots without `instanceType`; pasted over the service's
block it replaced the `ml.g5.xlarge` fleet with the default `ml.m5.large` mid-incident and dropped the GPU
alarm. Each YAML snippet in docs/runbooks/ carries a comment naming its stack, the config key whose entries
it replaces, and the keys it is meant to change:

    <!-- runbook-snippet: stack=prod under=mlops-platform:gpu changes=maxNodes minNodes -->
    <!-- runbook-snippet: stack=dev under=config changes=mlops-platform:serving -->   (whole stack-file keys)

Applying a snippet replaces each of its top-level entries under that key, as pasting it over the block
does; every other key must come out as the stack file had it. Changed key paths are relative to `under`.
"""

from __future__ import annotations

import fnmatch
import re
import textwrap
from typing import Any

import pytest
import yaml

from infra.plan.engine import plan_stack
from infra.stackfile import PROJECT_ROOT
from policy.check import run_pack

RUNBOOKS = PROJECT_ROOT / "docs" / "runbooks"
_BLOCK = re.compile(r"(?:^[ \t]*<!-- runbook-snippet: (?P<meta>[^>]*?) -->\n)?^(?P<indent>[ \t]*)```ya?ml\n"
                    r"(?P<body>.*?)^(?P=indent)```", re.MULTILINE | re.DOTALL)


def snippets() -> list[tuple[str, dict[str, str] | None, str]]:
    """(where, its annotation or None, the YAML) for every YAML block in the runbooks."""
    found = []
    for path in sorted(RUNBOOKS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            line = text[:match.start("body")].count("\n")
            meta = re.fullmatch(r"stack=(?P<stack>\S+) under=(?P<under>\S+) changes=(?P<changes>.*)",
                                match.group("meta") or "")
            fields = meta.groupdict() if meta else None
            found.append((f"{path.relative_to(PROJECT_ROOT)}:{line}", fields, textwrap.dedent(match.group("body"))))
    return found


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out or {prefix.rstrip("."): {}}
    return {prefix.rstrip("."): value}


_GONE = object()


def apply_snippet(stack_document: dict[str, Any], under: str, snippet: str) -> tuple[dict[str, Any], list[str]]:
    """The stack document with the snippet's entries replacing those under `under`, and every changed key path
    (relative to `under`: `fraud-detector.slots.blue.weight`)."""
    document = yaml.safe_load(yaml.safe_dump(stack_document))
    # `under=config`: the snippet's entries are whole stack-file keys (`mlops-platform:serving: false`).
    parent = document["config"] if under == "config" else document["config"].setdefault(under, {})
    changed = []
    for key, value in yaml.safe_load(snippet).items():
        before, after = _flatten(parent.get(key, {}), f"{key}."), _flatten(value, f"{key}.")
        changed += sorted(path for path in before.keys() | after.keys()
                          if before.get(path, _GONE) != after.get(path, _GONE))
        parent[key] = value
    return document, changed


def _unintended(changed: list[str], allowed: str) -> list[str]:
    return [path for path in changed if not any(fnmatch.fnmatchcase(path, pattern) for pattern in allowed.split())]


SNIPPETS = snippets()


def test_the_runbooks_have_yaml_snippets():
    assert any(fields for _, fields, _ in SNIPPETS), "rollback.md's snippet is expected here"


@pytest.mark.parametrize(("where", "fields", "snippet"), SNIPPETS, ids=[where for where, _, _ in SNIPPETS])
def test_snippet_plans_against_its_stack_and_changes_only_the_intended_keys(where, fields, snippet, tmp_path):
    assert fields and {"stack", "under", "changes"} <= fields.keys(), (
        f"{where}: annotate the snippet with <!-- runbook-snippet: stack=<stack> under=<config key> "
        "changes=<key paths it changes> -->")
    stack = fields["stack"]
    original = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    document, changed = apply_snippet(original, fields["under"], snippet)
    assert not _unintended(changed, fields["changes"]), (
        f"{where}: following the snippet also changes {_unintended(changed, fields['changes'])} in "
        f"Pulumi.{stack}.yaml (say so in changes=, or make the snippet complete)")
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    plan = plan_stack(stack, path)
    mandatory = [v for v in run_pack(plan.to_dict()) if v.level == "mandatory"]
    assert not mandatory, f"{where}: the plan fails policy: {mandatory}"


def test_a_slot_pasted_without_its_instance_type_is_caught():
    """The snippet rollback.md had before issue 10: it would have reset prod's GPU fleet to ml.m5.large."""
    old = textwrap.dedent("""\
        fraud-detector:
          live: blue
          slots:
            blue:  {imageTag: "1.4.0", modelVersion: "7", instanceCount: 2, weight: 100}
            green: {imageTag: "1.6.0", modelVersion: "8", instanceCount: 2, weight: 0}
        """)
    prod = yaml.safe_load((PROJECT_ROOT / "Pulumi.prod.yaml").read_text(encoding="utf-8"))
    _, changed = apply_snippet(prod, "mlops-platform:services", old)
    unintended = _unintended(changed, "fraud-detector.live fraud-detector.slots.*.weight")
    assert {f"fraud-detector.{key}" for key in ("slots.blue.instanceType", "slots.green.instanceType", "buildTag",
                                                 "driftFeatures")} <= set(unintended)


def test_snippet_paths_are_relative_to_the_replaced_entry():
    prod = yaml.safe_load((PROJECT_ROOT / "Pulumi.prod.yaml").read_text(encoding="utf-8"))
    service = prod["config"]["mlops-platform:services"]["fraud-detector"]
    edited = {**service, "slots": {**service["slots"], "blue": {**service["slots"]["blue"], "weight": 50},
                                   "green": {**service["slots"]["green"], "weight": 50}}}
    _, changed = apply_snippet(prod, "mlops-platform:services", yaml.safe_dump({"fraud-detector": edited}))
    assert changed == ["fraud-detector.slots.blue.weight", "fraud-detector.slots.green.weight"]
    assert _unintended(changed, "fraud-detector.slots.*.weight") == []
