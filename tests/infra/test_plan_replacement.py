"""The replacement table: one line per planned resource type, each path real, each line with its evidence."""

from __future__ import annotations

import json

import pytest

from infra.plan.replacement import RULES, rule
from infra.plan.sdk import accepts_path
from infra.stackfile import PROJECT_ROOT

PLANS = sorted((PROJECT_ROOT / "plans").glob("*.json"))


def planned_types() -> set[str]:
    return {r["type"] for path in PLANS for r in json.loads(path.read_text(encoding="utf-8"))["resources"]
            if r["custom"]}


def test_every_planned_resource_type_has_a_replacement_rule():
    missing = sorted(planned_types() - RULES.keys())
    assert not missing, (
        f"plans/*.json declare {missing} but infra/plan/replacement.py has no line for them: add one per type "
        "with the properties its provider forces new (ForceNew / RequiresReplace / Replaces) and the source URL, "
        "or `python -m infra diff` cannot tell their replacements from updates")


@pytest.mark.parametrize("type_", sorted(RULES))
def test_rule_paths_are_inputs_the_provider_sdk_accepts(type_):
    entry = RULES[type_]
    paths = [p for p in (*entry.force_new, *entry.keep, *entry.removed, entry.name) if p and p != "*"]
    if not type_.startswith("pulumi-python:dynamic"):  # a dynamic resource's inputs are its own provider's
        assert [p for p in paths if not accepts_path(type_, p)] == []
    assert entry.source.startswith("https://github.com/"), "each line names the provider source it was read from"


def test_rule_syntax():
    parsed = rule("@name * !tags -encryptionConfig a.b", "src")
    assert (parsed.name, parsed.force_new, parsed.keep, parsed.removed) == ("name", ("*", "a.b"), ("tags",),
                                                                            ("encryptionConfig",))


def test_everything_but_kept_inputs_replaces():
    model = RULES["aws:sagemaker/model:Model"]
    assert model.reasons({"name": "m", "tags": {"a": "1"}}, {"name": "m", "tags": {"a": "2"}}) == []
    assert model.reasons({"name": "m", "image": "a"}, {"name": "m", "image": "b"}) == ["image"]


def test_eks_envelope_encryption_replaces_only_when_removed():
    """Envelope encryption cannot be disabled once enabled (terraform-provider-aws eks/cluster.go,
    CustomizeDiff ForceNewIfChange on encryption_config)."""
    cluster = RULES["aws:eks/cluster:Cluster"]
    encrypted = {"name": "c", "encryptionConfig": {"resources": ["secrets"]}}
    assert cluster.reasons({"name": "c"}, encrypted) == []
    assert cluster.reasons(encrypted, {"name": "c"}) == ["encryptionConfig"]


def test_a_launch_template_version_updates_a_node_group_but_another_template_replaces_it():
    """terraform-provider-aws eks/node_group.go: launch_template id/name ForceNew, version updatable."""
    config = RULES["aws:eks/nodeGroup:NodeGroup"]
    assert config.reasons({"launchTemplate": {"id": "lt-1", "version": "1"}},
                          {"launchTemplate": {"id": "lt-1", "version": "2"}}) == []
    other = config.reasons({"launchTemplate": {"id": "lt-1"}}, {"launchTemplate": {"id": "lt-2"}})
    assert other == ["launchTemplate.id"]


def test_paths_reach_through_lists():
    from infra.plan.paths import ABSENT, pick

    value = {"variants": [{"type": "a"}, {"type": "b"}], "tags": {"x": "1"}}
    assert pick(value, "variants.type") == ["a", "b"]
    assert pick(value, "variants[1].type") == "b"
    assert pick(value, "tags.*") == {"x": "1"} and pick(value, "nope.deeper") is ABSENT
