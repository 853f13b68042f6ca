"""Open Inference Protocol v2 over gRPC (KServe's ``grpc_predict_v2.proto``), beside the HTTP routes.

Enabled by ``GRPC_PORT``. The service runs on the HTTP server's event loop (``grpc.aio``) and
shares everything with it: the model, the micro-batcher (gRPC and HTTP requests join the same
ONNX Runtime calls), metrics (route ``/inference.GRPCInferenceService/<Method>``, method ``GRPC``,
status the HTTP code the gRPC status maps to, so the shared alert rules read both), the JSON
access log and prediction capture (a request is captured as the equivalent JSON V2 body).
Tensor validation is ``tensors``'s, so a tensor refused over HTTP is refused here with the same
message. This module imports the generated stubs, so it is imported only when gRPC is enabled.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import grpc

from services.model_server import __version__, openinference, tensors
from services.model_server import grpc_predict_v2_pb2 as pb
from services.model_server import grpc_predict_v2_pb2_grpc as pb_grpc
from services.model_server.access_log import REQUEST_ID_HEADERS, new_request_id
from services.model_server.errors import RequestError, bad_request
from services.model_server.payloads import JSON

if TYPE_CHECKING:
    from services.model_server.app import ModelServer

ROUTE = "/inference.GRPCInferenceService/"
# HTTP status of a request error -> gRPC status (the mapping gRPC documents for HTTP gateways).
GRPC_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
}
CONTENTS = {  # datatype -> InferTensorContents field holding its typed values
    "FP16": "fp32_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
}


class InferenceService(pb_grpc.GRPCInferenceServiceServicer):
    """The six RPCs of the protocol, answered from the HTTP app's model, batcher, metrics and capture."""

    def __init__(self, app: ModelServer) -> None:
        self.app = app
        self.model = app.model
        self.meta = app.meta

    async def _answer(self, method: str, context: grpc.aio.ServicerContext, work: Any) -> Any:
        """Run ``work()``; turn a ``RequestError`` into a gRPC status; record metrics and the log line."""
        started = time.perf_counter()
        metadata = dict(context.invocation_metadata() or ())
        request_id = next((metadata[h] for h in REQUEST_ID_HEADERS if metadata.get(h)), None) or new_request_id()
        status, error, rows, reply = 200, None, None, None
        try:
            reply, rows = await work(request_id)
        except RequestError as exc:
            status, error = exc.status, exc.message
            context.set_code(GRPC_CODES.get(exc.status, grpc.StatusCode.INVALID_ARGUMENT))
            context.set_details(exc.message)
        except Exception as exc:  # a bug, not bad input
            status, error = 500, f"{type(exc).__name__}: {exc}"
            context.set_code(grpc.StatusCode.INTERNAL)
            context.set_details(f"internal server error (request id {request_id})")
        seconds = time.perf_counter() - started
        route = ROUTE + method
        self.app.metrics.observe_request(route, "GRPC", status, seconds)
        self.app.log.request(
            request_id=request_id,
            method="GRPC",
            route=route,
            path=route,
            status=status,
            model_version=self.meta.version,
            latency_ms=seconds * 1000.0,
            rows=rows,
            error=error,
        )
        return reply

    def _check_model(self, name: str, version: str) -> None:
        if name != self.meta.name:
            raise RequestError(404, f"model {name!r} not found; this server serves {self.meta.name!r}")
        if version and version != self.meta.version:
            raise RequestError(
                404, f"model {name!r} has no version {version!r}; loaded version is {self.meta.version!r}"
            )

    async def ServerLive(self, request: Any, context: Any) -> Any:  # method names are the protocol's
        async def work(_: str) -> Any:
            return pb.ServerLiveResponse(live=True), None

        return await self._answer("ServerLive", context, work)

    async def ServerReady(self, request: Any, context: Any) -> Any:
        async def work(_: str) -> Any:
            return pb.ServerReadyResponse(ready=True), None

        return await self._answer("ServerReady", context, work)

    async def ModelReady(self, request: Any, context: Any) -> Any:
        async def work(_: str) -> Any:
            self._check_model(request.name, request.version)
            return pb.ModelReadyResponse(ready=True), None

        return await self._answer("ModelReady", context, work)

    async def ServerMetadata(self, request: Any, context: Any) -> Any:
        async def work(_: str) -> Any:
            reply = pb.ServerMetadataResponse(name="mlops-model-server", version=__version__)
            reply.extensions.extend(openinference.EXTENSIONS)
            return reply, None

        return await self._answer("ServerMetadata", context, work)

    async def ModelMetadata(self, request: Any, context: Any) -> Any:
        async def work(_: str) -> Any:
            self._check_model(request.name, request.version)
            document = openinference.model_metadata(self.model)
            reply = pb.ModelMetadataResponse(
                name=document["name"], versions=document["versions"], platform=document["platform"]
            )
            for field in ("inputs", "outputs"):
                getattr(reply, field).extend(pb.ModelMetadataResponse.TensorMetadata(**t) for t in document[field])
            return reply, None

        return await self._answer("ModelMetadata", context, work)

    async def ModelInfer(self, request: Any, context: Any) -> Any:
        async def work(request_id: str) -> Any:
            self._check_model(request.model_name, request.model_version)
            infer = self._parse(request)
            predictions = await self.app.batcher.predict(infer.rows)
            reply = pb.ModelInferResponse(model_name=self.meta.name, model_version=self.meta.version, id=request.id)
            for name, _ in infer.outputs:
                datatype, shape, values = openinference.output_values(self.model, predictions, name)
                reply.outputs.add(name=name, datatype=datatype, shape=shape)
                reply.raw_output_contents.append(tensors.raw_bytes(values, datatype))
            capture = self.app.capture
            if capture is not None and capture.sampled():
                capture.offer(
                    openinference.request_as_json(infer, self.model),
                    JSON,
                    openinference.response_as_json(self.model, predictions, infer),
                    JSON,
                    request_id,
                    None,
                )
            return reply, infer.rows.shape[0]

        return await self._answer("ModelInfer", context, work)

    def _parse(self, request: Any) -> openinference.InferRequest:
        """Validate a ``ModelInferRequest`` with the same rules (and messages) as the REST endpoint."""
        meta = self.meta
        if len(request.inputs) != 1:
            raise bad_request(f"this model takes exactly one input tensor, {meta.input_name!r}")
        tensor = request.inputs[0]
        datatype = tensor.datatype
        shape = tensors.check_input(tensor.name, datatype, list(tensor.shape), meta.input_name, self.model.n_features)
        if request.raw_input_contents:
            if len(request.raw_input_contents) != 1:
                raise bad_request(f"raw_input_contents has {len(request.raw_input_contents)} entries for 1 input")
            if tensor.HasField("contents"):
                raise bad_request("input has both contents and raw_input_contents; send one of them")
            rows = tensors.rows_from_raw(request.raw_input_contents[0], datatype, shape, meta.feature_names)
        else:
            values = list(getattr(tensor.contents, CONTENTS[datatype]))
            rows = tensors.rows_from_data(values, datatype, shape, meta.feature_names)
        known = [self.model.label_output, self.model.probability_output]
        names = [o.name for o in request.outputs] or known
        unknown = [n for n in names if n not in known]
        if unknown:
            raise bad_request(f"unknown requested outputs {unknown}; this model produces {known}")
        request_id = request.id or None
        return openinference.InferRequest(rows, request_id, [(n, True) for n in names], datatype, binary_input=True)


async def start(app: ModelServer, host: str, port: int) -> grpc.aio.Server:
    """Serve the protocol on ``host:port`` (plaintext, like the HTTP port) on the running event loop."""
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", app.settings.max_request_bytes)])
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(InferenceService(app), server)
    server.add_insecure_port(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")  # IPv6 hosts in brackets
    await server.start()
    return server
