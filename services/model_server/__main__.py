"""Run the model server: ``MODEL_URI=<dir> PORT=<port> python -m services.model_server [serve]``.

SageMaker starts containers as ``docker run IMAGE serve``, so a lone ``serve`` argument is accepted
(and is the image's default command). Exit code 2 means the configuration or the artifact is
unusable; the reason is printed as JSON log lines before exiting.
"""

from __future__ import annotations

import importlib.util
import sys

from services.model_server.access_log import JsonLog
from services.model_server.app import ModelServer
from services.model_server.artifact import ArtifactError, fetch
from services.model_server.capture import DataCapture, open_sink
from services.model_server.model import OnnxModel
from services.model_server.settings import Settings, SettingsError

USAGE = "usage: python -m services.model_server [serve]   (configured by environment variables; see README.md)"


def build(settings: Settings, log: JsonLog) -> ModelServer:
    """Fetch and load the artifact, wire capture, and return the ASGI app (raises ArtifactError)."""
    directory = fetch(settings.model_uri, settings.model_cache_dir)
    model = OnnxModel.load(directory, provider=settings.execution_provider, intra_op_threads=settings.intra_op_threads)
    capture = None
    if settings.capture_destination and settings.capture_sample_percent > 0:
        sink = open_sink(settings.capture_destination, settings.capture_flush_records, settings.capture_flush_seconds)
        capture = DataCapture(sink, settings.capture_sample_percent)
    log.event(
        "model_loaded",
        model_name=model.metadata.name,
        model_version=model.metadata.version,
        source=settings.model_uri,
        directory=str(directory),
        execution_provider=model.provider,
        features=model.n_features,
        capture=settings.capture_destination,
    )
    return ModelServer(settings, model, log=log, capture=capture)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["serve"]):
        print(USAGE, file=sys.stderr)
        return 2
    log = JsonLog()
    try:
        settings = Settings.from_env()
        log = JsonLog(level=settings.log_level)
        app = build(settings, log)
    except SettingsError as exc:
        log.event("startup_failed", "error", problems=exc.problems)
        return 2
    except ArtifactError as exc:
        log.event("startup_failed", "error", problems=str(exc).splitlines())
        return 2

    import gc

    import uvicorn

    gc.freeze()  # the model, routes and metrics live for the whole process: keep them out of GC scans
    log.event("listening", host=settings.host, port=settings.port, grpc_port=settings.grpc_port)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        lifespan="on",
        access_log=False,  # our own JSON line per request replaces uvicorn's access log
        log_config=None,
        log_level="warning",
        timeout_graceful_shutdown=25,  # SageMaker sends SIGKILL 30 s after SIGTERM
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
