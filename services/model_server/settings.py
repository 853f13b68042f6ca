"""Server configuration, read once from the environment and validated as a whole.

Every setting has a default, so ``MODEL_URI=<dir> python -m services.model_server`` is enough
locally. Cloud platforms inject their own variables (``AIP_*`` on Vertex AI,
``AZUREML_MODEL_DIR`` on Azure ML, ``SAGEMAKER_BIND_TO_PORT`` on SageMaker multi-container
endpoints); those are honoured without any mapping. All problems are reported together.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.model_server.sinks import destination_problem

SAGEMAKER_MODEL_DIR = "/opt/ml/model"
DEFAULT_PORT = 8080
# SageMaker's InvokeEndpoint payload cap; also a sane bound for any JSON scoring body.
DEFAULT_MAX_REQUEST_BYTES = 6 * 1024 * 1024

# Variables that may name the model artifact, most explicit first.
MODEL_LOCATION_VARS = ("MODEL_URI", "AIP_STORAGE_URI", "AIP_MODEL_DIR", "AZUREML_MODEL_DIR")
# Variables that may name the port, most explicit first.
PORT_VARS = ("PORT", "AIP_HTTP_PORT", "SAGEMAKER_BIND_TO_PORT")


class SettingsError(ValueError):
    """The environment does not describe a runnable server; ``problems`` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid model server configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know about its deployment. Defaults in ``from_env``."""

    model_uri: str
    """Where the artifact directory lives: local path, ``s3://``, ``gs://`` or an Azure blob URL."""
    model_cache_dir: Path
    """Where remote artifacts are downloaded to before loading."""
    host: str
    port: int
    grpc_port: int | None
    """``GRPC_PORT``: serve the Open Inference Protocol's gRPC service there too; unset disables it."""
    vertex_health_route: str | None
    """``AIP_HEALTH_ROUTE``: registered only when Vertex AI (or the operator) sets it."""
    vertex_predict_route: str | None
    azure_liveness_route: str
    azure_readiness_route: str
    azure_scoring_route: str
    max_request_bytes: int
    batch_max_rows: int
    """Upper bound on rows that one micro-batch (one ONNX Runtime call) may hold."""
    batch_max_delay_ms: float
    """How long the first request of a batch may wait for company; 0 batches only what is already queued."""
    inference_in_thread: bool
    """Run ONNX Runtime in a worker thread (keeps the event loop free for big models)."""
    intra_op_threads: int
    execution_provider: str
    """``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``."""
    capture_destination: str | None
    """Local ``.jsonl`` file, ``s3://``/``gs://`` prefix, Azure Blob URL or ``azureml-mdc`` (``sinks.ACCEPTED``);
    unset disables prediction capture."""
    capture_sample_percent: float
    capture_flush_records: int
    capture_flush_seconds: float
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); ``SettingsError`` lists every problem."""
        env = os.environ if env is None else env
        problems: list[str] = []

        def text(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, default: float, *, minimum: float, maximum: float, integer: bool) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw) if integer else float(raw)
            except ValueError:
                kind = "an integer" if integer else "a number"
                problems.append(f"{name}={raw!r}: expected {kind} between {minimum:g} and {maximum:g}")
                return default
            if not minimum <= value <= maximum:
                problems.append(f"{name}={raw!r}: expected a value between {minimum:g} and {maximum:g}")
                return default
            return value

        def route(name: str, default: str | None) -> str | None:
            value = env.get(name, "").strip() or default
            if value is not None and not value.startswith("/"):
                problems.append(f"{name}={value!r}: a route must start with '/'")
                return default
            return value

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name, "").strip().lower()
            if not raw:
                return default
            if raw in {"1", "true", "yes", "on"}:
                return True
            if raw in {"0", "false", "no", "off"}:
                return False
            problems.append(f"{name}={raw!r}: expected true or false")
            return default

        model_uri = next((env[v].strip() for v in MODEL_LOCATION_VARS if env.get(v, "").strip()), "")
        if not model_uri:
            if Path(SAGEMAKER_MODEL_DIR).is_dir():
                model_uri = SAGEMAKER_MODEL_DIR
            else:
                problems.append(
                    "no model location: set MODEL_URI (or AIP_STORAGE_URI / AIP_MODEL_DIR / "
                    "AZUREML_MODEL_DIR) "
                    f"to a directory holding model.onnx and metadata.json, or mount one at "
                    f"{SAGEMAKER_MODEL_DIR}"
                )

        port_var = next((v for v in PORT_VARS if env.get(v, "").strip()), None)
        port = DEFAULT_PORT
        if port_var is not None:
            port = int(number(port_var, DEFAULT_PORT, minimum=1, maximum=65535, integer=True))

        grpc_port = None
        if env.get("GRPC_PORT", "").strip():
            grpc_port = int(number("GRPC_PORT", 0, minimum=1, maximum=65535, integer=True)) or None
            if grpc_port == port:
                problems.append(f"GRPC_PORT={grpc_port}: the HTTP server already listens there ({port_var or 'PORT'})")

        provider = text("EXECUTION_PROVIDER", "auto").lower()
        if provider not in {"auto", "cpu", "cuda"}:
            problems.append(f"EXECUTION_PROVIDER={provider!r}: expected auto, cpu or cuda")
            provider = "auto"

        log_level = text("LOG_LEVEL", "info").lower()
        if log_level not in {"debug", "info", "warning", "error"}:
            problems.append(f"LOG_LEVEL={log_level!r}: expected debug, info, warning or error")
            log_level = "info"

        capture_destination = env.get("CAPTURE_DESTINATION", "").strip() or None
        if capture_destination and (problem := destination_problem(capture_destination)):
            problems.append(problem)

        settings = cls(
            model_uri=model_uri,
            model_cache_dir=Path(text("MODEL_CACHE_DIR", "/tmp/model-server/artifact")),
            host=text("HOST", "0.0.0.0"),
            port=port,
            grpc_port=grpc_port,
            vertex_health_route=route("AIP_HEALTH_ROUTE", None),
            vertex_predict_route=route("AIP_PREDICT_ROUTE", None),
            azure_liveness_route=route("AZUREML_LIVENESS_ROUTE", "/live") or "/live",
            azure_readiness_route=route("AZUREML_READINESS_ROUTE", "/ready") or "/ready",
            azure_scoring_route=route("AZUREML_SCORING_ROUTE", "/score") or "/score",
            max_request_bytes=int(
                number(
                    "MAX_REQUEST_BYTES",
                    DEFAULT_MAX_REQUEST_BYTES,
                    minimum=1024,
                    maximum=1 << 30,
                    integer=True,
                )
            ),
            batch_max_rows=int(number("BATCH_MAX_ROWS", 256, minimum=1, maximum=65536, integer=True)),
            batch_max_delay_ms=number("BATCH_MAX_DELAY_MS", 0.0, minimum=0, maximum=1000, integer=False),
            inference_in_thread=flag("INFERENCE_IN_THREAD", False),
            intra_op_threads=int(number("ORT_INTRA_OP_THREADS", 1, minimum=0, maximum=256, integer=True)),
            execution_provider=provider,
            capture_destination=capture_destination,
            capture_sample_percent=number("CAPTURE_SAMPLE_PERCENT", 10.0, minimum=0, maximum=100, integer=False),
            capture_flush_records=int(number("CAPTURE_FLUSH_RECORDS", 500, minimum=1, maximum=100000, integer=True)),
            capture_flush_seconds=number("CAPTURE_FLUSH_SECONDS", 60.0, minimum=0.1, maximum=3600, integer=False),
            log_level=log_level,
        )
        if problems:
            raise SettingsError(problems)
        return settings
