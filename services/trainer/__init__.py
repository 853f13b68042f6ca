"""Trainer for the platform's demo model.

``python -m services.trainer --out DIR`` (or :func:`train` from Python) fits a seeded
scikit-learn classifier on the bundled breast-cancer data, converts it to ONNX and writes the
model, its metadata contract and the baseline statistics used by the drift monitor and SageMaker
Model Monitor. See README.md for the directory layout.
"""

from services.trainer.package import pack_model
from services.trainer.training import DEFAULT_MODEL_NAME, train
from services.trainer.upload import Destination, UploadError, destination, upload_artifacts

__all__ = [
    "DEFAULT_MODEL_NAME",
    "Destination",
    "UploadError",
    "destination",
    "pack_model",
    "train",
    "upload_artifacts",
]
