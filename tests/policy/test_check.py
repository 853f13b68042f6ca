"""`python -m policy.check`: exit codes, output, config, and how plan values reach the rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy.check import main, run_pack
from tests.policy.cases import s3_set
from tests.policy.helpers import PROD_TAGS, TAGS, plan, resource


def _write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _mandatory(doc: dict, config: dict | None = None) -> list[tuple[str, str]]:
    return [(v.policy, v.urn.rsplit("::", 1)[-1]) for v in run_pack(doc, config) if v.level == "mandatory"]


def test_compliant_plan_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(_write(tmp_path, "plan.json", plan(*s3_set("prod"), stack="prod")))]) == 0
    assert "0 mandatory" in capsys.readouterr().out


def test_mandatory_violation_exits_1_and_names_policy_and_urn(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    doc = plan(*s3_set(versioning=False))
    assert main([str(_write(tmp_path, "plan.json", doc))]) == 1
    out = capsys.readouterr().out
    assert "[mandatory] artifact-store-versioning  urn:pulumi:dev::mlops-platform::aws:s3/bucket:Bucket::artifacts" \
        in out
    assert "1 mandatory" in out


def test_advisory_only_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = plan(*s3_set(lifecycle=False))
    assert main([str(_write(tmp_path, "plan.json", doc))]) == 0
    assert "[advisory] s3-lifecycle-configured" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["{not json", json.dumps({"resources": "x"}),
                                     json.dumps({"version": 9, "resources": []})])
def test_unusable_plan_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             content: str) -> None:
    assert main([str(_write(tmp_path, "plan.json", content))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_missing_plan_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent.json")]) == 2
    assert "cannot read plan" in capsys.readouterr().err


def test_json_format_lists_violations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(_write(tmp_path, "plan.json", plan(*s3_set(pab=False)))), "--format", "json"])
    found = json.loads(capsys.readouterr().out)
    assert {"level": "mandatory", "policy": "s3-public-access-blocked"}.items() <= found[0].items()


GPU_NODES = resource("aws:eks/nodeGroup:NodeGroup", "gpu", {"instanceTypes": ["g5.12xlarge"], "tags": TAGS})


def test_config_file_sets_gpu_allowlist_per_environment(tmp_path: Path) -> None:
    doc = plan(GPU_NODES)
    assert ("gpu-instance-allowlist", "gpu") in _mandatory(doc)
    config = {"gpu-instance-allowlist": {"allowedInstanceTypes": {"dev": ["g5.*"], "prod": ["p5.*"]}}}
    assert main([str(_write(tmp_path, "p.json", doc)), "--config", str(_write(tmp_path, "c.json", config))]) == 0


def test_config_can_lower_enforcement_level() -> None:
    doc = plan(GPU_NODES)
    assert not _mandatory(doc, {"gpu-instance-allowlist": "advisory"})
    assert not _mandatory(doc, {"all": "disabled"})


@pytest.mark.parametrize("config", [{"no-such-policy": "advisory"}, {"required-tags": "strict"},
                                    {"required-tags": {"colour": "red"}}])
def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: dict) -> None:
    doc = _write(tmp_path, "p.json", plan())
    assert main([str(doc), "--config", str(_write(tmp_path, "c.json", config))]) == 2
    assert capsys.readouterr().err.startswith("error: config")


def test_unknown_values_are_not_violations() -> None:
    topic = resource("aws:sns/topic:Topic", "alerts", {"kmsMasterKeyId": "[unknown]", "tags": TAGS})
    endpoint = resource("aws:sagemaker/endpoint:Endpoint", "ep", {"deploymentConfig": "[unknown]",
                                                                   "tags": PROD_TAGS}, stack="prod")
    assert _mandatory(plan(topic)) == []
    assert _mandatory(plan(endpoint, stack="prod")) == []


def test_secret_tag_values_count_as_present() -> None:
    topic = resource("aws:sns/topic:Topic", "alerts", {"kmsMasterKeyId": "k",
                                                       "tags": {**TAGS, "owner": "[secret]"}})
    assert _mandatory(plan(topic)) == []


def test_provider_default_tags_satisfy_required_tags() -> None:
    provider = resource("pulumi:providers:aws", "aws", {"region": "us-east-1", "defaultTags": {"tags": TAGS}})
    ref = f"{provider['urn']}::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    topic = resource("aws:sns/topic:Topic", "alerts", {"kmsMasterKeyId": "k"}, provider=ref)
    assert _mandatory(plan(provider, topic)) == []
    assert _mandatory(plan(resource("aws:sns/topic:Topic", "alerts", {"kmsMasterKeyId": "k"}))) == [
        ("required-tags", "alerts")]


def test_environment_comes_from_stack_name_when_untagged() -> None:
    tags = {k: v for k, v in TAGS.items() if k != "environment"}
    cluster = resource("aws:eks/cluster:Cluster", "gpu", {"tags": {**tags, "environment": "[unknown]"},
                                                          "vpcConfig": {"endpointPrivateAccess": True}},
                       stack="aws-prod")
    assert ("prod-private-cluster-endpoint", "gpu") in _mandatory(plan(cluster, stack="aws-prod"))


def test_environment_tag_wins_over_stack_name() -> None:
    cluster = resource("aws:eks/cluster:Cluster", "gpu", {"tags": TAGS, "vpcConfig": {}}, stack="prod")
    assert ("prod-private-cluster-endpoint", "gpu") not in _mandatory(plan(cluster, stack="prod"))


def test_companion_linked_by_bucket_name_without_dependencies() -> None:
    bucket, versioning, *rest = s3_set()
    versioning = {**versioning, "dependencies": []}
    assert ("artifact-store-versioning", "artifacts") not in _mandatory(plan(bucket, versioning, *rest))


def test_companion_of_another_bucket_does_not_count() -> None:
    bucket, versioning, *rest = s3_set()
    other = resource("aws:s3/bucket:Bucket", "logs", {"bucket": "logs-9z", "tags": TAGS})
    versioning = {**versioning, "dependencies": [other["urn"]], "inputs": {**versioning["inputs"],
                                                                            "bucket": "logs-9z"}}
    found = _mandatory(plan(bucket, other, versioning, *rest))
    assert ("artifact-store-versioning", "artifacts") in found
