"""One model server for every serving contract.

The same process answers SageMaker (``/ping``, ``/invocations``), Vertex AI custom containers
(``AIP_*`` routes), Azure ML custom containers (liveness/readiness/scoring routes from the
environment) and KServe's Open Inference Protocol v2, serving an ONNX artifact written by
``services.trainer`` (``model.onnx`` + ``metadata.json``). See README.md in this folder.
"""

__version__ = "0.1.0"
