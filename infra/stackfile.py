"""Read `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the Pulumi CLI does, without the CLI.

The result is the flat config map the engine would hand the program (scalars as strings, objects as
JSON), the project's declared defaults applied, and `secure:` values replaced by a placeholder and
listed as secret keys. Broken files become `ConfigError`s with the file and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.config import NAMESPACE
from infra.config_errors import ConfigError, Problem, did_you_mean
from infra.config_sections import SECRET_PLACEHOLDER

PROJECT_ROOT = Path(__file__).resolve().parent.parent
__all__ = ["SECRET_PLACEHOLDER", "StackConfig", "read_project", "read_stack_config", "stack_names"]
_STACK_FILE_KEYS = ("config", "secretsprovider", "encryptionsalt", "encryptedkey", "environment")


@dataclass(frozen=True)
class StackConfig:
    """One stack's config as the engine would see it."""

    stack: str
    source: str
    """The file it came from, relative to the project root when possible (used in messages)."""
    values: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)


def stack_names(root: Path = PROJECT_ROOT) -> list[str]:
    """Stacks that have a `Pulumi.<stack>.yaml` in the project root, sorted."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def read_project(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Parsed `Pulumi.yaml`."""
    project = _read_yaml(root / "Pulumi.yaml", "Pulumi.yaml")
    if not isinstance(project, dict) or "name" not in project:
        raise ConfigError("Pulumi.yaml", [Problem("name", "Pulumi.yaml must be a mapping with a project name")])
    return project


def read_stack_config(stack: str, config_file: Path | None = None, root: Path = PROJECT_ROOT,
                      project: dict[str, Any] | None = None) -> StackConfig:
    """Load `Pulumi.<stack>.yaml` (or `config_file`) with the project's config defaults applied.

    `project` is the parsed Pulumi.yaml when the caller has it already.
    """
    path = config_file or root / f"Pulumi.{stack}.yaml"
    source = _display(path, root)
    if not path.is_file():
        known = stack_names(root)
        hint = did_you_mean(stack, known) or (f"; known stacks: {', '.join(known)}" if known else "")
        raise ConfigError(source, [Problem("", f"stack file not found{hint}")])
    document = _read_yaml(path, source) or {}
    if not isinstance(document, dict):
        raise ConfigError(source, [Problem("", "expected a mapping with a `config:` key at the top level")])
    problems = [
        Problem(key, f"unknown top-level key{did_you_mean(key, _STACK_FILE_KEYS)}")
        for key in document if key not in _STACK_FILE_KEYS
    ]
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(source, [*problems, Problem("config", "expected a mapping of `namespace:key: value`")])

    values: dict[str, str] = {}
    secrets: list[str] = []
    for key, raw in config.items():
        key = str(key)
        if ":" not in key:
            problems.append(Problem(key, f"config keys are namespaced; did you mean '{NAMESPACE}:{key}'?", raw))
            continue
        value, secret = _engine_value(raw)
        values[key] = value
        if secret:
            secrets.append(key)
    if problems:
        raise ConfigError(source, problems)

    for key, declared in ((project or read_project(root)).get("config") or {}).items():
        full = key if ":" in key else f"{NAMESPACE}:{key}"
        if full not in values:
            default = declared.get("default") if isinstance(declared, dict) else declared
            if default is not None:
                values[full] = _engine_value(default)[0]
    return StackConfig(stack=stack, source=source, values=dict(sorted(values.items())), secret_keys=sorted(secrets))


# libyaml's loader when PyYAML was built with it (the wheels are): same results, several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, source: str) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(source, [Problem("", f"invalid YAML{where}: {reason}")]) from None
    except OSError as exc:
        raise ConfigError(source, [Problem("", f"cannot read file: {exc.strerror}")]) from None


def _engine_value(raw: Any) -> tuple[str, bool]:
    """The string the engine passes for a stack-file value, and whether it is a secret."""
    if isinstance(raw, dict) and set(raw) == {"secure"}:
        return SECRET_PLACEHOLDER, True
    if isinstance(raw, dict | list):
        cleaned, secret = _strip_secrets(raw)
        return json.dumps(cleaned, sort_keys=True, separators=(",", ":")), secret
    if isinstance(raw, bool):
        return ("true" if raw else "false"), False
    if raw is None:
        return "", False
    return str(raw), False


def _strip_secrets(raw: Any) -> tuple[Any, bool]:
    if isinstance(raw, dict):
        if set(raw) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        pairs = {k: _strip_secrets(v) for k, v in raw.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(raw, list):
        items = [_strip_secrets(v) for v in raw]
        return [v for v, _ in items], any(s for _, s in items)
    return raw, False


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
