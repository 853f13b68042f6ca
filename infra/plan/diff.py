"""Compare two plans: resources added, removed and changed, with the input paths that changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.plan.engine import Plan

# Fields of a plan resource that a reviewer cares about besides `inputs`.
_OPTIONS = ("parent", "provider", "protect", "retainOnDelete", "deleteBeforeReplace", "replaceOnChanges",
            "ignoreChanges", "aliases", "customTimeouts", "deletedWith", "dependencies", "propertyDependencies")


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    paths: tuple[str, ...]
    """Changed paths: `inputs.tags.owner`, `protect`, ..."""


@dataclass
class PlanDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    outputs: tuple[str, ...] = ()
    """Export names added, removed or changed."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)


def diff_plans(old: Plan, new: Plan) -> PlanDiff:
    before = {r["urn"]: r for r in old.resources}
    after = {r["urn"]: r for r in new.resources}
    result = PlanDiff(
        added=[after[u] for u in sorted(after.keys() - before.keys())],
        removed=[before[u] for u in sorted(before.keys() - after.keys())],
    )
    for urn in sorted(before.keys() & after.keys()):
        a, b = before[urn], after[urn]
        paths = _changed_paths(a["inputs"], b["inputs"], "inputs")
        paths += [opt for opt in _OPTIONS if a.get(opt) != b.get(opt)]
        if paths:
            result.changed.append(Change(urn, b["type"], b["name"], tuple(paths)))
    result.outputs = tuple(sorted(
        k for k in old.outputs.keys() | new.outputs.keys() if old.outputs.get(k) != new.outputs.get(k)
    ))
    return result


def _changed_paths(a: Any, b: Any, path: str) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(a.keys() | b.keys()):
            out += _changed_paths(a.get(key, _ABSENT), b.get(key, _ABSENT), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _changed_paths(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path]


_ABSENT = object()


def render_diff(diff: PlanDiff, stack: str, markdown: bool = False) -> str:
    """Human summary; markdown for pull-request comments."""
    if diff.empty:
        return f"{'### ' if markdown else ''}Stack {stack}: no changes\n"
    counts = f"{len(diff.added)} to add, {len(diff.changed)} to change, {len(diff.removed)} to remove"
    code = "`" if markdown else ""
    lines = [f"{'### ' if markdown else ''}Stack {stack}: {counts}", ""]
    for sign, items in (("+", diff.added), ("-", diff.removed)):
        lines += [f"{'- ' if markdown else ''}{sign} {code}{r['type']}{code} {r['name']}" for r in items]
    for change in diff.changed:
        lines.append(f"{'- ' if markdown else ''}~ {code}{change.type}{code} {change.name}")
        lines += [f"{'    - ' if markdown else '      '}{code}{p}{code}" for p in change.paths]
    if diff.outputs:
        lines += ["", "Outputs changed: " + ", ".join(f"{code}{o}{code}" for o in diff.outputs)]
    return "\n".join(lines) + "\n"
