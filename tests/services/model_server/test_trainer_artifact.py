"""The real trainer's artifact is served as-is: the trainer/server contract holds end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.services.model_server.harness import REPO_ROOT, ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trainer_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO_ROOT / "services" / "trainer" / "__main__.py").exists():
        pytest.skip("services.trainer is not in this checkout")
    out = tmp_path_factory.mktemp("trained") / "artifact"
    result = subprocess.run(
        [sys.executable, "-m", "services.trainer", "--out", str(out), "--no-mlflow"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_trainer_output_is_served_with_its_version(trainer_artifact: Path, samples, tmp_path: Path) -> None:
    metadata = json.loads((trainer_artifact / "metadata.json").read_text())
    server = ServerProcess({"MODEL_URI": str(trainer_artifact)}, tmp_path / "server.log").wait_ready()
    try:
        x, y, names = samples
        assert names == metadata["feature_names"]
        reply = server.client.post("/invocations", json={"instances": x[:100].astype(float).tolist()})
        assert reply.status_code == 200
        assert reply.headers["x-model-version"] == metadata["version"]
        labels = np.array([p["label"] for p in reply.json()["predictions"]])
        assert (labels == y[:100]).mean() > 0.9
        meta = server.client.get(f"/v2/models/{metadata['name']}").json()
        assert meta["inputs"][0]["name"] == metadata["input_name"]
    finally:
        server.stop()
