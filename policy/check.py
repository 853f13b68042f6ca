"""Run the policy pack offline over a plan: ``python -m policy.check PLAN.json [--config FILE]``.

The plan (from ``python -m infra plan STACK --format json``) is turned into the same gRPC requests the
Pulumi engine sends to a policy pack (``AnalyzeRequest`` per custom resource, one ``AnalyzeStackRequest``
with every resource), and they are handed to the policy SDK's own analyzer servicer, so the policies run
exactly as under ``pulumi preview --policy-pack policy``: same property deserialization (secrets
unwrapped, unknown values raising inside the SDK's proxy and reported as "can't run policy during
preview"), same enforcement-level and config handling. Only the transport (gRPC) is skipped.

Differences from the engine: stack policies see the plan's inputs (the engine passes outputs, which
during preview are the inputs plus unknowns).

Exit codes: 0 no mandatory violation, 1 at least one mandatory violation, 2 unreadable plan or config.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy.model import Rule, config_defaults
from policy.policies import PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION, POLICIES, RULES

PLAN_SECRET = "[secret]"
PLAN_UNKNOWN = "[unknown]"

_LEVELS = {level.value: level for level in EnforcementLevel}
_PROTO_LEVELS = {
    EnforcementLevel.ADVISORY: proto.ADVISORY,
    EnforcementLevel.MANDATORY: proto.MANDATORY,
    EnforcementLevel.REMEDIATE: proto.REMEDIATE,
    EnforcementLevel.DISABLED: proto.DISABLED,
}
_LEVEL_NAMES = {v: k.value for k, v in _PROTO_LEVELS.items()}


class InputError(Exception):
    """The plan or the config file cannot be used (exit code 2)."""


@dataclass(frozen=True, order=True)
class Violation:
    """One reported violation, as the CLI would print it."""

    level: str
    policy: str
    urn: str
    message: str


def load_json(path: Path, what: str) -> Any:
    """Read a JSON file or raise :class:`InputError` with a one-line reason."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise InputError(f"{what} {path} is not valid JSON: {exc}") from exc


def validate_plan(plan: Any) -> Mapping[str, Any]:
    """Check the plan's shape (version 1, a list of resources with urn and type)."""
    if not isinstance(plan, Mapping) or not isinstance(plan.get("resources"), list):
        raise InputError("plan has no 'resources' list (expected the JSON of `python -m infra plan`)")
    if plan.get("version") != 1:
        raise InputError(f"unsupported plan version {plan.get('version')!r} (expected 1)")
    for i, res in enumerate(plan["resources"]):
        if not isinstance(res, Mapping) or not isinstance(res.get("urn"), str) or "type" not in res:
            raise InputError(f"plan resource #{i} has no urn/type")
    return plan


def to_wire(value: Any) -> Any:
    """Encode plan values the way the engine marshals them (secret signature, unknown sentinel)."""
    if value == PLAN_SECRET:
        return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": PLAN_SECRET}
    if value == PLAN_UNKNOWN:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    return value


def _struct(values: Mapping[str, Any] | None) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(to_wire(dict(values or {})))
    return struct


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration_seconds(text: Any) -> float:
    """Seconds in a Go-style duration string ("60m", "1h30m"); 0 when absent."""
    if not isinstance(text, str):
        return 0.0
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(text))


def _options(res: Mapping[str, Any]) -> proto.AnalyzerResourceOptions:
    timeouts = res.get("customTimeouts")
    opts = proto.AnalyzerResourceOptions(
        protect=bool(res.get("protect")),
        ignoreChanges=list(res.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(res.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in res,
        additionalSecretOutputs=list(res.get("additionalSecretOutputs") or []),
        aliases=[a if isinstance(a, str) else json.dumps(a, sort_keys=True) for a in res.get("aliases") or []],
        parent=res.get("parent") or "",
    )
    if isinstance(timeouts, Mapping):
        opts.customTimeouts.CopyFrom(proto.AnalyzerResourceOptions.CustomTimeouts(
            create=duration_seconds(timeouts.get("create")), update=duration_seconds(timeouts.get("update")),
            delete=duration_seconds(timeouts.get("delete"))))
    return opts


def _provider(res: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]
              ) -> proto.AnalyzerProviderResource | None:
    ref = res.get("provider")
    if not isinstance(ref, str):
        return None
    provider = by_urn.get(ref.rsplit("::", 1)[0]) or by_urn.get(ref)
    if provider is None:
        return None
    return proto.AnalyzerProviderResource(type=provider["type"], properties=_struct(provider.get("inputs")),
                                          urn=provider["urn"], name=provider.get("name", ""))


def _is_analyzed(res: Mapping[str, Any]) -> bool:
    """The engine analyzes custom resources one by one; not components, providers or the stack."""
    return bool(res.get("custom")) and not str(res["type"]).startswith("pulumi:")


def analyze_requests(plan: Mapping[str, Any]) -> list[proto.AnalyzeRequest]:
    """One ``AnalyzeRequest`` per custom resource of the plan."""
    by_urn = {r["urn"]: r for r in plan["resources"]}
    requests = []
    for res in plan["resources"]:
        if not _is_analyzed(res):
            continue
        request = proto.AnalyzeRequest(type=res["type"], properties=_struct(res.get("inputs")), urn=res["urn"],
                                       name=res.get("name", ""), options=_options(res))
        provider = _provider(res, by_urn)
        if provider is not None:
            request.provider.CopyFrom(provider)
        requests.append(request)
    return requests


def analyze_stack_request(plan: Mapping[str, Any]) -> proto.AnalyzeStackRequest:
    """The ``AnalyzeStackRequest`` with every resource of the plan (parents and dependencies kept)."""
    by_urn = {r["urn"]: r for r in plan["resources"]}
    resources = []
    for res in plan["resources"]:
        item = proto.AnalyzerResource(type=res["type"], properties=_struct(res.get("inputs")), urn=res["urn"],
                                      name=res.get("name", ""), options=_options(res),
                                      parent=res.get("parent") or "",
                                      dependencies=list(res.get("dependencies") or []))
        for prop, urns in (res.get("propertyDependencies") or {}).items():
            item.propertyDependencies[prop].urns.extend(urns)
        provider = _provider(res, by_urn)
        if provider is not None:
            item.provider.CopyFrom(provider)
        resources.append(item)
    return proto.AnalyzeStackRequest(resources=resources)


def _level(value: Any, where: str) -> EnforcementLevel:
    if isinstance(value, EnforcementLevel):
        return value
    if value not in _LEVELS:
        raise InputError(f"config {where}: enforcement level {value!r} is not one of {', '.join(_LEVELS)}")
    return _LEVELS[value]


def policy_config(user: Mapping[str, Any] | None, rules: Sequence[Rule] = RULES
                  ) -> dict[str, tuple[EnforcementLevel, dict[str, Any]]]:
    """Merge schema defaults with a ``--policy-pack-config``-style document, per policy.

    The document maps a policy name (or ``all``) to an enforcement level string, or to an object with
    an optional ``enforcementLevel`` and the policy's config properties, as the Pulumi CLI accepts.
    """
    user = dict(user or {})
    known = {rule.name: rule for rule in rules}
    unknown = sorted(set(user) - set(known) - {"all"})
    if unknown:
        raise InputError(f"config names unknown policies: {', '.join(unknown)}")
    default_level = _level(user["all"], "all") if "all" in user else None
    merged = {}
    for name, rule in known.items():
        level = default_level or rule.level
        props = config_defaults(rule)
        entry = user.get(name)
        if isinstance(entry, str):
            level = _level(entry, name)
        elif isinstance(entry, Mapping):
            if "enforcementLevel" in entry:
                level = _level(entry["enforcementLevel"], f"{name}.enforcementLevel")
            allowed = set(rule.config_schema or {})
            extra = sorted(set(entry) - allowed - {"enforcementLevel"})
            if extra:
                raise InputError(f"config {name}: unknown properties {', '.join(extra)}")
            props.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        elif entry is not None:
            raise InputError(f"config {name}: expected a level or an object, got {entry!r}")
        merged[name] = (level, props)
    return merged


def run_pack(plan: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> list[Violation]:
    """Run every policy of the pack over a plan; return the violations, sorted."""
    validate_plan(plan)
    servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, POLICIES, PACK_ENFORCEMENT_LEVEL)
    configure = proto.ConfigureAnalyzerRequest()
    for name, (level, props) in policy_config(config).items():
        configure.policyConfig[name].CopyFrom(proto.PolicyConfig(enforcementLevel=_PROTO_LEVELS[level],
                                                                 properties=_struct(props)))
    servicer.Configure(configure, None)
    diagnostics = []
    for request in analyze_requests(plan):
        for diag in servicer.Analyze(request, None).diagnostics:
            diagnostics.append((diag, diag.urn or request.urn))
    for diag in servicer.AnalyzeStack(analyze_stack_request(plan), None).diagnostics:
        diagnostics.append((diag, diag.urn))
    found = [Violation(_LEVEL_NAMES.get(d.enforcementLevel, "advisory"), d.policyName, urn, d.message)
             for d, urn in diagnostics]
    return sorted(found, key=lambda v: (v.level != "mandatory", v.policy, v.urn, v.message))


def format_text(violations: Sequence[Violation], plan_name: str) -> str:
    """Human-readable report: one block per violation, then a summary line."""
    lines = []
    for v in violations:
        lines.append(f"[{v.level}] {v.policy}  {v.urn or '(stack)'}")
        lines.extend(f"    {line}" for line in v.message.splitlines())
    mandatory = sum(v.level == "mandatory" for v in violations)
    lines.append(f"{plan_name}: {mandatory} mandatory, {len(violations) - mandatory} advisory violation(s)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m policy.check", description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path, help="plan JSON from `python -m infra plan STACK --format json`")
    parser.add_argument("--config", type=Path, help="policy config JSON (same format as --policy-pack-config)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    try:
        plan = validate_plan(load_json(args.plan, "plan"))
        config = load_json(args.config, "config") if args.config else None
        if config is not None and not isinstance(config, Mapping):
            raise InputError(f"config {args.config} must be a JSON object")
        violations = run_pack(plan, config)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([asdict(v) for v in violations], indent=2, sort_keys=True))
    else:
        print(format_text(violations, str(args.plan)))
    return 1 if any(v.level == "mandatory" for v in violations) else 0


if __name__ == "__main__":
    sys.exit(main())
