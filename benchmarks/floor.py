"""The floor of a plan: the same resources registered with the bare SDK, nothing of the platform around them.

    python benchmarks/floor.py STACK       # one whole process: plans/<STACK>.json's resources, registered

`floor_program(plan)` registers a plan's resources with their provider SDK classes under the same
recording mocks, with no config, components, wiring or invokes. Run as a script it is the floor
*process* of `benchmarks/plan.py --process`: it imports only the SDK, the provider classes the plan
uses and the plan's mocks (`infra.plan.preview`), so the difference to `python -m infra plan STACK` is
what the platform adds (config, validation, preflight catalogs, components, wiring), imports included.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pulumi

from infra.plan.preview import Plan, plan_program
from infra.plan.sdk import keyword_arguments, sdk_class, unknown_inputs

PLANS = Path(__file__).resolve().parent.parent / "plans"


def _typed(res: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource | None:
    """The resource built with its SDK class (same output properties as the program's), if its args map."""
    cls = sdk_class(res["type"])
    if cls is None or unknown_inputs(res["type"], res["inputs"]):
        return None
    return cls(res["name"], opts=opts, **keyword_arguments(cls, res["inputs"]))


def floor_program(plan: Plan) -> Any:
    """A program registering `plan`'s resources with no components around them.

    Each resource is built with its provider SDK class (so the SDK does the same per-resource work as
    in the program), with its recorded inputs as plain values: no config, no wiring, no Outputs between
    resources, no invokes, no component logic.
    """
    resources = [r for r in plan.resources if r["type"] != "pulumi:pulumi:Stack"]
    by_urn = {r["urn"]: r for r in resources}

    def depth(res: dict[str, Any]) -> int:
        return 0 if res["parent"] not in by_urn else 1 + depth(by_urn[res["parent"]])

    ordered = sorted(resources, key=lambda r: (depth(r), r["urn"]))

    def program() -> None:
        created: dict[str, pulumi.Resource] = {}
        for res in ordered:
            opts = pulumi.ResourceOptions(parent=created.get(res["parent"]), protect=res["protect"])
            if res["custom"]:
                created[res["urn"]] = _typed(res, opts) or pulumi.CustomResource(
                    res["type"], res["name"], dict(res["inputs"]), opts)
            else:
                created[res["urn"]] = pulumi.ComponentResource(res["type"], res["name"], None, opts)

    return program


def main(argv: list[str]) -> int:
    stack = argv[0]
    plan = Plan.from_dict(json.loads((PLANS / f"{stack}.json").read_text()))
    plan_program(floor_program(plan), stack=stack, project=plan.project)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
