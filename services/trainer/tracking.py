"""Log a training run to MLflow: parameters, metrics, tags and the artifact directory.

Where runs go, in order of precedence:

1. ``tracking_uri`` given explicitly (``--tracking-uri``): a URI (``http://``, ``sqlite:///``,
   ``databricks``...) is used as is; a plain directory path becomes a local store in that folder.
2. ``MLFLOW_TRACKING_URI`` in the environment.
3. ``./mlruns``: a local store (``mlruns/mlflow.db`` for runs, ``mlruns/artifacts`` for files).

A local store is an SQLite database, MLflow's recommended local backend (its file store is
deprecated and refuses to start without an opt-in).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_LOCAL_STORE = Path("mlruns")
DEFAULT_EXPERIMENT = "mlops-platform-demo"


class TrackingError(RuntimeError):
    """MLflow could not record the run (server unreachable, bad URI, permissions...)."""


def _is_uri(value: str) -> bool:
    return "://" in value or value in {"databricks", "databricks-uc"}


def resolve(tracking_uri: str | None) -> tuple[str, str | None]:
    """Return ``(tracking URI, artifact location for new experiments or None)``."""
    chosen = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or str(DEFAULT_LOCAL_STORE)
    if _is_uri(chosen):
        return chosen, None
    folder = Path(chosen).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}", (folder / "artifacts").as_uri()


def log_run(
    *,
    tracking_uri: str | None,
    experiment: str,
    run_name: str,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    artifact_dir: Path,
) -> str:
    """Record one run and upload ``artifact_dir``'s files as its artifacts; return the run id."""
    import mlflow  # imported here: mlflow is slow to import and only this step needs it

    uri, artifact_location = resolve(tracking_uri)
    try:
        client = mlflow.MlflowClient(tracking_uri=uri)
        found = client.get_experiment_by_name(experiment)
        experiment_id = (
            found.experiment_id
            if found is not None
            else client.create_experiment(experiment, artifact_location=artifact_location)
        )
        run_id = client.create_run(experiment_id, run_name=run_name, tags=tags).info.run_id
    except Exception as exc:  # MLflow raises many types (MlflowException, requests, sqlalchemy)
        raise TrackingError(f"MLflow at {uri}: {type(exc).__name__}: {exc}") from exc
    try:
        for key, value in params.items():
            client.log_param(run_id, key, value)
        for key, value in metrics.items():
            client.log_metric(run_id, key, value)
        client.log_artifacts(run_id, str(artifact_dir))
    except Exception as exc:
        client.set_terminated(run_id, status="FAILED")
        raise TrackingError(f"MLflow run {run_id} at {uri}: {type(exc).__name__}: {exc}") from exc
    client.set_terminated(run_id, status="FINISHED")
    return run_id
