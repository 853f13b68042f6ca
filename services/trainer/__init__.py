"""Trainer for the platform's demo model.

``python -m services.trainer --out DIR`` (or :func:`train` from Python) fits a seeded
scikit-learn classifier on the bundled breast-cancer data, converts it to ONNX and writes the
model, its metadata contract and the baseline statistics used by the drift monitor and SageMaker
Model Monitor. See README.md for the directory layout.
"""

from services.trainer.training import DEFAULT_MODEL_NAME, train
from services.trainer.upload import UploadError, upload_artifacts

__all__ = ["DEFAULT_MODEL_NAME", "UploadError", "train", "upload_artifacts"]
