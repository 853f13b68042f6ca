"""The trainer publishes exactly the keys the stacks' endpoints and Model Monitor read."""

from __future__ import annotations

import json

import pytest

from infra.composition import BASELINE_FILES, plan_services
from infra.stackfile import read_stack_config
from infra.targets import load_platform_config
from services.trainer import destination
from services.trainer.upload import BASELINE_FILES as PUBLISHED_BASELINES


def _plan(stack: str, model_prefix: str | None = None):
    values = dict(read_stack_config(stack).values)
    if model_prefix:
        services = json.loads(values["mlops-platform:services"])
        for svc in services.values():
            svc["modelArtifactUri"] = model_prefix
        values["mlops-platform:services"] = json.dumps(services)
    return plan_services(load_platform_config(values, f"Pulumi.{stack}.yaml"))


@pytest.mark.parametrize("stack", ["dev", "prod", "azure-dev"])
@pytest.mark.parametrize("model_prefix", [None, "models/risk/fraud"])
def test_published_keys_are_the_planned_keys(stack: str, model_prefix: str | None) -> None:
    assert PUBLISHED_BASELINES == BASELINE_FILES
    for plan in _plan(stack, model_prefix):
        for slot in plan.slots.values():
            target = destination("s3://bucket", plan.name, slot.model_version, model_prefix)
            assert target.key("model.tar.gz") == slot.model_key
        live = destination("s3://bucket", plan.name, plan.slots[plan.live].model_version, model_prefix)
        assert {file: live.key(file) for file in BASELINE_FILES} == plan.baseline_keys
