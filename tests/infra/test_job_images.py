"""The trainer and drift-monitor images are built and pushed beside the model server's on every target (issue 11).

One cloud-neutral rule (`infra.composition.plan_job_images`) decides which job images a stack builds and with
which tag; every target's composition uses it, gives each a repository in the stack's registry and exports it
in `repositoryUrls` under the same names.
"""

from __future__ import annotations

import json

import pytest

from infra.composition import JOB_IMAGES, plan_job_images, stack_build_tag
from infra.config_errors import ConfigError
from infra.stackfile import read_stack_config
from infra.targets import load_platform_config

STACKS = ("dev", "prod", "eks-dev", "gcp-dev", "gcp-prod", "azure-dev", "local")


def _config(stack: str = "dev", **over: dict):
    values = dict(read_stack_config(stack).values)
    services = json.loads(values["mlops-platform:services"])
    base = services["fraud-detector"]
    values["mlops-platform:services"] = json.dumps({**services, **{n: {**base, **o} for n, o in over.items()}})
    return load_platform_config(values, f"Pulumi.{stack}.yaml")


@pytest.mark.parametrize("stack", STACKS)
def test_every_target_builds_and_exports_the_job_images(stack_plan, stack: str):
    plan = stack_plan(stack)
    urls = plan.outputs["repositoryUrls"]
    for job in JOB_IMAGES:
        image = plan.named(f"{job.repository}-image-image")
        assert image["inputs"]["build"]["context"] == job.context
        assert image["inputs"]["build"]["dockerfile"] == f"{job.context}/Dockerfile"
        assert image["inputs"]["imageName"] == f"{urls[job.repository]}:1.6.0", stack
    assert set(urls) == {"fraud-detector", "trainer", "drift-monitor"}


def test_the_local_drift_monitor_runs_the_shared_job_image(stack_plan):
    plan = stack_plan("local")
    pulled = [r for r in plan.of_type("docker:index/remoteImage:RemoteImage") if r["name"] == "drift-pulled"]
    assert len(pulled) == 1 and pulled[0]["inputs"]["name"].startswith("127.0.0.1:5000/drift-monitor@sha256:")
    assert not [r for r in plan.resources if r["name"] == "drift-image"]  # no second drift-monitor build


def test_the_job_images_take_the_newest_build_tag_and_nothing_is_built_without_one():
    cfg = _config("azure-dev", other={"buildTag": "1.10.0", "slots": {"blue": {"imageTag": "1.4.0", "modelVersion": "7",
                                                                  "weight": 100},
                                                         "green": {"imageTag": "1.10.0", "modelVersion": "8",
                                                                   "weight": 0}}})
    assert stack_build_tag(cfg) == "1.10.0"  # version order, not text order
    assert {job.tag for job in plan_job_images(cfg)} == {"1.10.0"}
    untagged = _config("azure-dev", **{"fraud-detector": {"buildTag": None}})
    assert plan_job_images(untagged) == []
    assert {job.tag for job in plan_job_images(untagged, fallback_tag="local")} == {"local"}


@pytest.mark.parametrize("name, over, key", [
    ("trainer", {}, "services.trainer"),
    ("fraud", {"imageRepository": "drift-monitor"}, "services.fraud.imageRepository"),
])
def test_a_service_repository_may_not_take_a_job_images_name(name: str, over: dict, key: str):
    with pytest.raises(ConfigError) as err:
        _config(**{name: over})
    assert any(f"mlops-platform:{key}" in line and "job image" in line for line in err.value.lines())
