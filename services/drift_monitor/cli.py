"""Command line: ``python -m services.drift_monitor --baseline LOCATION --current LOCATION --out REPORT.json``.

A location is a local file or folder, ``s3://bucket/prefix``, ``gs://bucket/prefix`` or
``https://<account>.blob.core.windows.net/<container>/<prefix>`` (services/drift_monitor/sources.py).
Exit codes: 0 no feature drifted, 3 at least one did, 2 bad input or arguments (one line on
stderr naming the file and what to fix; also when more than ``max_unreadable_percent`` of the
capture records are unreadable), 1 the report was written but publishing metrics failed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

from services.drift_monitor import statistics
from services.drift_monitor.config import load_config
from services.drift_monitor.detector import DriftConfig, DriftReport, detect
from services.drift_monitor.errors import InputError, redact
from services.drift_monitor.publishers import (
    DEFAULT_JOB,
    DEFAULT_NAMESPACE,
    CloudWatchPublisher,
    MetricsPublisher,
    PushgatewayPublisher,
)
from services.drift_monitor.sources import write_report
from services.drift_monitor.tables import check_unreadable, load_table

PROG = "python -m services.drift_monitor"
EXIT_OK, EXIT_PUBLISH_FAILED, EXIT_BAD_INPUT, EXIT_DRIFT = 0, 1, 2, 3
DEFAULTS = DriftConfig()


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def parser() -> argparse.ArgumentParser:
    """The argument parser (every option documents its default)."""
    p = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument(
        "--baseline",
        required=True,
        help="baseline CSV with a header (e.g. baseline.csv): a local path, s3://bucket/key, gs://bucket/key "
        "or https://<account>.blob.core.windows.net/<container>/<key>",
    )
    p.add_argument(
        "--current",
        required=True,
        help="current data: a CSV with a header, or data-capture JSON lines (a file, a folder, "
        "or every object under s3://bucket/prefix, gs://bucket/prefix or an Azure Blob URL prefix)",
    )
    p.add_argument(
        "--since-hours",
        type=float,
        metavar="H",
        help="only capture records whose inferenceTime is within the last H hours (default: all)",
    )
    p.add_argument(
        "--out", required=True,
        help="where to write the JSON report: a local path, s3://bucket/key, gs://bucket/key or an Azure Blob URL",
    )
    p.add_argument("--config", type=Path, help="JSON or TOML file with threshold settings (flags override it)")
    p.add_argument("--ks-pvalue", type=float, help=f"family-wise KS significance level (default: {DEFAULTS.ks_pvalue})")
    p.add_argument("--psi-threshold", type=float, help=f"minimum PSI for drift (default: {DEFAULTS.psi_threshold})")
    p.add_argument("--psi-bins", type=int, help=f"baseline-quantile bins for PSI (default: {DEFAULTS.psi_bins})")
    p.add_argument(
        "--correction",
        choices=statistics.CORRECTIONS,
        help=f"multiple-testing correction (default: {DEFAULTS.correction})",
    )
    p.add_argument(
        "--max-unreadable-percent",
        type=float,
        help="largest share of unreadable capture records, skipped and reported, before exit 2 "
        f"(default: {DEFAULTS.max_unreadable_percent})",
    )
    p.add_argument(
        "--max-rows",
        type=int,
        help=f"capture rows compared at most; above it a seeded uniform sample (default: {DEFAULTS.max_rows})",
    )
    p.add_argument("--cloudwatch", action="store_true", help="publish metrics to CloudWatch")
    p.add_argument("--cloudwatch-namespace", default=DEFAULT_NAMESPACE, help=f"default: {DEFAULT_NAMESPACE}")
    p.add_argument(
        "--dimension",
        type=_key_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="CloudWatch dimension added to every metric (repeatable)",
    )
    p.add_argument(
        "--drift-exit-code",
        type=int,
        choices=(EXIT_OK, EXIT_DRIFT),
        default=EXIT_DRIFT,
        help=f"exit code when drift is found (default: {EXIT_DRIFT}); {EXIT_OK} where the published metrics are the "
        "signal and a non-zero exit would mark a scheduled run failed (the Kubernetes CronJob)",
    )
    p.add_argument("--pushgateway", metavar="URL", help="publish metrics to this Prometheus Pushgateway")
    p.add_argument("--pushgateway-job", default=DEFAULT_JOB, help=f"Pushgateway job label (default: {DEFAULT_JOB})")
    p.add_argument(
        "--grouping-key",
        type=_key_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Pushgateway grouping key label (repeatable)",
    )
    return p


def _publishers(args: argparse.Namespace) -> list[MetricsPublisher]:
    chosen: list[MetricsPublisher] = []
    if args.cloudwatch:
        chosen.append(CloudWatchPublisher(args.cloudwatch_namespace, dict(args.dimension)))
    if args.pushgateway:
        chosen.append(PushgatewayPublisher(args.pushgateway, args.pushgateway_job, dict(args.grouping_key)))
    return chosen


def _run(args: argparse.Namespace) -> DriftReport:
    config = load_config(
        args.config,
        {
            "ks_pvalue": args.ks_pvalue,
            "psi_threshold": args.psi_threshold,
            "psi_bins": args.psi_bins,
            "correction": args.correction,
            "max_unreadable_percent": args.max_unreadable_percent,
            "max_rows": args.max_rows,
        },
    )
    since = None
    if args.since_hours is not None:
        if not args.since_hours > 0:
            raise InputError(None, f"--since-hours must be > 0, got {args.since_hours:g}")
        since = datetime.now(UTC) - timedelta(hours=args.since_hours)
    baseline = load_table(args.baseline)
    current = load_table(args.current, expected_names=baseline.names, since=since, max_rows=config.max_rows)
    check_unreadable(current, config.max_unreadable_percent)
    report = detect(baseline, current, config)
    write_report(args.out, report.to_json())
    return report


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    args = parser().parse_args(argv)
    try:
        report = _run(args)
    except InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if report.drift_detected:
        print(
            f"drift in {len(report.drifted_features)} of {len(report.features)} features: "
            f"{', '.join(report.drifted_features)} (report: {redact(args.out)})"
        )
    else:
        print(f"no drift in {len(report.features)} features (report: {redact(args.out)})")
    if report.current.get("unreadable_records"):
        print(
            f"skipped {report.current['unreadable_records']} of {report.current['records']} unreadable capture "
            f"records (first: {report.current['unreadable_examples'][0]})"
        )
    for publisher in _publishers(args):
        try:
            publisher.publish(report)
        except Exception as exc:  # network, credentials, throttling: the report is still on disk
            print(f"{PROG}: error: publishing with {type(publisher).__name__} failed: {exc}", file=sys.stderr)
            return EXIT_PUBLISH_FAILED
    return args.drift_exit_code if report.drift_detected else EXIT_OK
