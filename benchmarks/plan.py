"""Time `python -m infra plan` per stack beside the floor: the bare SDK registering the same resources.

    python benchmarks/plan.py [--repeat 7] [--write]

For each stack: the median wall time of planning it (config load + validation + the real program
under the recording mocks), the resource count, ms per resource, and the floor: the same resource set
(types, names, parents, resolved inputs) registered directly with `pulumi.CustomResource` /
`pulumi.ComponentResource` under the same mocks, with no components, config or wiring around it.
Imports are warmed up before timing. `--write` replaces the "Offline plan" section of
docs/performance.md with the table. Target: plan within 1.2x of the floor.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import pulumi

from infra.plan.engine import Plan, plan_program, plan_stack
from infra.plan.fakes import Cloud
from infra.plan.sdk import sdk_class, snake, unknown_inputs
from infra.stackfile import PROJECT_ROOT, stack_names

SECTION = "## Offline plan (`python -m infra plan`)"
TARGET = 1.2
NOTES = """Where the time goes (cProfile over five plans of dev): the SDK's own work per resource dominates both
columns (an `Output` per declared property of every provider class, serialization, and the stack trace
it records per registration, which costs more the deeper the resource is declared); on top of the floor
the program pays for config loading and validation (about 2 ms), the `Output.apply` chains that wire
resources together, and one blocking invoke (the caller identity, asked once by the composition and
passed to the components with the region; each component used to ask for region, partition and account
itself). Times are CPU time of the process (`time.process_time`), plan and floor alternating, so other
work on this shared 2-core machine counts for neither; wall-clock runs vary by 20% and more here. The
ratio compares the fastest run of each (the median is shown beside it)."""


def _typed(res: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource | None:
    """The resource built with its SDK class (same output properties as the program's), if its args map."""
    cls = sdk_class(res["type"])
    if cls is None or unknown_inputs(res["type"], res["inputs"]):
        return None
    return cls(res["name"], opts=opts, **{snake(k): v for k, v in res["inputs"].items()})


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
                    res["type"], res["name"], dict(res["inputs"]), opts
                )
            else:
                created[res["urn"]] = pulumi.ComponentResource(res["type"], res["name"], None, opts)

    return program


def _interleaved_samples(first: Any, second: Any, repeat: int) -> tuple[list[float], list[float]]:
    """CPU seconds of this process per run of two functions run alternately.

    CPU time (all threads of the process) rather than wall time: on a shared machine, time other
    processes take from this one would otherwise count as the program's.
    """
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((first, samples[0]), (second, samples[1])):
            gc.collect()
            start = time.process_time()
            fn()
            out.append(time.process_time() - start)
    return samples


def measure(stack: str, repeat: int) -> dict[str, Any]:
    plan = plan_stack(stack)  # warm-up: imports, botocore models, fakes
    cloud = Cloud()
    program = floor_program(plan)
    plan_program(program, stack=stack, cloud=cloud)
    plans, floors = _interleaved_samples(
        lambda: plan_stack(stack), lambda: plan_program(program, stack=stack, cloud=cloud), repeat
    )
    count = len(plan.resources)
    # The ratio compares the fastest runs (timeit's advice: slower runs measure interference, not the code).
    return {
        "stack": stack,
        "resources": count,
        "plan_ms": min(plans) * 1000,
        "floor_ms": min(floors) * 1000,
        "plan_median_ms": statistics.median(plans) * 1000,
        "floor_median_ms": statistics.median(floors) * 1000,
        "ms_per_resource": min(plans) * 1000 / count,
        "ratio": min(plans) / min(floors),
    }


def table(rows: list[dict[str, Any]], repeat: int) -> str:
    lines = [
        SECTION,
        "",
        f"Measured by `python benchmarks/plan.py --repeat {repeat}` on {platform.machine()}, "
        f"{_cores()} cores, Python {platform.python_version()}; CPU time of the process,",
        f"fastest of {repeat} runs after a warm-up (median in brackets), plan and floor alternating.",
        "The floor registers the same resources (provider SDK classes, recorded inputs) directly with the",
        "bare SDK under the same mocks: no config, components, wiring between resources or invokes.",
        "",
        "| Stack | Resources | Plan (ms) | ms / resource | Floor (ms) | Plan / floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['stack']} | {r['resources']} | {r['plan_ms']:.0f} ({r['plan_median_ms']:.0f}) | "
        f"{r['ms_per_resource']:.2f} | {r['floor_ms']:.0f} ({r['floor_median_ms']:.0f}) | {r['ratio']:.2f}x |"
        for r in rows
    ]
    worst = max(rows, key=lambda r: r["ratio"])
    verdict = (
        "Target (plan within 1.2x of the floor): met."
        if worst["ratio"] <= TARGET
        else f"Target (plan within 1.2x of the floor): not met on {worst['stack']} ({worst['ratio']:.2f}x)."
    )
    lines += ["", verdict, "", NOTES]
    return "\n".join(lines) + "\n"


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def write_section(text: str, path: Path = PROJECT_ROOT / "docs" / "performance.md") -> None:
    """Replace (or append) this benchmark's section, leaving the other sections alone."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if SECTION in current:
        head, _, rest = current.partition(SECTION)
        tail = rest[rest.find("\n## ") :] if "\n## " in rest else ""
        current = head + text + tail
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    rows = [measure(stack, args.repeat) for stack in stack_names()]
    text = table(rows, args.repeat)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
