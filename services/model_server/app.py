"""The ASGI application: one router for every serving contract, with limits, logs and metrics.

Kept as a plain ASGI callable (no framework) because the per-request overhead is the server's
budget: routing is a dict lookup plus one regex for the V2 model routes, and every response,
including 404/405/413, is JSON written in one ``send``.
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST

from services.model_server import __version__, openinference
from services.model_server.access_log import JsonLog, request_id_from
from services.model_server.batching import MicroBatcher
from services.model_server.capture import DataCapture
from services.model_server.errors import RequestError
from services.model_server.metrics import ServerMetrics
from services.model_server.model import OnnxModel
from services.model_server.payloads import (
    CSV,
    JSON,
    JSON_TYPES,
    decode_body,
    media_type,
    predictions_csv,
    predictions_json,
    response_type,
    rows_from_body,
)
from services.model_server.settings import Settings

V2_MODEL_ROUTE = re.compile(r"^/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?(?P<action>/infer|/ready)?$")
SERVER_NAME = "mlops-model-server"


@dataclass(slots=True)
class Exchange:
    """One request in flight and what the handler decided to answer."""

    method: str
    path: str
    headers: dict[str, str]
    request_id: str
    route: str = "unmatched"
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    rows: int | None = None
    status: int = 200
    content_type: str = JSON
    response: bytes = b""
    error: str | None = None
    allow: str = ""
    extra_headers: tuple[tuple[bytes, bytes], ...] = ()


Handler = Callable[[Exchange], Awaitable[None]]


def _json(exchange: Exchange, document: Any, status: int = 200) -> None:
    exchange.status, exchange.content_type, exchange.response = status, JSON, orjson.dumps(document)


class ModelServer:
    """ASGI app serving ``model`` on the SageMaker, Vertex AI, Azure ML and V2 routes of ``settings``."""

    def __init__(
        self,
        settings: Settings,
        model: OnnxModel,
        *,
        log: JsonLog | None = None,
        capture: DataCapture | None = None,
    ) -> None:
        self.settings = settings
        self.model = model
        self.meta = model.metadata
        self.log = log or JsonLog(level=settings.log_level)
        self.metrics = ServerMetrics(model.metadata, model.provider)
        self.capture = capture
        if capture is not None:
            metrics = self.metrics
            capture.report_to(metrics.captured.inc, metrics.capture_dropped.inc, metrics.capture_failed.inc)
        self.batcher = MicroBatcher(
            model,
            max_rows=settings.batch_max_rows,
            max_delay_s=settings.batch_max_delay_ms / 1000.0,
            in_thread=settings.inference_in_thread,
            observer=self.metrics.observe_batch,
        )
        self._version_header = model.metadata.version.encode()
        self._grpc: Any = None  # grpc.aio server while GRPC_PORT is served
        self.routes: dict[str, dict[str, Handler]] = {}
        self._add("/", "GET", self.index)
        self._add("/ping", "GET", self.ready)  # SageMaker: 200 with an empty body
        self._add("/invocations", "POST", self.invocations)
        self._add("/execution-parameters", "GET", self.execution_parameters)  # SageMaker batch transform
        self._add("/metrics", "GET", self.render_metrics)
        self._add("/v2", "GET", self.v2_server)
        self._add("/v2/health/live", "GET", self.v2_live)
        self._add("/v2/health/ready", "GET", self.v2_ready)
        self._add("/v2/models", "GET", self.v2_models)
        self._add(settings.azure_liveness_route, "GET", self.live)
        self._add(settings.azure_readiness_route, "GET", self.ready_json)
        self._add(settings.azure_scoring_route, "POST", self.invocations)
        if settings.vertex_health_route:
            self._add(settings.vertex_health_route, "GET", self.ready_json)
        if settings.vertex_predict_route:
            self._add(settings.vertex_predict_route, "POST", self.vertex_predict)

    def _add(self, path: str, method: str, handler: Handler) -> None:
        self.routes.setdefault(path, {})[method] = handler

    # ---- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.log.start()
                if self.capture is not None:
                    self.capture.start()
                if self.settings.grpc_port:
                    from services.model_server import grpc_service  # its stubs load only when enabled

                    self._grpc = await grpc_service.start(self, self.settings.host, self.settings.grpc_port)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._grpc is not None:
                    await self._grpc.stop(grace=5.0)
                self.close()
                self.log.event("stopped", model_version=self.meta.version)
                self.log.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        """Flush capture and stop background threads."""
        if self.capture is not None:
            self.capture.close()
        self.batcher.close()

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}  # ASGI: names lowercase
        exchange = Exchange(
            method=scope["method"], path=scope["path"], headers=headers, request_id=request_id_from(headers)
        )
        try:
            handler = self._resolve(exchange)
            if exchange.method == "POST":
                exchange.body = await self._read_body(receive, headers)
                if "content-encoding" in headers:
                    exchange.body = decode_body(
                        exchange.body, headers["content-encoding"], self.settings.max_request_bytes
                    )
            await handler(exchange)
        except RequestError as exc:
            exchange.error = exc.message
            _json(exchange, {"error": exc.message}, exc.status)
        except Exception as exc:  # a bug, not bad input: answer 500 and log the traceback
            exchange.error = f"{type(exc).__name__}: {exc}"
            _json(exchange, {"error": "internal server error", "request_id": exchange.request_id}, 500)
            self.log.event(
                "unhandled_exception",
                "error",
                request_id=exchange.request_id,
                traceback=traceback.format_exc(),
            )
        response_headers = [
            (b"content-type", exchange.content_type.encode()),
            (b"content-length", str(len(exchange.response)).encode()),
            (b"x-request-id", exchange.request_id.encode("latin-1")),
            (b"x-model-version", self._version_header),
        ]
        if exchange.allow:
            response_headers.append((b"allow", exchange.allow.encode()))
        response_headers.extend(exchange.extra_headers)
        await send({"type": "http.response.start", "status": exchange.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": exchange.response})
        seconds = time.perf_counter() - started
        self.metrics.observe_request(exchange.route, exchange.method, exchange.status, seconds)
        self.log.request(
            request_id=exchange.request_id,
            method=exchange.method,
            route=exchange.route,
            path=exchange.path,
            status=exchange.status,
            model_version=self.meta.version,
            latency_ms=seconds * 1000.0,
            rows=exchange.rows,
            error=exchange.error,
        )

    def _resolve(self, exchange: Exchange) -> Handler:
        """The handler for this method and path, setting ``exchange.route``; 404/405 otherwise."""
        methods = self.routes.get(exchange.path)
        if methods is not None:
            exchange.route = exchange.path
        else:
            match = V2_MODEL_ROUTE.match(exchange.path)
            if match is None:
                raise RequestError(404, f"no route {exchange.path!r}; see GET / for the routes this server answers")
            action = match["action"] or ""
            exchange.params = {"name": match["name"], "version": match["version"] or ""}
            exchange.route = "/v2/models/{name}" + ("/versions/{version}" if match["version"] else "") + action
            methods = {"/infer": {"POST": self.v2_infer}, "/ready": {"GET": self.v2_model_ready}}.get(
                action, {"GET": self.v2_model_metadata}
            )
        handler = methods.get(exchange.method)
        if handler is None:
            exchange.allow = ", ".join(sorted(methods))
            raise RequestError(405, f"method {exchange.method} not allowed on {exchange.path}; use {exchange.allow}")
        return handler

    async def _read_body(self, receive: Any, headers: dict[str, str]) -> bytes:
        """The request body, refusing (413) anything over ``max_request_bytes`` before reading it all."""
        limit = self.settings.max_request_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise RequestError(413, f"request body of {int(declared)} bytes exceeds the {limit}-byte limit")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestError(400, "client disconnected before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise RequestError(413, f"request body exceeds the {limit}-byte limit")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # ---- shared prediction path -------------------------------------------------------------

    async def _predict_rows(self, exchange: Exchange, rows: Any) -> Any:
        exchange.rows = rows.shape[0]
        return await self.batcher.predict(rows)

    def _capture(self, exchange: Exchange, as_json: Callable[[], tuple[bytes, bytes]] | None = None) -> None:
        """Offer a sampled successful request to capture; ``as_json`` gives JSON bodies for binary ones."""
        if self.capture is None or exchange.status != 200 or not self.capture.sampled():
            return
        if as_json is None:
            body, body_type = exchange.body, exchange.headers.get("content-type") or JSON  # untyped: read as JSON
            answer, answer_type = exchange.response, exchange.content_type
        else:
            (body, answer), body_type, answer_type = as_json(), JSON, JSON
        self.capture.offer(
            body,
            body_type,
            answer,
            answer_type,
            exchange.request_id,
            exchange.headers.get("x-amzn-sagemaker-inference-id"),
        )

    # ---- handlers ---------------------------------------------------------------------------

    async def invocations(self, exchange: Exchange) -> None:
        """SageMaker ``/invocations`` and Azure ML scoring: JSON or CSV in, JSON or CSV out (Accept)."""
        answer_as = response_type(exchange.headers.get("accept"))
        rows = rows_from_body(exchange.body, exchange.headers.get("content-type"), self.meta.feature_names)
        predictions = await self._predict_rows(exchange, rows)
        if answer_as == CSV:
            exchange.content_type, exchange.response = CSV, predictions_csv(predictions)
        else:
            exchange.content_type, exchange.response = JSON, predictions_json(predictions)
        self._capture(exchange)

    async def vertex_predict(self, exchange: Exchange) -> None:
        """Vertex AI ``AIP_PREDICT_ROUTE``: ``{"instances": [...]}`` -> ``{"predictions": [...]}``."""
        kind = media_type(exchange.headers.get("content-type"))
        if kind and kind not in JSON_TYPES:
            raise RequestError(415, f"unsupported Content-Type {kind!r}; Vertex AI predict takes {JSON}")
        rows = rows_from_body(exchange.body, JSON, self.meta.feature_names)
        predictions = await self._predict_rows(exchange, rows)
        exchange.response = predictions_json(predictions)
        self._capture(exchange)

    async def ready(self, exchange: Exchange) -> None:
        """SageMaker ``/ping``: the model is loaded before the server listens, so always 200, empty body."""
        exchange.content_type, exchange.response = "text/plain", b""

    async def ready_json(self, exchange: Exchange) -> None:
        _json(exchange, {"ready": True, "model": self.meta.name, "version": self.meta.version})

    async def live(self, exchange: Exchange) -> None:
        _json(exchange, {"live": True})

    async def index(self, exchange: Exchange) -> None:
        _json(
            exchange,
            {
                "server": SERVER_NAME,
                "server_version": __version__,
                "model": {
                    "name": self.meta.name,
                    "version": self.meta.version,
                    "provider": self.model.provider,
                },
                "routes": {path: sorted(methods) for path, methods in sorted(self.routes.items())}
                | {
                    "/v2/models/{name}[/versions/{version}]": ["GET"],
                    "/v2/models/{name}[/versions/{version}]/ready": ["GET"],
                    "/v2/models/{name}[/versions/{version}]/infer": ["POST"],
                },
            },
        )

    async def execution_parameters(self, exchange: Exchange) -> None:
        _json(
            exchange,
            {
                "MaxConcurrentTransforms": 4,
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": max(1, self.settings.max_request_bytes // (1024 * 1024)),
            },
        )

    async def render_metrics(self, exchange: Exchange) -> None:
        exchange.content_type, exchange.response = CONTENT_TYPE_LATEST, self.metrics.render()

    async def v2_server(self, exchange: Exchange) -> None:
        _json(exchange, {"name": SERVER_NAME, "version": __version__, "extensions": list(openinference.EXTENSIONS)})

    async def v2_live(self, exchange: Exchange) -> None:
        _json(exchange, {"live": True})

    async def v2_ready(self, exchange: Exchange) -> None:
        _json(exchange, {"ready": True})

    async def v2_models(self, exchange: Exchange) -> None:
        _json(exchange, {"models": [{"name": self.meta.name, "version": self.meta.version, "state": "READY"}]})

    def _check_model(self, exchange: Exchange) -> None:
        name, version = exchange.params["name"], exchange.params["version"]
        if name != self.meta.name:
            raise RequestError(404, f"model {name!r} not found; this server serves {self.meta.name!r}")
        if version and version != self.meta.version:
            raise RequestError(
                404, f"model {name!r} has no version {version!r}; loaded version is {self.meta.version!r}"
            )

    async def v2_model_metadata(self, exchange: Exchange) -> None:
        self._check_model(exchange)
        _json(exchange, openinference.model_metadata(self.model))

    async def v2_model_ready(self, exchange: Exchange) -> None:
        self._check_model(exchange)
        _json(exchange, {"name": self.meta.name, "ready": True})

    async def v2_infer(self, exchange: Exchange) -> None:
        """Open Inference Protocol ``/infer``: JSON tensors, or the binary tensor data extension."""
        self._check_model(exchange)
        header_length = exchange.headers.get(openinference.HEADER_LENGTH)
        kind = media_type(exchange.headers.get("content-type"))
        if kind and kind not in JSON_TYPES and kind != openinference.BINARY_CONTENT_TYPE:
            raise RequestError(
                415,
                f"unsupported Content-Type {kind!r}; the V2 REST endpoint takes {JSON}, or the binary tensor "
                f"extension (JSON header + raw tensors, Inference-Header-Content-Length set)",
            )
        if kind == openinference.BINARY_CONTENT_TYPE and header_length is None:
            raise RequestError(
                400, f"{kind} body without an Inference-Header-Content-Length header giving the JSON header's length"
            )
        request = openinference.parse_request(exchange.body, self.model, header_length)
        predictions = await self._predict_rows(exchange, request.rows)
        exchange.response, json_length = openinference.response(self.model, predictions, request)
        if json_length is not None:
            exchange.content_type = openinference.BINARY_CONTENT_TYPE
            exchange.extra_headers = ((b"inference-header-content-length", str(json_length).encode()),)
        if request.binary_input or json_length is not None:
            self._capture(
                exchange,
                lambda: (
                    openinference.request_as_json(request, self.model),
                    openinference.response_as_json(self.model, predictions, request),
                ),
            )
        else:
            self._capture(exchange)
