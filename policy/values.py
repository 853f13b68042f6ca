"""Plain-value view of resource properties as policies see them.

The policy SDK hands validators a proxy that raises ``UnknownValueError`` when a value is not known
during preview. Rules work on plain dicts instead, where such values are the :data:`UNKNOWN` sentinel, so
a rule can decide what an unknown means (usually: "cannot prove a violation, pass").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import UnknownValueError


class _Unknown:
    """A value that is not known at preview time (computed by the cloud on create)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = _Unknown()

ENVIRONMENTS: Final = ("dev", "staging", "prod")


def plain(value: Any) -> Any:
    """Copy a (possibly proxied) property value into plain dicts/lists, unknowns become UNKNOWN."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[str(key)] = plain(value[key])
            except UnknownValueError:
                out[str(key)] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """Walk ``path`` through nested dicts/lists; UNKNOWN anywhere on the way yields UNKNOWN."""
    current = value
    for step in path:
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(current, list) or not -len(current) <= step < len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in current:
                return default
            current = current[step]
    return default if current is None else current


def as_list(value: Any) -> list[Any]:
    """A list for list-or-single-object properties (TF-bridged blocks, IAM Action/Resource)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def is_set(value: Any) -> bool:
    """True when a value is present (UNKNOWN counts: it will be set by the time it is applied)."""
    if value is UNKNOWN:
        return True
    return value not in (None, "", [], {})


def is_true(value: Any) -> bool:
    """True for ``True``/"true"; UNKNOWN counts as true (no provable violation during preview)."""
    if value is UNKNOWN:
        return True
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def number(value: Any) -> float | None:
    """A numeric property as float (the engine sends all numbers as floats); None if absent/unknown."""
    if isinstance(value, bool) or value is UNKNOWN or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_json_document(value: Any) -> Any:
    """A JSON policy document given as string or object; None when absent, unknown or unparsable."""
    if value is UNKNOWN or value is None:
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def stack_of(urn: str) -> str:
    """The stack name inside a URN (``urn:pulumi:STACK::project::type::name``)."""
    head = urn.split("::", 1)[0]
    return head.rsplit(":", 1)[-1] if head.startswith("urn:pulumi:") else ""


_ENV_ALIASES: Final = {"production": "prod", "prd": "prod", "stage": "staging", "stg": "staging",
                       "development": "dev"}


def environment_from_name(name: str) -> str | None:
    """Map a tag value or stack name (``prod``, ``gcp-prod``, ``azure_staging``) to an environment."""
    tokens = [t for t in re.split(r"[-_./\s]+", name.strip().lower()) if t]
    for token in reversed(tokens):
        token = _ENV_ALIASES.get(token, token)
        if token in ENVIRONMENTS:
            return token
    return None


def resource_tags(props: Mapping[str, Any]) -> dict[str, Any]:
    """Tags or labels declared on a resource (AWS/Azure ``tags``, GCP ``labels``/``resourceLabels``/``userLabels``,
    Docker's ``labels`` list of ``{label, value}``)."""
    merged: dict[str, Any] = {}
    for key in ("labels", "resourceLabels", "userLabels", "tags"):
        value = props.get(key)
        if isinstance(value, Mapping):
            merged.update(value)
        elif isinstance(value, list):
            merged.update({item["label"]: item.get("value") for item in value
                           if isinstance(item, Mapping) and isinstance(item.get("label"), str)})
    return merged


def environment_of(tags: Mapping[str, Any], urn: str) -> str:
    """The environment a resource belongs to: its ``environment`` tag, else its stack name, else dev."""
    tagged = tags.get("environment")
    if isinstance(tagged, str):
        env = environment_from_name(tagged)
        if env:
            return env
    return environment_from_name(stack_of(urn)) or "dev"
