"""Prediction capture on Azure ML: sampled requests go to the deployment's data collector (`model_inputs` /
`model_outputs`), where Azure ML's model monitor reads them.

A managed online deployment with `dataCollector.collections.model_inputs` enabled runs a data-collector sidecar;
a custom container feeds it through Microsoft's `azureml-ai-monitoring` SDK (`Collector(name="model_inputs")
.collect(DataFrame)`, the "custom logging" mode of learn.microsoft.com/azure/machine-learning/concept-data-collection
and how-to-collect-production-data). The collector writes JSON Lines to the workspace's blob store under
`modelDataCollector/<endpoint>/<deployment>/<collection>/YYYY/MM/DD/HH/` and registers the data asset
`<endpoint>-<deployment>-model_inputs`, which the drift monitor's production data names
(components/azure/model_monitor.py). Payload logging (raw HTTP bodies) would need a custom preprocessing
component before the monitor could read it; named feature columns are what the drift signal compares with the
training baseline, so the server logs parsed feature rows.

`AzureCollectorSink` is a `CaptureSink` (services/model_server/capture.py) selected by
`CAPTURE_DESTINATION=azureml-mdc`: the server's own sampling and background queue stay in front of it, each
captured request is parsed with the same payload rules the server scored it with (`rows_from_body`), and becomes
one DataFrame with the model's feature names as columns; the outputs are collected with the same correlation
context so Azure ML can join them. The collector samples again at the deployment's `samplingRate`, so the stack
sets `CAPTURE_SAMPLE_PERCENT=100` on Azure. Collector errors are counted, never raised into serving.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson

from services.model_server.payloads import rows_from_body

DESTINATION = "azureml-mdc"
"""`CAPTURE_DESTINATION` value that selects the Azure ML data collector."""
INPUTS, OUTPUTS = "model_inputs", "model_outputs"
"""Collection names; the deployment's `dataCollector.collections` must enable the same names."""


def _body(captured: dict[str, str]) -> bytes:
    data = captured.get("data", "")
    return base64.b64decode(data) if captured.get("encoding") == "BASE64" else data.encode("utf-8")


def output_rows(captured: dict[str, str]) -> list[dict[str, Any]]:
    """One row per prediction: `label` and, for JSON answers, `probabilities`."""
    body = _body(captured)
    if captured.get("encoding") == "JSON":
        return [{"label": p.get("label"), "probabilities": p.get("probabilities")}
                for p in orjson.loads(body).get("predictions", [])]
    return [{"label": line} for line in body.decode("utf-8").splitlines() if line]


class AzureCollectorSink:
    """Hands captured requests to `azureml-ai-monitoring` collectors (or any object with `collect`)."""

    def __init__(self, feature_names: Sequence[str], inputs: Any = None, outputs: Any = None) -> None:
        self.feature_names = list(feature_names)
        self.errors = 0
        if inputs is None or outputs is None:
            from azureml.ai.monitoring import Collector  # only on Azure ML

            inputs = Collector(name=INPUTS, on_error=self._count)
            outputs = Collector(name=OUTPUTS, on_error=self._count)
        self.inputs, self.outputs = inputs, outputs

    def _count(self, _error: Exception) -> None:
        self.errors += 1

    def write(self, lines: list[bytes]) -> None:
        import pandas as pd

        for line in lines:
            record = orjson.loads(line)["captureData"]
            request = record["endpointInput"]
            rows = rows_from_body(_body(request), request.get("observedContentType") or None, self.feature_names)
            context = self.inputs.collect(pd.DataFrame(rows, columns=self.feature_names))
            self.outputs.collect(pd.DataFrame(output_rows(record["endpointOutput"])), context)

    def due(self, pending: int, seconds_since_write: float) -> bool:
        return pending > 0  # the collector queues and batches on its own
