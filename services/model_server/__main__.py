"""Run the model server: ``MODEL_URI=<dir> PORT=<port> python -m services.model_server [serve]``.

SageMaker starts containers as ``docker run IMAGE serve``, so a lone ``serve`` argument is accepted
(and is the image's default command). Exit codes: 0 after a clean shutdown (SIGTERM), 2 when the
configuration or the artifact is unusable, 3 when the HTTP or gRPC port is already in use; the
reason is printed as one JSON ``startup_failed`` line before exiting.
"""

from __future__ import annotations

import errno
import importlib.util
import socket
import sys

from services.model_server.access_log import JsonLog
from services.model_server.app import ModelServer
from services.model_server.artifact import ArtifactError, fetch, redact
from services.model_server.capture import DataCapture
from services.model_server.model import OnnxModel
from services.model_server.settings import Settings, SettingsError
from services.model_server.sinks import open_sink

EXIT_CONFIG = 2
EXIT_PORT_IN_USE = 3
USAGE = "usage: python -m services.model_server [serve]   (configured by environment variables; see README.md)"


def build(settings: Settings, log: JsonLog) -> ModelServer:
    """Fetch and load the artifact, wire capture, and return the ASGI app (raises ArtifactError)."""
    directory = fetch(settings.model_uri, settings.model_cache_dir)
    model = OnnxModel.load(directory, provider=settings.execution_provider, intra_op_threads=settings.intra_op_threads)
    capture = None
    if settings.capture_destination and settings.capture_sample_percent > 0:
        sink = open_sink(settings.capture_destination, settings.capture_flush_records, settings.capture_flush_seconds,
                         model.metadata.feature_names)
        capture = DataCapture(sink, settings.capture_sample_percent)
    log.event(
        "model_loaded",
        model_name=model.metadata.name,
        model_version=model.metadata.version,
        source=redact(settings.model_uri),
        directory=str(directory),
        execution_provider=model.provider,
        features=model.n_features,
        capture=settings.capture_destination and redact(settings.capture_destination),
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
        return EXIT_CONFIG
    except ArtifactError as exc:
        log.event("startup_failed", "error", problems=str(exc).splitlines())
        return EXIT_CONFIG
    try:
        sock = bind(settings.host, settings.port, "PORT")
        if settings.grpc_port:
            bind(settings.host, settings.grpc_port, "GRPC_PORT").close()  # grpc binds it itself at startup
    except PortInUse as exc:
        log.event("startup_failed", "error", problems=[str(exc)])
        return EXIT_PORT_IN_USE

    import gc

    import uvicorn

    gc.freeze()  # the model, routes and metrics live for the whole process: keep them out of GC scans
    log.event("listening", host=settings.host, port=settings.port, grpc_port=settings.grpc_port)
    config = uvicorn.Config(
        app,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        lifespan="on",
        access_log=False,  # our own JSON line per request replaces uvicorn's access log
        log_config=None,
        log_level="warning",
        timeout_graceful_shutdown=25,  # SageMaker sends SIGKILL 30 s after SIGTERM
    )
    uvicorn.Server(config).run(sockets=[sock])  # the socket bound above: no second bind to fail later
    return 0


class PortInUse(OSError):
    """The port is taken; the message names the variable to change."""


def bind(host: str, port: int, variable: str) -> socket.socket:
    """A listening TCP socket on ``host:port`` (as uvicorn would bind it), or ``PortInUse``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"{variable}={port}: port {port} on {host} is already in use; stop the process holding it "
                f"or set {variable} to a free port"
            ) from None
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


if __name__ == "__main__":
    sys.exit(main())
