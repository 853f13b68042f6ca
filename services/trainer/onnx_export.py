"""Convert the fitted pipeline to ONNX, describe its signature, and check it predicts like sklearn."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

INPUT_NAME = "input"
LABEL_OUTPUT = "label"
PROBABILITY_OUTPUT = "probabilities"
# Pinned so the file runs on any ONNX Runtime from 1.14 on and the bytes do not move when skl2onnx
# raises its default opset.
TARGET_OPSET: dict[str, int] = {"": 17, "ai.onnx.ml": 3}
# Largest |p_onnx - p_sklearn| accepted before the artifact is refused (float32 vs float64 maths).
PARITY_TOLERANCE = 1e-4


class ParityError(RuntimeError):
    """The ONNX model disagrees with the scikit-learn model it was converted from."""


def to_onnx(pipeline: Pipeline, n_features: int, graph_name: str) -> onnx.ModelProto:
    """Convert ``pipeline`` to an ONNX model with one float32 input and plain tensor outputs.

    ``zipmap`` is off so probabilities come out as a ``[batch, classes]`` tensor, which every
    runtime and the model server can read without a sequence-of-maps decoder. The graph name is
    fixed because skl2onnx otherwise puts a random UUID there (and the bytes would never repeat).
    """
    model = convert_sklearn(
        pipeline,
        name=graph_name,
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        options={LogisticRegression: {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    onnx.checker.check_model(model)
    return model


def _tensor_spec(value_info: onnx.ValueInfoProto) -> dict[str, Any]:
    tensor = value_info.type.tensor_type
    shape = [dim.dim_value if dim.HasField("dim_value") else None for dim in tensor.shape.dim]
    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)).name
    return {"name": value_info.name, "dtype": dtype, "shape": shape}


def signature(model: onnx.ModelProto) -> dict[str, list[dict[str, Any]]]:
    """Inputs and outputs as ``{"name", "dtype", "shape"}`` (``None`` marks a dynamic dimension)."""
    return {
        "inputs": [_tensor_spec(item) for item in model.graph.input],
        "outputs": [_tensor_spec(item) for item in model.graph.output],
    }


def opsets(model: onnx.ModelProto) -> dict[str, int]:
    """The operator-set versions the model imports (``ai.onnx`` for the default domain)."""
    return dict(sorted((entry.domain or "ai.onnx", int(entry.version)) for entry in model.opset_import))


def check_parity(model_bytes: bytes, pipeline: Pipeline, x: np.ndarray) -> float:
    """Run the ONNX model on ``x`` with ONNX Runtime and compare with ``pipeline``.

    Returns the largest absolute probability difference; raises ParityError if it exceeds
    PARITY_TOLERANCE or any predicted label differs.
    """
    import onnxruntime  # imported here: only the parity check needs the runtime

    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    labels, probabilities = session.run([LABEL_OUTPUT, PROBABILITY_OUTPUT], {INPUT_NAME: x.astype(np.float32)})
    expected = pipeline.predict_proba(x.astype(np.float32))
    worst = float(np.max(np.abs(probabilities - expected)))
    if worst > PARITY_TOLERANCE or not np.array_equal(labels, pipeline.predict(x.astype(np.float32))):
        raise ParityError(
            f"ONNX model disagrees with scikit-learn (max |dp| = {worst:.2e}, tolerance "
            f"{PARITY_TOLERANCE:.0e}); refusing to write the artifact"
        )
    return worst
