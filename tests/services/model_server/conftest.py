"""Fixtures: real model artifacts built with skl2onnx, and the server in-process or as a process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.services.model_server.artifacts import breast_cancer, write_artifact
from tests.services.model_server.harness import InProcessServer

VERTEX_HEALTH = "/v1/endpoints/123/deployedModels/456"
VERTEX_PREDICT = "/v1/endpoints/123/deployedModels/456:predict"


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_artifact(tmp_path_factory.mktemp("artifact"), version="7")


@pytest.fixture(scope="session")
def string_label_artifact_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_artifact(tmp_path_factory.mktemp("artifact-zipmap"), version="2", string_labels=True)


@pytest.fixture(scope="session")
def samples() -> tuple[np.ndarray, np.ndarray, list[str]]:
    return breast_cancer()


@pytest.fixture(scope="module")
def app(artifact_dir: Path) -> Iterator[InProcessServer]:
    server = InProcessServer(
        {
            "MODEL_URI": str(artifact_dir),
            "AIP_HEALTH_ROUTE": VERTEX_HEALTH,
            "AIP_PREDICT_ROUTE": VERTEX_PREDICT,
            "MAX_REQUEST_BYTES": str(64 * 1024),
        }
    )
    yield server
    server.close()
