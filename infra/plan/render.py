"""Plans for people: a tree like `pulumi preview`'s, and markdown for pull-request comments.

Plan diffs are rendered by `infra.plan.diff_report` (a plan needs none of the diff machinery).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from infra.plan.preview import Plan

PROTECT_MARK = " [protect]"
RETAIN_MARK = " [retain]"


def _children(plan: Plan) -> dict[str | None, list[dict[str, Any]]]:
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    for res in plan.resources:
        by_parent.setdefault(res["parent"], []).append(res)
    for kids in by_parent.values():
        kids.sort(key=lambda r: (r["type"], r["name"]))
    return by_parent


def _rows(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """(tree prefix, resource) in display order: depth first, siblings by type then name."""
    by_parent = _children(plan)
    known = {r["urn"] for r in plan.resources}
    roots = [r for r in plan.resources if r["parent"] is None or r["parent"] not in known]
    roots.sort(key=lambda r: (r["type"] != "pulumi:pulumi:Stack", r["type"], r["name"]))
    rows: list[tuple[str, dict[str, Any]]] = []

    def walk(res: dict[str, Any], prefix: str, branch: str) -> None:
        rows.append((prefix + branch, res))
        kids = by_parent.get(res["urn"], [])
        deeper = prefix + ("" if not branch else ("│  " if branch == "├─ " else "   "))
        for i, kid in enumerate(kids):
            walk(kid, deeper, "└─ " if i == len(kids) - 1 else "├─ ")

    for root in roots:
        walk(root, "", "")
    return rows


def type_counts(plan: Plan) -> list[tuple[str, int]]:
    """(type, count) for every resource type, most frequent first, then by name."""
    counts = Counter(r["type"] for r in plan.resources)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _flags(res: dict[str, Any]) -> str:
    return (PROTECT_MARK if res["protect"] else "") + (RETAIN_MARK if res["retainOnDelete"] else "")


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def render_tree(plan: Plan) -> str:
    """Text tree of every resource, the exports and counts per type."""
    rows = _rows(plan)
    type_width = max([len(p + r["type"]) for p, r in rows] + [4])
    lines = [f"Offline plan of stack {plan.stack} ({plan.project}): {len(plan.resources)} resources to create",
             "", f"     {'Type':<{type_width}}  Name"]
    lines += [f" +   {(prefix + res['type']):<{type_width}}  {res['name']}{_flags(res)}" for prefix, res in rows]
    if plan.outputs:
        lines += ["", "Outputs:"]
        width = max(len(k) for k in plan.outputs)
        lines += [f"    {k:<{width}}: {_value(v)}" for k, v in sorted(plan.outputs.items())]
    lines += ["", "Resources by type:"]
    lines += [f"    {count:>4}  {type_}" for type_, count in type_counts(plan)]
    lines += ["", f"Resources:\n    + {len(plan.resources)} to create"]
    return "\n".join(lines) + "\n"


def render_markdown(plan: Plan) -> str:
    """Markdown for a pull-request comment: counts per type, the tree folded, the exports."""
    lines = [f"### Plan of stack `{plan.stack}`: {len(plan.resources)} resources", "",
             "| Type | Count |", "|---|---:|"]
    lines += [f"| `{t}` | {n} |" for t, n in type_counts(plan)]
    lines += ["", "<details><summary>Resource tree</summary>", "", "```"]
    lines += [f"{prefix}{res['type']}  {res['name']}{_flags(res)}" for prefix, res in _rows(plan)]
    lines += ["```", "", "</details>"]
    if plan.outputs:
        lines += ["", "| Output | Value |", "|---|---|"]
        lines += [f"| `{k}` | `{_value(v)}` |" for k, v in sorted(plan.outputs.items())]
    return "\n".join(lines) + "\n"
