"""Plan diffs for people: what changes, old -> new values, replacements; markdown for pull-request comments."""

from __future__ import annotations

import json
from typing import Any

from infra.plan.diff import DIFFERS, IGNORED, REPLACE, UPDATE, Change, PlanDiff, ValueChange
from infra.plan.paths import ABSENT
from infra.plan.recorder import SECRET, UNKNOWN

MAX_VALUE = 80
"""Longer rendered values are cut to their first 60 characters and their length."""
_SIGNS = {REPLACE: "+-", UPDATE: "~", DIFFERS: "~", IGNORED: "="}


def show(value: Any) -> str:
    """One value as a reviewer reads it: JSON, markers unquoted, URNs shortened, long values cut deterministically."""
    if value is ABSENT or value in (SECRET, UNKNOWN):
        return repr(value) if value is ABSENT else value
    if isinstance(value, str) and value.startswith("urn:pulumi:"):
        _, _, qualified, name = value.split("::", 3)
        return f"urn({qualified.split('$')[-1]}::{name})"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else f"{text[:60]}… ({len(text)} chars)"


def _code(text: str) -> str:
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _summary(diff: PlanDiff) -> str:
    if diff.across_stacks:
        text = (f"Stacks {diff.old_stack} -> {diff.new_stack} (matched by type, name and parents): "
                f"{len(diff.added)} only in {diff.new_stack}, {len(diff.removed)} only in {diff.old_stack}, "
                f"{len(diff.changed)} differ")
        return text + (f"; {diff.stack_name_only} values that differ only by the stack name not shown (--show-all)"
                       if diff.stack_name_only else "")
    text = (f"Stack {diff.new_stack}: {len(diff.added)} to add, {len(diff.of_action(UPDATE))} to change, "
            f"{len(diff.of_action(REPLACE))} to replace, {len(diff.removed)} to remove")
    ignored = diff.of_action(IGNORED)
    return text + (f"; {len(ignored)} with only ignoreChanges paths changed" if ignored else "")


def _note(change: Change) -> str:
    notes = []
    if change.action == REPLACE:
        notes.append("replace: " + ", ".join(change.replace_reasons))
        notes.append(f"delete first: {change.delete_first}" if change.delete_first else "create first")
    elif change.action == IGNORED:
        notes.append("only ignoreChanges paths differ: the engine changes nothing")
    if change.unknown_type:
        notes.append("replacement unknown: add this type to infra/plan/replacement.py")
    return f" [{'; '.join(notes)}]" if notes else ""


def _value_line(value: ValueChange, markdown: bool) -> str:
    flag = " (forces replacement)" if value.forces_replacement else " (ignored: ignoreChanges)" if value.ignored else ""
    if markdown:
        return f"  - {_code(value.path)}: {_code(show(value.old))} -> {_code(show(value.new))}{flag}"
    return f"      {value.path}: {show(value.old)} -> {show(value.new)}{flag}"


def render_diff(diff: PlanDiff, markdown: bool = False) -> str:
    """Human summary of a plan diff, with old -> new values; markdown for pull-request comments."""
    title = "### " if markdown else ""
    if diff.empty:
        stacks = diff.new_stack if not diff.across_stacks else f"{diff.old_stack} -> {diff.new_stack}"
        return f"{title}Stack {stacks}: no changes\n"
    lines = [title + _summary(diff), ""]
    bullet = "- " if markdown else ""
    code = _code if markdown else str  # in markdown a bare `+` / `-` after the bullet would open a nested list
    for sign, items in (("+", diff.added), ("-", diff.removed)):
        lines += [f"{bullet}{code(sign)} {code(r['type'])} {r['name']}" for r in items]
    for action in (REPLACE, UPDATE, DIFFERS, IGNORED):
        for change in diff.of_action(action):
            lines.append(f"{bullet}{code(_SIGNS[action])} {code(change.type)} {change.name}{_note(change)}")
            lines += [_value_line(v, markdown) for v in change.values]
    if diff.outputs:
        lines += ["", f"{bullet}Outputs:"]
        lines += [_value_line(v, markdown) for v in diff.outputs]
    return "\n".join(lines) + "\n"
