"""ONNX Runtime inference of a classification artifact.

The model is loaded once at start; ``predict`` takes a validated ``(rows, features)`` array and
returns class labels and class probabilities in the order of ``metadata.class_labels``. The CUDA
execution provider is used when ONNX Runtime offers it (a GPU build on a GPU host), CPU otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from services.model_server.artifact import MODEL_FILE, ArtifactError, ModelMetadata

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
_NUMPY_FOR_ONNX = {"tensor(float)": np.float32, "tensor(double)": np.float64}


def _is_probability(onnx_type: str) -> bool:
    """A float tensor, or skl2onnx's ZipMap ``seq(map(...))`` of class probabilities."""
    return onnx_type in {"tensor(float)", "tensor(double)"} or onnx_type.startswith("seq(map")


def choose_providers(preference: str, available: list[str]) -> list[str]:
    """Execution providers in priority order for ``preference`` (auto/cpu/cuda) given what ORT offers."""
    if preference == "cpu":
        return [CPU]
    if CUDA in available:
        return [CUDA, CPU]
    if preference == "cuda":
        raise ArtifactError(f"EXECUTION_PROVIDER=cuda but ONNX Runtime offers only {available}")
    return [CPU]


@dataclass(slots=True)
class Predictions:
    """Model output for a batch: one label and one probability row per input row (not mutated after)."""

    labels: list[Any]
    probabilities: np.ndarray
    """``(rows, classes)`` float32, columns ordered like ``metadata.class_labels``."""

    def __len__(self) -> int:
        return len(self.labels)


class OnnxModel:
    """A loaded artifact: metadata plus an ONNX Runtime session bound to its execution provider."""

    def __init__(self, metadata: ModelMetadata, session: ort.InferenceSession) -> None:
        self.metadata = metadata
        self.session = session
        self.provider = session.get_providers()[0]
        inputs = {i.name: i for i in session.get_inputs()}
        if metadata.input_name not in inputs:
            raise ArtifactError(f"metadata input_name {metadata.input_name!r} is not a model input ({sorted(inputs)})")
        model_input = inputs[metadata.input_name]
        if model_input.type not in _NUMPY_FOR_ONNX:
            raise ArtifactError(
                f"model input {model_input.name!r} has type {model_input.type}; expected float or double"
            )
        self.input_dtype = _NUMPY_FOR_ONNX[model_input.type]
        width = model_input.shape[-1] if model_input.shape else None
        if isinstance(width, int) and width != len(metadata.feature_names):
            raise ArtifactError(
                f"model input takes {width} features but metadata lists {len(metadata.feature_names)} feature_names"
            )
        outputs = {o.name: o for o in session.get_outputs()}
        missing = [name for name in metadata.output_names if name not in outputs]
        if missing:
            raise ArtifactError(f"metadata output_names {missing} are not model outputs ({sorted(outputs)})")
        declared = {key: metadata.extra.get(key) for key in ("label_output", "probability_output")}
        for key, name in declared.items():  # the trainer may name the outputs explicitly
            if name is not None and name not in outputs:
                raise ArtifactError(f"metadata {key} {name!r} is not a model output ({sorted(outputs)})")
        self._probability_output = declared["probability_output"] or next(
            (n for n in metadata.output_names if _is_probability(outputs[n].type)), None
        )
        self._label_output = declared["label_output"] or next(
            (n for n in metadata.output_names if outputs[n].type in {"tensor(int64)", "tensor(string)"}), None
        )
        if self._probability_output is None and self._label_output is None:
            raise ArtifactError(f"no label or probability output among {list(metadata.output_names)}")
        self._labels = np.asarray(metadata.class_labels, dtype=object)
        self._input_name = metadata.input_name
        # Labels are the argmax of the probabilities when the model has them: ask ORT for that output only.
        self._run_outputs = [self._probability_output or self._label_output]
        self.predict(np.zeros((1, len(metadata.feature_names)), dtype=self.input_dtype))  # fail at start, not later

    @classmethod
    def load(cls, directory: Path, *, provider: str = "auto", intra_op_threads: int = 1) -> OnnxModel:
        """Load ``model.onnx`` and ``metadata.json`` from ``directory``."""
        metadata = ModelMetadata.load(directory)
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = choose_providers(provider, ort.get_available_providers())
        try:
            session = ort.InferenceSession(str(directory / MODEL_FILE), sess_options=options, providers=providers)
        except Exception as exc:  # ORT raises its own exception types for corrupt or unsupported graphs
            raise ArtifactError(f"{directory / MODEL_FILE}: ONNX Runtime cannot load it: {exc}") from exc
        return cls(metadata, session)

    @property
    def label_output(self) -> str:
        """Name under which predicted labels are reported (the model's label output, else ``label``)."""
        return self._label_output or "label"

    @property
    def probability_output(self) -> str:
        """Name under which class probabilities are reported (the model's output, else ``probabilities``)."""
        return self._probability_output or "probabilities"

    @property
    def n_features(self) -> int:
        """How many feature columns each input row must have."""
        return len(self.metadata.feature_names)

    def predict(self, rows: np.ndarray) -> Predictions:
        """Labels and probabilities for ``rows`` (``(n, n_features)``, already validated finite)."""
        (raw,) = self.session.run(self._run_outputs, {self._input_name: rows.astype(self.input_dtype, copy=False)})
        probabilities: np.ndarray | None = None
        if self._probability_output is not None:
            if isinstance(raw, list):  # skl2onnx ZipMap: one {class: probability} dict per row
                probabilities = np.array(
                    [[row[label] for label in self.metadata.class_labels] for row in raw], dtype=np.float32
                )
            else:
                probabilities = np.asarray(raw, dtype=np.float32)
        if probabilities is not None:
            class_labels = self.metadata.class_labels
            labels = [class_labels[i] for i in np.argmax(probabilities, axis=1).tolist()]
        else:
            labels = np.asarray(raw).tolist()
            probabilities = np.zeros((len(labels), len(self._labels)), dtype=np.float32)
            for i, label in enumerate(labels):
                probabilities[i, self.metadata.class_labels.index(label)] = 1.0
        return Predictions(labels=labels, probabilities=probabilities)
