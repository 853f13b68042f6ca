"""Compare two plans: what would be added, removed, updated in place or replaced, with old -> new values.

Two plans of the same stack are matched by URN, as the engine matches state. Two plans of different
stacks (dev vs prod) are matched by logical identity (type, name and the chain of parents below the
stack), because every URN embeds the stack name; values that differ only by the stack name
(`mlops-dev-x` vs `mlops-prod-x`) are counted, not listed, unless `show_all` is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infra.plan.paths import ABSENT, changes, covers, overlay
from infra.plan.preview import Plan
from infra.plan.replacement import RULES, ReplaceRule

# Fields of a plan resource that a reviewer cares about besides `inputs`; the URN lists compare as sets.
_OPTIONS = ("parent", "provider", "protect", "retainOnDelete", "deleteBeforeReplace", "replaceOnChanges",
            "ignoreChanges", "aliases", "customTimeouts", "deletedWith", "dependencies", "propertyDependencies")
_SET_OPTIONS = {"replaceOnChanges", "ignoreChanges", "aliases", "dependencies", "propertyDependencies"}
UPDATE, REPLACE, IGNORED, DIFFERS = "update", "replace", "ignored", "differs"


@dataclass(frozen=True)
class ValueChange:
    path: str
    """`inputs.scalingConfig.maxSize`, `inputs.policy$.Statement[0].Effect`, `protect`, an export name."""
    old: Any
    """The old value (`ABSENT` when it was not set)."""
    new: Any
    """The new value (`ABSENT` when it is no longer set)."""
    ignored: bool = False
    """The path is under the resource's `ignoreChanges`: the engine keeps the old value."""
    forces_replacement: bool = False
    """The provider (or `replaceOnChanges`) replaces the resource when this value changes."""


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    values: tuple[ValueChange, ...]
    action: str
    """`update`, `replace`, `ignored` (only ignoreChanges paths differ) or `differs` (two stacks compared)."""
    replace_reasons: tuple[str, ...] = ()
    """Input paths that force the replacement, `(replaceOnChanges)` marked."""
    delete_first: str = ""
    """Why the old resource is deleted before the new one is created (empty: created first)."""
    unknown_type: bool = False
    """The replacement table has no line for this type, so a replacement cannot be told from an update."""

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.path for v in self.values))


@dataclass
class PlanDiff:
    old_stack: str
    new_stack: str
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    outputs: tuple[ValueChange, ...] = ()
    """Exports added, removed or changed."""
    stack_name_only: int = 0
    """Across stacks: values left out because they differ only by the stack name."""

    @property
    def across_stacks(self) -> bool:
        return self.old_stack != self.new_stack

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)

    def of_action(self, action: str) -> list[Change]:
        return [c for c in self.changed if c.action == action]


def diff_plans(old: Plan, new: Plan, show_all: bool = False) -> PlanDiff:
    """What changes from `old` to `new`; plans of different stacks are compared by logical identity."""
    result = PlanDiff(old.stack, new.stack)
    same = _StackNames(old.stack, new.stack, enabled=result.across_stacks and not show_all)
    before, after = (_keyed(plan, by_urn=not result.across_stacks) for plan in (old, new))
    result.added = [after[k] for k in sorted(after.keys() - before.keys())]
    result.removed = [before[k] for k in sorted(before.keys() - after.keys())]
    for key in sorted(before.keys() & after.keys()):
        values = _value_changes(before[key], after[key], same)
        if values:
            resource = after[key]
            result.changed.append(
                Change(resource["urn"], resource["type"], resource["name"], tuple(values), DIFFERS)
                if result.across_stacks else _classify(before[key], resource, values))
    outputs = [ValueChange(path, a, b) for path, a, b in changes(old.outputs, new.outputs, "outputs")]
    result.outputs = tuple(v for v in outputs if not same(v.old, v.new))
    result.stack_name_only = same.count
    return result


def _keyed(plan: Plan, by_urn: bool) -> dict[Any, dict[str, Any]]:
    if by_urn:
        return {r["urn"]: r for r in plan.resources}
    by_urn_ = {r["urn"]: r for r in plan.resources}

    def key(res: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        if res["type"] == "pulumi:pulumi:Stack":
            return ((res["type"], ""),)
        parent = by_urn_.get(res["parent"] or "")
        return (*(key(parent) if parent else ()), (res["type"], res["name"]))

    return {key(r): r for r in plan.resources}


def _value_changes(old: dict[str, Any], new: dict[str, Any], same: _StackNames) -> list[ValueChange]:
    found = [*changes(old["inputs"], new["inputs"], "inputs")]
    for option in _OPTIONS:
        found += changes(old.get(option), new.get(option), option, sets=option in _SET_OPTIONS, canon=same.swap)
    ignore = new.get("ignoreChanges") or []
    return [ValueChange(path, a, b, ignored=path.startswith("inputs") and any(covers(p, path) for p in ignore))
            for path, a, b in found if not same(a, b)]


def _classify(old: dict[str, Any], new: dict[str, Any], values: list[ValueChange]) -> Change:
    """Update, replace or nothing (only ignored paths), as the engine would decide for a custom resource."""
    rule = RULES.get(new["type"])
    reasons = _replace_reasons(old, new, rule) if new["custom"] else []
    if reasons:
        action = REPLACE
    elif all(v.ignored for v in values):
        action = IGNORED
    else:
        action = UPDATE
    forcing = [f"inputs.{r.split(' ')[0]}" for r in reasons]
    marked = tuple(
        ValueChange(v.path, v.old, v.new, v.ignored,
                    any(v.path == f or v.path.startswith((f"{f}.", f"{f}[", f"{f}$")) for f in forcing))
        for v in values)
    return Change(new["urn"], new["type"], new["name"], marked, action,
                  replace_reasons=tuple(reasons), delete_first=_delete_first(new, rule) if reasons else "",
                  unknown_type=new["custom"] and rule is None)


def _replace_reasons(old: dict[str, Any], new: dict[str, Any], rule: ReplaceRule | None) -> list[str]:
    old_inputs, new_inputs = old["inputs"], new["inputs"]
    for path in new.get("ignoreChanges") or []:
        new_inputs = overlay(old_inputs, new_inputs, path)
    reasons = rule.reasons(old_inputs, new_inputs) if rule else []
    labelled = [f"{r} (physical name)" if rule and r == rule.name else r for r in reasons]
    option = ReplaceRule(force_new=tuple(new.get("replaceOnChanges") or ()), keep=(), removed=(), name=None,
                         source="replaceOnChanges")
    return labelled + [f"{r} (replaceOnChanges)" for r in option.reasons(old_inputs, new_inputs) if r not in reasons]


def _delete_first(new: dict[str, Any], rule: ReplaceRule | None) -> str:
    if new.get("deleteBeforeReplace"):
        return "deleteBeforeReplace option"
    if rule and rule.name and rule.name in new["inputs"]:
        return f"physical name set ({rule.name})"
    return ""


class _StackNames:
    """Across stacks: whether two values differ only by the stack name, counting those that do."""

    def __init__(self, old_stack: str, new_stack: str, enabled: bool):
        self.enabled = enabled
        self.new_stack = new_stack
        self.pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(old_stack)}(?![A-Za-z0-9])")
        self.count = 0

    def __call__(self, old: Any, new: Any) -> bool:
        if not self.enabled or old is ABSENT or new is ABSENT or self.swap(old) != new:
            return False
        self.count += 1
        return True

    def swap(self, value: Any) -> Any:
        """`value` with the old stack's name replaced by the new one's (unchanged when not comparing stacks)."""
        if not self.enabled:
            return value
        if isinstance(value, str):
            return self.pattern.sub(self.new_stack, value)
        if isinstance(value, list):
            return [self.swap(v) for v in value]
        if isinstance(value, dict):
            return {k: self.swap(v) for k, v in value.items()}
        return value
