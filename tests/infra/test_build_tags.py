"""An unchanged buildTag over changed image content fails the plan (exit 2), before ECR refuses the push.

Evidence: the stack's ECR repositories are IMMUTABLE (components/aws/container_registry.py); ECR then
rejects a push of an existing tag with ImageTagAlreadyExistsException ("the image tag already exists in
the repository and the repository is configured with tag immutability",
docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html). `pulumi up` would rebuild
(pulumi_docker sees the changed context) and fail at the push, after other resources changed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra import build_tags
from infra.build_tags import CONTEXT, CONTEXTS, LOCK, build_tag_problems, content_digest, write_lock
from infra.config_errors import ConfigError
from infra.plan.engine import plan_stack
from infra.stackfile import PROJECT_ROOT, read_stack_config
from infra.targets import load_platform_config


def _dev():
    stack = read_stack_config("dev")
    return load_platform_config(stack.values, stack.source)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the build contexts and the committed digests, to change without touching the repository."""
    for context in CONTEXTS:
        shutil.copytree(PROJECT_ROOT / context, tmp_path / context, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / LOCK, tmp_path / LOCK)
    return tmp_path


def test_committed_digests_match_this_checkout():
    """Fails when services/model_server changed without a new buildTag: bump it, then `python3 tasks.py build-tags`."""
    assert build_tag_problems(_dev()) == []


def test_changed_server_code_under_the_same_tag_names_the_key_and_the_fix(checkout: Path):
    (checkout / CONTEXT / "app.py").write_text((checkout / CONTEXT / "app.py").read_text() + "\n# changed\n")
    (problem,) = build_tag_problems(_dev(), checkout)
    assert problem.key == "mlops-platform:services.fraud-detector.buildTag" and problem.value == "1.6.0"
    assert "immutable" in problem.message and "Bump buildTag" in problem.message
    assert "python3 tasks.py build-tags" in problem.message


def test_a_changed_dockerfile_counts_a_changed_readme_does_not(checkout: Path):
    (checkout / CONTEXT / "README.md").write_text("docs only\n")
    (checkout / CONTEXT / "__pycache__").mkdir()
    (checkout / CONTEXT / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    assert build_tag_problems(_dev(), checkout) == []
    (checkout / CONTEXT / "Dockerfile").write_text((checkout / CONTEXT / "Dockerfile").read_text() + "\n# x\n")
    assert len(build_tag_problems(_dev(), checkout)) == 1


def test_a_new_tag_must_be_recorded_and_recording_keeps_older_tags(checkout: Path):
    cfg = _dev()
    bumped = cfg.model_copy(update={"services": {"fraud-detector": cfg.services["fraud-detector"].model_copy(
        update={"build_tag": "1.6.1"})}})
    problems = build_tag_problems(bumped, checkout)
    assert [p.message.split(": run")[0] for p in problems] == [
        f"no content digest is recorded for tag '1.6.1' of {context}" for context in CONTEXTS]
    write_lock({"1.6.1"}, checkout)
    assert build_tag_problems(bumped, checkout) == []
    assert all({"1.6.0", "1.6.1"} <= set(build_tags.recorded(checkout)[context]) for context in CONTEXTS)


@pytest.mark.parametrize("context", ["services/trainer", "services/drift_monitor"])
def test_a_changed_job_image_under_the_same_tag_fails_too(checkout: Path, context: str):
    """The job images are pushed with the stack's build tag to the same IMMUTABLE registry (issue 11)."""
    (checkout / context / "cli.py").write_text((checkout / context / "cli.py").read_text() + "\n# changed\n")
    (problem,) = build_tag_problems(_dev(), checkout)
    assert problem.key == "mlops-platform:services.fraud-detector.buildTag" and problem.value == "1.6.0"
    assert f"{context} changed since tag '1.6.0'" in problem.message


def test_the_plan_exits_with_a_config_error_on_a_stale_tag(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(build_tags, "recorded", lambda root=PROJECT_ROOT: {CONTEXT: {"1.6.0": "sha256:" + "0" * 64}})
    with pytest.raises(ConfigError) as err:
        plan_stack("dev")
    assert any("mlops-platform:services.fraud-detector.buildTag = '1.6.0'" in line for line in err.value.lines())
    assert content_digest().startswith("sha256:")


def test_gcp_stacks_check_their_build_tags_too(monkeypatch: pytest.MonkeyPatch):
    """Artifact Registry repositories here have immutable tags (components/gcp/container_registry.py,
    `immutable_tags=True`): a second push of a tag fails ("tag ... is immutable",
    cloud.google.com/artifact-registry/docs/docker/manage-images#immutable-tags), as on ECR."""
    import infra.targets.gcp.preflight as gcp_preflight

    seen = []
    monkeypatch.setattr(gcp_preflight, "build_tag_problems", lambda cfg: seen.append(cfg.cloud) or [])
    plan_stack("gcp-dev")
    assert seen and set(seen) == {"gcp"}
