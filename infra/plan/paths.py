"""Property paths into plan values: read one (`pick`), apply `ignoreChanges` (`overlay`), list what changed.

Paths use the engine's syntax: `scalingConfig.maxSize`, `rules[0].id`, `tags.*`, `*`. A name that meets a
list applies to every element (`productionVariants.instanceType`), as force-new properties of list
elements do. `changes` walks into JSON documents held in strings (IAM policies, dashboards), written
`inputs.policy$.Statement[0].Effect`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any


class _Absent:
    """No value at this path (the property is not set)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


def parts(path: str) -> list[str]:
    """`a[0].b[*]` -> ['a', '0', 'b', '*']."""
    return [p for p in re.sub(r"\[([^\]]*)\]", r".\1", path).split(".") if p]


def pick(value: Any, path: str | list[str]) -> Any:
    """The value at `path`; through lists for a name (one value per element); ABSENT when unset."""
    steps = parts(path) if isinstance(path, str) else path
    if not steps:
        return value
    head, rest = steps[0], steps[1:]
    if isinstance(value, list):
        if head.isdigit():
            return pick(value[int(head)], rest) if int(head) < len(value) else ABSENT
        return [pick(v, rest if head == "*" else steps) for v in value]
    if isinstance(value, dict):
        if head == "*":
            return {k: pick(v, rest) for k, v in sorted(value.items())}
        return pick(value.get(head, ABSENT), rest)
    return ABSENT


def overlay(old: Any, new: Any, path: str | list[str]) -> Any:
    """`new` with the value at `path` taken from `old`: what the engine sends when `path` is in ignoreChanges."""
    steps = parts(path) if isinstance(path, str) else path
    if not steps:
        return old
    head, rest = steps[0], steps[1:]
    if isinstance(new, list):
        olds = old if isinstance(old, list) else []
        indices = range(len(new)) if head == "*" else [int(head)] if head.isdigit() else []
        out = list(new)
        for i in indices:
            if i < len(out):
                out[i] = overlay(olds[i] if i < len(olds) else ABSENT, out[i], rest)
        return out
    if isinstance(new, dict) or (new is ABSENT and isinstance(old, dict)):
        olds = old if isinstance(old, dict) else {}
        out = dict(new) if isinstance(new, dict) else {}
        for key in (sorted(olds.keys() | out.keys()) if head == "*" else [head]):
            merged = overlay(olds.get(key, ABSENT), out.get(key, ABSENT), rest)
            if merged is ABSENT:
                out.pop(key, None)
            else:
                out[key] = merged
        return out if out or isinstance(new, dict) else ABSENT
    return new


def covers(pattern: str, path: str) -> bool:
    """Whether a changed display path (`inputs.a[0].b`) lies under an option path (`a[*]`, `*`, `a.b`)."""
    want = parts(pattern)
    have = parts(path.split("$", 1)[0])
    have = have[1:] if have[:1] == ["inputs"] else have
    if len(have) < len(want):
        return False
    return all(w in ("*", h) for w, h in zip(want, have, strict=False))


def changes(old: Any, new: Any, path: str, sets: bool = False,
            canon: Callable[[Any], Any] = lambda v: v) -> Iterator[tuple[str, Any, Any]]:
    """(path, old, new) for every changed leaf. With `sets`, lists compare as sets (each item added or
    removed), an old item matching a new one when `canon(old item)` equals it."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            yield from changes(old.get(key, ABSENT), new.get(key, ABSENT), f"{path}.{key}", sets, canon)
    elif sets and (isinstance(old, list) or isinstance(new, list)):
        olds, news = (v if isinstance(v, list) else [] for v in (old, new))
        matched = [canon(item) for item in olds]
        yield from ((path, item, ABSENT) for item, same in zip(olds, matched, strict=True) if same not in news)
        yield from ((path, ABSENT, item) for item in news if item not in matched)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            yield from changes(old[i] if i < len(old) else ABSENT, new[i] if i < len(new) else ABSENT,
                               f"{path}[{i}]", sets, canon)
    elif old != new:
        documents = _json_document(old), _json_document(new)
        if None in documents:
            yield path, old, new
        else:
            yield from changes(*documents, f"{path}$", sets, canon)


def _json_document(value: Any) -> Any:
    """The object or array a string holds as JSON (an IAM policy, a dashboard body), else None."""
    if not isinstance(value, str) or value[:1] not in ("{", "["):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None
