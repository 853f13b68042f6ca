"""Plan a stack: load `Pulumi.<stack>.yaml`, validate it, and run the real program under the recording mocks.

`plan_stack("dev")` loads `Pulumi.dev.yaml`, validates it, runs `infra/__main__.py` like
`pulumi preview` would (dry run, so values no cloud has computed yet stay unknown) and returns a
`Plan`: every registration with its inputs and options, and the stack's exports.
`plan_program(fn, ...)` (infra/plan/preview.py) does the same for any Python callable.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from infra.config_errors import ConfigError
from infra.plan.fakes import Cloud
from infra.plan.preview import PLAN_FORMAT_VERSION, Plan, plan_program
from infra.program import InvalidStackConfig
from infra.stackfile import PROJECT_ROOT, StackConfig, read_project, read_stack_config
from infra.targets import load_platform_config

__all__ = ["PLAN_FORMAT_VERSION", "Plan", "plan_program", "plan_stack", "plan_stack_config"]


def plan_stack(stack: str, config_file: Path | None = None, root: Path = PROJECT_ROOT) -> Plan:
    """Plan `Pulumi.<stack>.yaml` (or `config_file`) by running the project's real program.

    Raises `ConfigError` for an invalid stack file before anything is registered.
    """
    project_file = read_project(root)
    return plan_stack_config(read_stack_config(stack, config_file, root, project=project_file), root, project_file)


def plan_stack_config(stack_config: StackConfig, root: Path = PROJECT_ROOT,
                      project_file: dict[str, Any] | None = None) -> Plan:
    """Plan a stack's config map as the engine would hand it over (secrets decrypted, `secret_keys` marked)."""
    stack = stack_config.stack
    project_file = project_file or read_project(root)
    cfg = load_platform_config(stack_config.values, stack_config.source, stack, stack_config.secret_keys)
    project = str(project_file["name"])
    main = root / str(project_file.get("main", "infra/")).rstrip("/") / "__main__.py"
    cloud = Cloud(region=cfg.region or Cloud.region, project=cfg.project or Cloud.project,
                  location=cfg.region or Cloud.location)
    try:
        return plan_program(lambda: runpy.run_path(str(main), run_name="__main__"), stack=stack,
                            config=stack_config.values, secret_keys=stack_config.secret_keys, cloud=cloud,
                            project=project)
    except InvalidStackConfig as exc:  # a component refused what the config asked for: exit 2, key named
        raise ConfigError(stack_config.source, exc.error.problems) from None
