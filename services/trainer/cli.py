"""Command line: ``python -m services.trainer --out DIR [--upload s3://BUCKET --service NAME --model-version V]``.

Exit codes: 0 trained (and uploaded); 1 the ONNX parity check, MLflow logging or the upload
failed; 2 bad arguments, an unusable --upload destination, a model version that already holds
another model, or an unwritable --out. On success one JSON line on stdout says what was written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.trainer import tracking
from services.trainer.onnx_export import ParityError
from services.trainer.training import DEFAULT_MODEL_NAME, METADATA_FILE, train
from services.trainer.upload import UploadError, destination, upload_artifacts

PROG = "python -m services.trainer"


def parser() -> argparse.ArgumentParser:
    """The argument parser (every option documents its default)."""
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="artifact directory to write (created if missing)")
    p.add_argument("--seed", type=int, default=42, help="random seed for the train/test split (default: 42)")
    p.add_argument("--test-size", type=float, default=0.2, help="held-out fraction (default: 0.2)")
    p.add_argument("--model-name", default=DEFAULT_MODEL_NAME, help=f"default: {DEFAULT_MODEL_NAME}")
    p.add_argument(
        "--model-version",
        help="the slot's modelVersion in the stack file: metadata.json's version and the published folder "
        "(default: first 12 hex digits of model.onnx's SHA-256)",
    )
    p.add_argument("--git-sha", help="source revision to record (default: git rev-parse HEAD, else 'unknown')")
    p.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI or local folder (default: $MLFLOW_TRACKING_URI, else ./mlruns)",
    )
    p.add_argument("--experiment", default=tracking.DEFAULT_EXPERIMENT, help="MLflow experiment name")
    p.add_argument("--no-mlflow", action="store_true", help="do not log the run to MLflow")
    p.add_argument(
        "--upload",
        metavar="BUCKET_URI",
        help="publish to s3://BUCKET or gs://BUCKET at <model prefix>/<model version>/ (needs --service)",
    )
    p.add_argument("--service", help="the stack's service name (with --upload; the default prefix is models/<service>)")
    p.add_argument(
        "--model-prefix",
        help="key prefix of the service's model versions: its modelArtifactUri in the stack file "
        "(default: models/<service>)",
    )
    return p


def _fail(code: int, message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    args = parser().parse_args(argv)
    if not 0.0 < args.test_size < 1.0:
        return _fail(2, f"--test-size must be between 0 and 1 (exclusive), got {args.test_size}")
    if args.upload:
        if not args.service:
            return _fail(2, "--upload needs --service NAME (the service's name in the stack file)")
        try:  # reject a bad destination before spending time on training
            destination(args.upload, args.service, args.model_version or "version", args.model_prefix)
        except UploadError as exc:
            return _fail(2, str(exc))
    elif args.service or args.model_prefix:
        return _fail(2, "--service and --model-prefix only apply with --upload s3://BUCKET or gs://BUCKET")
    try:
        out_dir = train(
            args.out,
            args.seed,
            test_size=args.test_size,
            model_name=args.model_name,
            model_version=args.model_version,
            git_sha=args.git_sha,
            tracking_uri=args.tracking_uri,
            log_to_mlflow=not args.no_mlflow,
            experiment=args.experiment,
        )
    except OSError as exc:
        return _fail(2, f"cannot write {args.out}: {exc.strerror or exc}; choose a writable --out")
    except ParityError as exc:
        return _fail(1, str(exc))
    except tracking.TrackingError as exc:
        return _fail(1, f"artifacts written to {args.out}, but logging the run failed: {exc}")
    meta = json.loads((out_dir / METADATA_FILE).read_text(encoding="utf-8"))
    summary = {
        "out": str(out_dir),
        "name": meta["name"],
        "version": meta["version"],
        "metrics": meta["metrics"],
    }
    if args.upload:
        try:
            target = destination(args.upload, args.service, meta["version"], args.model_prefix)
            summary["uploaded"] = upload_artifacts(out_dir, target)
            summary["model_uri"] = target.uri("model.tar.gz")
        except UploadError as exc:
            return _fail(2, str(exc))
        except Exception as exc:  # botocore errors: no credentials, no bucket, access denied
            return _fail(1, f"upload to {args.upload} failed: {type(exc).__name__}: {exc}")
    print(json.dumps(summary, sort_keys=True))
    return 0
