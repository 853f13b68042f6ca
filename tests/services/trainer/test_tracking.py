"""MLflow: the CLI records a run with its parameters, metrics and artifacts; where runs go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.trainer import tracking

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_cli_logs_a_run_to_the_given_local_store(tmp_path: Path) -> None:
    store, out = tmp_path / "mlruns", tmp_path / "model"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.trainer",
            "--out",
            str(out),
            "--seed",
            "3",
            "--tracking-uri",
            str(store),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["out"] == str(out)

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(tracking.DEFAULT_EXPERIMENT)
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["seed"] == "3"
    assert run.data.params["model_version"] == summary["version"]
    assert run.data.metrics["test_accuracy"] == pytest.approx(summary["metrics"]["test_accuracy"])
    assert run.data.metrics["onnx_parity_max_abs_diff"] < 1e-4
    logged = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}
    assert {"model.onnx", "metadata.json", "baseline.csv", "statistics.json", "constraints.json"} <= logged


def test_environment_uri_is_used_when_no_option_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert tracking.resolve(None) == ("http://mlflow.internal:5000", None)


def test_option_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert tracking.resolve("databricks")[0] == "databricks"


def test_default_is_a_local_store_under_mlruns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    uri, artifacts = tracking.resolve(None)
    assert uri == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert artifacts == (tmp_path / "mlruns" / "artifacts").as_uri()


def test_unreachable_tracking_server_exits_1_after_writing_the_artifacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.trainer.cli import main
    from tests.services.ports import free_port

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["--out", str(tmp_path / "m"), "--tracking-uri", closed]) == 1
    err = capsys.readouterr().err
    assert f"artifacts written to {tmp_path / 'm'}, but logging the run failed: MLflow at {closed}" in err
    assert (tmp_path / "m" / "model.onnx").is_file()
