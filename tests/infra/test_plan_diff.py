"""`python -m infra diff` as a reviewer reads it: old -> new values, replacements told from updates, two stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from infra.plan.diff import IGNORED, REPLACE, UPDATE, Change, PlanDiff, diff_plans
from infra.plan.diff_report import MAX_VALUE, render_diff, show
from infra.plan.engine import Plan, plan_stack
from infra.plan.paths import ABSENT
from infra.stackfile import PROJECT_ROOT

from .test_cli import run

_EDITED: dict[str, Plan] = {}


def edited_dev(tmp_path_factory: pytest.TempPathFactory, *edits: tuple[str, str]) -> Plan:
    """The dev stack planned from a copy of Pulumi.dev.yaml with `edits` (old text, new text) applied."""
    if edits not in _EDITED:
        text = (PROJECT_ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        path = tmp_path_factory.mktemp("stack") / "Pulumi.dev.yaml"
        path.write_text(text, encoding="utf-8")
        _EDITED[edits] = plan_stack("dev", path)
    return _EDITED[edits]


GPU_SLOT = (("maxNodes: 2", "maxNodes: 4"), ("instanceType: ml.m5.large", "instanceType: ml.g5.xlarge"))


@pytest.fixture
def gpu_slot_diff(stack_plan, tmp_path_factory) -> PlanDiff:
    """dev with 4 GPU nodes at most and the blue slot moved to ml.g5.xlarge."""
    return diff_plans(stack_plan("dev"), edited_dev(tmp_path_factory, *GPU_SLOT))


def changed(diff: PlanDiff, name: str) -> Change:
    return next(c for c in diff.changed if c.name == name)


def test_changed_values_show_old_and_new(gpu_slot_diff):
    text = render_diff(gpu_slot_diff)
    assert "~ aws:eks/nodeGroup:NodeGroup gpu-gpu\n      inputs.scalingConfig.maxSize: 2 -> 4\n" in text
    markdown = render_diff(gpu_slot_diff, markdown=True)
    assert "- `~` `aws:eks/nodeGroup:NodeGroup` gpu-gpu\n  - `inputs.scalingConfig.maxSize`: `2` -> `4`\n" in markdown


def test_a_property_the_provider_forces_new_is_a_replacement_counted_apart(gpu_slot_diff):
    """SageMaker has no UpdateEndpointConfig: every input but tags is ForceNew (terraform-provider-aws
    internal/service/sagemaker/endpoint_configuration.go); the endpoint itself updates to the new config."""
    config = changed(gpu_slot_diff, "fraud-detector-endpoint-config")
    assert config.action == REPLACE
    assert "productionVariants" in config.replace_reasons and "name (physical name)" in config.replace_reasons
    forcing = {v.path for v in config.values if v.forces_replacement}
    assert "inputs.productionVariants[0].instanceType" in forcing
    assert changed(gpu_slot_diff, "fraud-detector-endpoint-endpoint").action == UPDATE
    assert changed(gpu_slot_diff, "gpu-gpu").action == UPDATE
    text = render_diff(gpu_slot_diff)
    # 9: also the role (its volume-key grant goes: ml.g5 has NVMe storage) and the 4 rollback alarms (they
    # watch the new configuration's fleet: EndpointConfigName).
    assert text.startswith("Stack dev: 1 to add, 9 to change, 1 to replace, 0 to remove\n")
    assert "+- aws:sagemaker/endpointConfiguration:EndpointConfiguration fraud-detector-endpoint-config [replace: " \
        in text
    assert '"ml.m5.large" -> "ml.g5.xlarge" (forces replacement)' in text


def test_an_explicit_physical_name_makes_the_replacement_delete_first(gpu_slot_diff):
    """pulumi-terraform-bridge (nameRequiresDeleteBeforeReplace): a replaced resource whose auto-named
    property was set by the program is deleted before its replacement is created."""
    config = changed(gpu_slot_diff, "fraud-detector-endpoint-config")
    assert config.delete_first == "physical name set (name)"
    assert "delete first: physical name set (name)]" in render_diff(gpu_slot_diff)


def test_tag_changes_update_in_place_everywhere(stack_plan, tmp_path_factory):
    """Tags are never ForceNew, not even on the SageMaker types that replace on everything else."""
    diff = diff_plans(stack_plan("dev"), edited_dev(tmp_path_factory, ("costCenter: ml-1234", "costCenter: ml-9")))
    assert not diff.of_action(REPLACE) and not diff.added and not diff.removed
    assert {"aws:sagemaker/model:Model", "aws:ec2/flowLog:FlowLog"} <= {c.type for c in diff.of_action(UPDATE)}
    assert 'inputs.tags.cost-center: "ml-1234" -> "ml-9"' in render_diff(diff)


def test_json_documents_in_strings_diff_by_their_own_paths(plan_component):
    def program(action: str) -> None:
        statement = {"Effect": "Allow", "Action": action, "Principal": {"Service": "x"}}
        aws.iam.Role("r", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))

    old, new = (plan_component(lambda a=a: program(a)) for a in ("sts:AssumeRole", "sts:TagSession"))
    diff = diff_plans(old, new)
    assert [(v.path, v.old, v.new) for v in changed(diff, "r").values] == [
        ("inputs.assumeRolePolicy$.Statement[0].Action", "sts:AssumeRole", "sts:TagSession")]


def test_long_values_are_cut_the_same_way_every_time():
    value = {"key": "v" * 200}
    assert show(value) == show(dict(value)) == '{"key": "' + "v" * 51 + '… (211 chars)'
    assert len(show(value)) < MAX_VALUE
    assert show(ABSENT) == "(absent)" and show("[secret]") == "[secret]" and show(4) == "4"


def test_secrets_stay_masked(plan_component):
    def program(value: pulumi.Input[str]) -> None:
        aws.s3.Bucket("b", tags={"token": value})

    plain = plan_component(lambda: program("visible"))
    secret = plan_component(lambda: program(pulumi.Output.secret("hunter2")))
    other = plan_component(lambda: program(pulumi.Output.secret("hunter3")))
    text = render_diff(diff_plans(plain, secret)) + render_diff(diff_plans(secret, other), markdown=True)
    assert 'inputs.tags.token: "visible" -> [secret]' in text
    assert "### Stack dev: no changes" in text, "a secret's new value is not in the plan, so it cannot show"
    assert "hunter" not in text


class _Names(pulumi.ComponentResource):
    def __init__(self, role: str, tags: dict[str, str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:test:Names", "names", None, opts)
        self.role = aws.iam.Role("names-role", name=role, assume_role_policy="{}", tags=tags,
                                 opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=self)))
        self.register_outputs({})


def _role_diff(plan_component, before: dict, after: dict, opts: pulumi.ResourceOptions | None = None) -> Change:
    old = plan_component(lambda: _Names(**before, opts=opts))
    new = plan_component(lambda: _Names(**after, opts=opts))
    return changed(diff_plans(old, new), "names-role")


def test_a_changed_physical_name_replaces(plan_component):
    role = _role_diff(plan_component, {"role": "a", "tags": {}}, {"role": "b", "tags": {}})
    assert role.action == REPLACE and role.replace_reasons == ("name (physical name)",)


def test_ignore_changes_keeps_the_old_value_so_nothing_is_replaced(plan_component):
    """The engine sends the old value for an ignored path, so a forced-new property under ignoreChanges
    neither replaces nor updates (Pulumi docs: resource options, ignoreChanges)."""
    role = _role_diff(plan_component, {"role": "a", "tags": {}}, {"role": "b", "tags": {}},
                      pulumi.ResourceOptions(ignore_changes=["name"]))
    assert role.action == IGNORED and role.values[0].ignored
    diff_text = render_diff(PlanDiff("dev", "dev", changed=[role]))
    assert "inputs.name: \"a\" -> \"b\" (ignored: ignoreChanges)" in diff_text
    assert "1 with only ignoreChanges paths changed" in diff_text


def test_replace_on_changes_and_delete_before_replace_options_are_respected(plan_component):
    opts = pulumi.ResourceOptions(replace_on_changes=["tags"], delete_before_replace=True)
    role = _role_diff(plan_component, {"role": "a", "tags": {"team": "x"}}, {"role": "a", "tags": {"team": "y"}}, opts)
    assert role.action == REPLACE and role.replace_reasons == ("tags (replaceOnChanges)",)
    assert role.delete_first == "deleteBeforeReplace option"


def test_a_type_without_a_replacement_rule_says_so(plan_component):
    old, new = (plan_component(lambda v=v: aws.sqs.Queue("p", delay_seconds=v)) for v in (0, 5))
    parameter = changed(diff_plans(old, new), "p")
    assert parameter.unknown_type and parameter.action == UPDATE
    assert "[replacement unknown: add this type to infra/plan/replacement.py]" in render_diff(diff_plans(old, new))


def test_dev_and_prod_are_matched_by_logical_name_not_urn(stack_plan):
    dev, prod = stack_plan("dev"), stack_plan("prod")
    diff = diff_plans(dev, prod)
    assert diff.across_stacks
    assert len(diff.added) == len(prod.resources) - len(dev.resources) + len(diff.removed) < 30
    assert "network-nat-1" in {r["name"] for r in diff.added}
    assert "fraud-detector-endpoint-green-model" not in {r["name"] for r in diff.removed + diff.added}
    bucket = changed(diff, "artifacts-bucket")
    assert [(v.path, v.old, v.new) for v in bucket.values] == [("protect", False, True),
                                                               ("retainOnDelete", False, True)]
    assert not diff.of_action(REPLACE), "a second stack replaces nothing: it is a different set of resources"
    text = render_diff(diff)
    assert text.startswith("Stacks dev -> prod (matched by type, name and parents): ")
    assert '"mlops-dev-alerts"' not in text and f"{diff.stack_name_only} values that differ only" in text
    assert 'inputs.name: "mlops-dev-alerts" -> "mlops-prod-alerts"' in render_diff(diff_plans(dev, prod, show_all=True))


def test_cli_compares_two_stacks_in_markdown():
    result = run("diff", "plans/dev.json", "plans/prod.json", "--format", "markdown", "--expect-no-changes")
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("### Stacks dev -> prod (matched by type, name and parents): ")
    assert "- `~` `aws:s3/bucket:Bucket` artifacts-bucket\n  - `protect`: `false` -> `true`\n" in result.stdout


def test_same_stack_plans_by_urn_have_no_changes(stack_plan):
    dev = stack_plan("dev")
    diff = diff_plans(dev, Plan.from_dict(json.loads(Path(PROJECT_ROOT / "plans" / "dev.json").read_text())))
    assert diff.empty and render_diff(diff) == "Stack dev: no changes\n"
