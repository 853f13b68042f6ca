"""A rollout must fit in what terraform-provider-aws waits for; the execution timeout in what it accepts.

Evidence: terraform-provider-aws PR #39090 ("Increase endpointInServiceTimeout from 10m to 60m") fixes the
wait for InService after CreateEndpoint / UpdateEndpoint at 60 minutes; issue #39040 shows the resource
ignores timeouts (`maximum_execution_timeout_in_seconds value is ignored`, the wait ends at its fixed
timeout while SageMaker keeps updating). internal/service/sagemaker/endpoint.go validates
`maximum_execution_timeout_in_seconds` with `validation.IntBetween(600, 14400)`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.aws.endpoint_rollout import (
    EXECUTION_TIMEOUT_BOUNDS,
    PROVIDER_WAIT_SECONDS,
    deployment_plan,
    duration_problem,
    rollout_seconds,
)
from components.serving import RolloutSpec
from infra.config_errors import ConfigError
from infra.plan.engine import plan_stack


def test_linear_20_with_ten_minute_bakes_is_refused_with_the_arithmetic():
    """linear 20: 5 shifts x 600 s + 600 s termination + 1800 s provisioning = 5400 s > 3600 s."""
    problem = duration_problem(RolloutSpec(strategy="linear", step_percent=20, wait_seconds=600,
                                           termination_wait_seconds=600))
    assert problem is not None
    assert "1800s provisioning + 5 traffic shift(s) x waitSeconds 600s + terminationWaitSeconds 600s = 5400s" in problem
    assert "3600s" in problem and "waitSeconds <= 240" in problem


def test_a_rollout_that_fits_is_accepted_and_its_execution_timeout_is_its_duration():
    rollout = RolloutSpec(strategy="canary", canary_percent=10, wait_seconds=600, termination_wait_seconds=300)
    assert duration_problem(rollout) is None and rollout_seconds(rollout) <= PROVIDER_WAIT_SECONDS
    # SageMaker gives up (and rolls back) before the provider stops waiting.
    assert deployment_plan(rollout).maximum_execution_timeout_seconds == rollout_seconds(rollout) == 3300


@pytest.mark.parametrize("wait", [0, 60, 600, 1800, 3600])
def test_execution_timeout_stays_in_the_providers_range(wait):
    seconds = deployment_plan(RolloutSpec(strategy="linear", step_percent=10, wait_seconds=wait,
                                          termination_wait_seconds=3600)).maximum_execution_timeout_seconds
    assert EXECUTION_TIMEOUT_BOUNDS == (600, 14400)
    assert 600 <= seconds <= 14400


def test_stack_whose_rollout_outlasts_the_provider_exits_2_naming_the_key(tmp_path: Path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(Path("Pulumi.prod.yaml").read_text().replace("waitSeconds: 600", "waitSeconds: 900"))
    with pytest.raises(ConfigError) as err:
        plan_stack("prod", path)
    (line,) = [line for line in err.value.lines() if "mlops-platform:rollout:" in line]
    assert "2 traffic shift(s) x waitSeconds 900s" in line and "= 3900s" in line


def test_committed_stacks_fit_in_the_providers_wait(stack_plan):
    for stack in ("dev", "prod"):
        for endpoint in stack_plan(stack).of_type("aws:sagemaker/endpoint:Endpoint"):
            policy = endpoint["inputs"]["deploymentConfig"]["blueGreenUpdatePolicy"]
            assert policy["maximumExecutionTimeoutInSeconds"] <= PROVIDER_WAIT_SECONDS, stack
