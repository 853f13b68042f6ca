"""The offline plan records what the engine would receive, deterministically and in isolation."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from infra.plan.diff import diff_plans
from infra.plan.diff_report import render_diff
from infra.plan.engine import Plan
from infra.plan.fakes import UnknownInvokeError
from infra.plan.render import render_markdown, render_tree


class Store(pulumi.ComponentResource):
    def __init__(self, name: str, protect: bool = False, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:test:Store", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", tags={"owner": "ml"}, opts=pulumi.ResourceOptions(
            parent=self, protect=protect, retain_on_delete=protect,
            custom_timeouts=pulumi.CustomTimeouts(create="30m"), ignore_changes=["tags"]))
        aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"), opts=child)
        aws.ssm.Parameter(f"{name}-token", type="SecureString", value=pulumi.Output.secret("hunter2"), opts=child)
        self.register_outputs({"bucket": self.bucket.bucket})


def program(protect: bool = False) -> None:
    store = Store("art", protect=protect)
    pulumi.export("bucket", store.bucket.bucket)
    pulumi.export("bucketArn", store.bucket.arn)
    pulumi.export("account", aws.get_caller_identity_output().account_id)
    pulumi.export("token", pulumi.Output.secret("s3cr3t"))
    pulumi.export("policy", aws.s3.Bucket("unused-elsewhere", opts=pulumi.ResourceOptions()).hosted_zone_id)


@pytest.fixture
def plan(plan_component) -> Plan:
    return plan_component(program)


def test_records_every_registration_with_type_name_and_parent(plan):
    store = plan.named("art")
    assert store["type"] == "mlops:test:Store" and store["custom"] is False
    assert {r["name"] for r in plan.children(store["urn"])} == {"art-bucket", "art-versioning", "art-token"}
    root = plan.of_type("pulumi:pulumi:Stack")[0]
    assert store["parent"] == root["urn"] and root["parent"] is None


def test_inputs_use_provider_names_and_resolved_outputs(plan):
    versioning = plan.named("art-versioning")
    bucket = plan.named("art-bucket")
    assert versioning["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    assert versioning["inputs"]["bucket"] == "art-bucket-" + versioning["inputs"]["bucket"].split("-")[-1]
    assert bucket["urn"] in versioning["dependencies"]


def test_secrets_are_marked_not_revealed(plan):
    assert plan.named("art-token")["inputs"]["value"] == "[secret]"
    assert plan.outputs["token"] == "[secret]"
    assert "hunter2" not in plan.to_json() and "s3cr3t" not in plan.to_json()


def test_values_no_cloud_computed_yet_are_unknown(plan):
    assert plan.outputs["policy"] == "[unknown]"


def test_computed_attributes_are_realistic(plan):
    assert plan.outputs["account"] == "123456789012"
    assert plan.outputs["bucketArn"] == f"arn:aws:s3:::{plan.outputs['bucket']}"


def test_options_are_recorded(plan_component):
    bucket = plan_component(lambda: program(protect=True)).named("art-bucket")
    assert bucket["protect"] is True and bucket["retainOnDelete"] is True
    assert bucket["customTimeouts"] == {"create": "30m"}
    assert bucket["ignoreChanges"] == ["tags"]


def test_same_program_gives_byte_identical_json(plan_component):
    assert plan_component(program).to_json() == plan_component(program).to_json()


def test_runs_are_isolated(plan_component):
    first = plan_component(program)
    second = plan_component(lambda: pulumi.export("only", 1))
    assert second.outputs == {"only": 1}
    assert [r["type"] for r in second.resources] == ["pulumi:pulumi:Stack"]
    assert len(first.resources) > 1


def test_json_is_sorted_by_urn_with_sorted_keys(plan):
    doc = json.loads(plan.to_json())
    urns = [r["urn"] for r in doc["resources"]]
    assert urns == sorted(urns) and doc["version"] == 1
    assert list(doc["resources"][0]) == sorted(doc["resources"][0])


def test_an_invoke_without_a_fake_fails_loudly(plan_component):
    with pytest.raises(UnknownInvokeError, match=r"add one to infra/plan/fakes/aws\.py"):
        plan_component(lambda: aws.ec2.get_ami(most_recent=True, owners=["amazon"]))


def test_tree_shows_hierarchy_protection_and_counts(plan_component):
    tree = render_tree(plan_component(lambda: program(protect=True)))
    assert " +   pulumi:pulumi:Stack" in tree
    assert "├─ aws:s3/bucket:Bucket" in tree and "art-bucket [protect] [retain]" in tree
    assert "Resources by type:" in tree and "2  aws:s3/bucket:Bucket" in tree


def test_markdown_has_counts_tree_and_outputs(plan):
    text = render_markdown(plan)
    assert "| `aws:s3/bucket:Bucket` | 2 |" in text and "<details>" in text and "| `account` |" in text


def test_diff_lists_added_removed_and_changed_paths(plan_component):
    old = plan_component(program)
    new = plan_component(lambda: program(protect=True))
    diff = diff_plans(old, new)
    assert not diff.added and not diff.removed
    assert [(c.name, c.paths) for c in diff.changed] == [("art-bucket", ("protect", "retainOnDelete"))]
    assert "~ aws:s3/bucket:Bucket art-bucket" in render_diff(diff)
    assert diff_plans(old, old).empty


def test_plans_after_asyncio_run_closed_the_loop(plan_component):
    import asyncio

    async def nothing() -> None:
        return None

    asyncio.run(nothing())  # leaves the thread without a current event loop
    assert plan_component(lambda: pulumi.export("ok", True)).outputs == {"ok": True}


def test_urns_match_the_engines(plan_component):
    plan = plan_component(program)
    # resource.NewURN: children of the root stack carry no `pulumi:pulumi:Stack$` prefix.
    assert plan.named("art")["urn"] == "urn:pulumi:dev::mlops-platform::mlops:test:Store::art"
    assert plan.named("art-bucket")["urn"] == (
        "urn:pulumi:dev::mlops-platform::mlops:test:Store$aws:s3/bucket:Bucket::art-bucket")
