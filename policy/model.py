"""How rules are written and how they are wrapped into CrossGuard policies.

A rule is a small pure function over a :class:`Resource` (plain props, environment, config) that yields
violation messages. A :class:`ResourceRule` maps resource type tokens to such functions; a
:class:`StackRule` sees every resource of the stack at once. ``to_policy`` turns either into the
``pulumi_policy`` object the pack serves; that wrapper is the only code that touches the SDK's argument
objects, so the rules stay unit-testable without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.values import environment_of, get, plain, resource_tags


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: plain inputs plus what the rule needs to know around them."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    environment: str = "dev"
    protect: bool = False
    config: Mapping[str, Any] = field(default_factory=dict)
    provider_props: Mapping[str, Any] = field(default_factory=dict)
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def tags(self) -> dict[str, Any]:
        """Effective tags: the AWS provider's ``defaultTags`` overlaid with the resource's own tags."""
        merged: dict[str, Any] = {}
        default_tags = get(self.provider_props, "defaultTags", "tags")
        if isinstance(default_tags, Mapping):
            merged.update(default_tags)
        merged.update(resource_tags(self.props))
        return merged


Check = Callable[[Resource], Iterable[str]]
"""A resource rule: yields one message per violation, nothing when the resource complies."""

StackCheck = Callable[[list[Resource], Mapping[str, Any]], Iterable[tuple[str, str]]]
"""A stack rule: given all resources and the policy config, yields ``(urn, message)`` per violation."""


@dataclass(frozen=True)
class ResourceRule:
    """A resource-level policy: checks per type token, plus an optional check for any other type."""

    name: str
    description: str
    checks: Mapping[str, Check]
    level: EnforcementLevel = EnforcementLevel.MANDATORY
    fallback: Check | None = None
    config_schema: Mapping[str, dict[str, Any]] | None = None
    remediation: str | None = None

    def check_for(self, resource_type: str) -> Check | None:
        """The check that applies to a resource type, or None."""
        return self.checks.get(resource_type, self.fallback)


@dataclass(frozen=True)
class StackRule:
    """A stack-level policy: sees every resource, e.g. "every bucket has a versioning resource"."""

    name: str
    description: str
    check: StackCheck
    level: EnforcementLevel = EnforcementLevel.MANDATORY
    config_schema: Mapping[str, dict[str, Any]] | None = None
    remediation: str | None = None


Rule = ResourceRule | StackRule


def config_defaults(rule: Rule) -> dict[str, Any]:
    """The ``default`` of every property in the rule's config schema (what the engine fills in)."""
    return {key: spec["default"] for key, spec in (rule.config_schema or {}).items() if "default" in spec}


def _config(rule: Rule, given: Mapping[str, Any]) -> dict[str, Any]:
    merged = config_defaults(rule)
    merged.update({k: v for k, v in plain(given).items() if k != "enforcementLevel"})
    return merged


def resource_from_args(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Resource:
    """Build a :class:`Resource` from the SDK's resource validation arguments."""
    props = plain(args.props)
    provider_props = plain(args.provider.props) if args.provider is not None else {}
    resource = Resource(args.resource_type, args.name, args.urn, props, protect=bool(args.opts.protect),
                        config=config, provider_props=provider_props, parent=args.opts.parent)
    return _with_environment(resource)


def resource_from_policy_resource(res: PolicyResource, config: Mapping[str, Any]) -> Resource:
    """Build a :class:`Resource` from one entry of the SDK's stack validation arguments."""
    props = plain(res.props)
    provider_props = plain(res.provider.props) if res.provider is not None else {}
    prop_deps = {k: tuple(d.urn for d in v) for k, v in (res.property_dependencies or {}).items()}
    resource = Resource(res.resource_type, res.name, res.urn, props, protect=bool(res.opts.protect),
                        config=config, provider_props=provider_props,
                        parent=res.parent.urn if res.parent is not None else res.opts.parent,
                        dependencies=tuple(d.urn for d in res.dependencies),
                        property_dependencies=prop_deps)
    return _with_environment(resource)


def _with_environment(resource: Resource) -> Resource:
    return replace(resource, environment=environment_of(resource.tags, resource.urn))


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties=dict(rule.config_schema)) if rule.config_schema else None


def to_policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    """Wrap a rule into the CrossGuard policy object (thin: convert args, run the rule, report)."""
    if isinstance(rule, ResourceRule):

        def validate_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
            check = rule.check_for(args.resource_type)
            if check is None:
                return
            resource = resource_from_args(args, _config(rule, args.get_config()))
            for message in check(resource):
                report_violation(message, None)

        return ResourceValidationPolicy(name=rule.name, description=rule.description,
                                        validate=validate_resource, enforcement_level=rule.level,
                                        config_schema=_schema(rule), remediation_steps=rule.remediation)

    def validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = _config(rule, args.get_config())
        resources = [resource_from_policy_resource(r, config) for r in args.resources]
        for urn, message in rule.check(resources, config):
            report_violation(message, urn)

    return StackValidationPolicy(name=rule.name, description=rule.description, validate=validate_stack,
                                 enforcement_level=rule.level, config_schema=_schema(rule),
                                 remediation_steps=rule.remediation)
