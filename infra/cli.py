"""`python -m infra`: offline plans and plan diffs, no Pulumi CLI and no cloud credentials needed.

    python -m infra plan dev                       # tree, like `pulumi preview`
    python -m infra plan prod --format json --out plans/prod.json
    python -m infra plan --all --out-dir plans     # refresh every committed plan
    python -m infra diff old.json new.json --format markdown --expect-no-changes
    python -m infra diff plans/dev.json plans/prod.json   # two stacks: matched by type, name and parents
    python -m infra config-reference               # the generated config reference (docs/config.md)
    python -m infra verify dev --stack-outputs outputs.json   # live AWS endpoints vs the declared stack
    python -m infra artifacts dev                  # before `pulumi up`: every slot's model and image exist (AWS)

Exit codes: 0 ok, 2 invalid config (one line per problem), 3 changes found with --expect-no-changes,
4 verify found differences / artifacts found missing pieces (one line each), 5 no usable AWS credentials,
1 anything else (one line; --debug shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from infra.config_errors import ConfigError

EXIT_OK, EXIT_ERROR, EXIT_CONFIG, EXIT_CHANGES = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__.split("\n")[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    # --debug is accepted after the subcommand too; SUPPRESS keeps a subcommand from resetting it to False.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    plan = sub.add_parser("plan", parents=[common], help="plan a stack offline under the Pulumi SDK's mocks")
    plan.add_argument("stack", nargs="?", help="stack name (Pulumi.<stack>.yaml)")
    plan.add_argument("--all", action="store_true", help="plan every stack (with --out-dir)")
    plan.add_argument("--config-file", type=Path, help="read config from this file instead of Pulumi.<stack>.yaml")
    plan.add_argument("--format", choices=("tree", "json", "markdown"), default="tree")
    plan.add_argument("--out", type=Path, help="write to this file instead of stdout")
    plan.add_argument("--out-dir", type=Path, help="with --all: write <dir>/<stack>.json for every stack")

    diff = sub.add_parser("diff", parents=[common], help="compare two JSON plans (of one stack, or of two stacks)")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    diff.add_argument("--format", choices=("text", "markdown"), default="text")
    diff.add_argument("--expect-no-changes", action="store_true", help="exit 3 when anything changed")
    diff.add_argument("--show-all", action="store_true",
                      help="plans of two stacks: also list values that differ only by the stack name")

    verify = sub.add_parser("verify", parents=[common],
                            help="compare a deployed stack's SageMaker endpoints with the declared stack")
    verify.add_argument("stack", help="stack name (Pulumi.<stack>.yaml)")
    verify.add_argument("--stack-outputs", type=Path, help="JSON of `pulumi stack output --json` (deployed names)")

    artifacts = sub.add_parser("artifacts", parents=[common],
                               help="before `pulumi up`: check each slot's model.tar.gz (S3) and image tag (ECR) exist")
    artifacts.add_argument("stack", help="stack name (Pulumi.<stack>.yaml)")
    artifacts.add_argument("--stack-outputs", type=Path,
                           help="JSON of `pulumi stack output --json` (deployed bucket and repositories)")

    ref = sub.add_parser("config-reference", parents=[common],
                         help="the config reference (markdown) generated from the models")
    ref.add_argument("--write", action="store_true", help="update docs/config.md and README.md instead of printing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:
        print("\n".join(exc.lines()), file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = " ".join(lines) if lines else type(exc).__name__
        print(f"error: {reason}", file=sys.stderr)
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    if args.command == "plan":
        from infra.plan.preview import close_event_loop

        try:
            return _plan(args)
        finally:
            close_event_loop()
    if args.command == "diff":
        return _diff(args)
    if args.command == "verify":
        from infra.verify.command import verify

        return verify(args.stack, args.stack_outputs)
    if args.command == "artifacts":
        from infra.targets.aws.artifacts import check_artifacts

        return check_artifacts(args.stack, args.stack_outputs)
    from infra.config_reference import render_reference, write_reference

    if args.write:
        write_reference()
    else:
        sys.stdout.write(render_reference())
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    from infra.plan.engine import plan_stack
    from infra.plan.render import render_markdown, render_tree
    from infra.stackfile import stack_names

    if args.all:
        if not args.out_dir:
            raise ValueError("--all needs --out-dir DIR")
        args.out_dir.mkdir(parents=True, exist_ok=True)
        errors: list[ConfigError] = []
        for stack in stack_names():
            try:
                (args.out_dir / f"{stack}.json").write_text(plan_stack(stack).to_json(), encoding="utf-8")
            except ConfigError as exc:
                errors.append(exc)
        if errors:
            raise ConfigError.merge(errors)
        return EXIT_OK
    if not args.stack:
        raise ValueError("name a stack (python -m infra plan dev) or use --all --out-dir plans")
    plan = plan_stack(args.stack, args.config_file)
    text = {"tree": render_tree, "markdown": render_markdown}.get(args.format, lambda p: p.to_json())(plan)
    _write(text, args.out)
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from infra.plan.diff import diff_plans
    from infra.plan.diff_report import render_diff
    from infra.plan.preview import Plan

    old, new = (Plan.from_dict(_read_plan(p)) for p in (args.old, args.new))
    result = diff_plans(old, new, show_all=args.show_all)
    sys.stdout.write(render_diff(result, markdown=args.format == "markdown"))
    return EXIT_CHANGES if args.expect_no_changes and not result.empty else EXIT_OK


def _read_plan(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read plan ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a JSON plan ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict) or not {"project", "stack", "resources"} <= doc.keys():
        raise ValueError(f"{path}: not a plan from `python -m infra plan --format json`")
    return doc


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
