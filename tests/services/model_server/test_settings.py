"""Configuration from the environment: defaults, platform variables, and errors reported together."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from services.model_server.settings import DEFAULT_MAX_REQUEST_BYTES, Settings, SettingsError
from tests.services.model_server.harness import REPO_ROOT
from tests.services.ports import free_port


def test_defaults_need_only_a_model_location() -> None:
    settings = Settings.from_env({"MODEL_URI": "/models/x"})
    assert settings.port == 8080
    assert settings.host == "0.0.0.0"
    assert settings.max_request_bytes == DEFAULT_MAX_REQUEST_BYTES == 6 * 1024 * 1024
    assert (settings.azure_liveness_route, settings.azure_readiness_route, settings.azure_scoring_route) == (
        "/live",
        "/ready",
        "/score",
    )
    assert settings.vertex_predict_route is None
    assert settings.capture_destination is None


def test_vertex_variables_configure_port_routes_and_model() -> None:
    settings = Settings.from_env(
        {
            "AIP_HTTP_PORT": "7080",
            "AIP_HEALTH_ROUTE": "/v1/endpoints/1/deployedModels/2",
            "AIP_PREDICT_ROUTE": "/v1/endpoints/1/deployedModels/2:predict",
            "AIP_STORAGE_URI": "gs://b/m",
        }
    )
    assert settings.port == 7080
    assert settings.model_uri == "gs://b/m"
    assert settings.vertex_predict_route.endswith(":predict")


def test_explicit_settings_win_over_platform_ones() -> None:
    settings = Settings.from_env(
        {"PORT": "9000", "AIP_HTTP_PORT": "7080", "MODEL_URI": "/a", "AZUREML_MODEL_DIR": "/b"}
    )
    assert (settings.port, settings.model_uri) == (9000, "/a")
    assert Settings.from_env({"AZUREML_MODEL_DIR": "/var/azureml-app/models"}).model_uri.startswith("/var")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "PORT": "http",
                "MAX_REQUEST_BYTES": "12",
                "AZUREML_SCORING_ROUTE": "score",
                "EXECUTION_PROVIDER": "tpu",
                "CAPTURE_DESTINATION": "ftp://host/capture",
                "CAPTURE_SAMPLE_PERCENT": "150",
                "INFERENCE_IN_THREAD": "maybe",
            }
        )
    problems = "\n".join(caught.value.problems)
    for words in (
        "no model location",
        "PORT='http'",
        "MAX_REQUEST_BYTES",
        "must start with '/'",
        "EXECUTION_PROVIDER",
        "CAPTURE_DESTINATION",
        "CAPTURE_SAMPLE_PERCENT",
        "INFERENCE_IN_THREAD",
    ):
        assert words in problems
    assert len(caught.value.problems) == 8


def run_server(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.model_server", *args],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_configuration_exits_2_with_a_json_reason(tmp_path: Path) -> None:
    result = run_server({"MODEL_URI": str(tmp_path / "nothing-here"), "PORT": "1"})
    assert result.returncode == 2
    assert '"event":"startup_failed"' in result.stdout
    assert "not a directory" in result.stdout


def test_unknown_arguments_print_usage() -> None:
    result = run_server({}, "train")
    assert result.returncode == 2
    assert "usage: python -m services.model_server [serve]" in result.stderr


def test_grpc_is_off_by_default_and_needs_its_own_port() -> None:
    assert Settings.from_env({"MODEL_URI": "/m"}).grpc_port is None
    assert Settings.from_env({"MODEL_URI": "/m", "GRPC_PORT": "8081"}).grpc_port == 8081
    with pytest.raises(SettingsError) as clash:
        Settings.from_env({"MODEL_URI": "/m", "PORT": "9000", "GRPC_PORT": "9000"})
    assert clash.value.problems == ["GRPC_PORT=9000: the HTTP server already listens there (PORT)"]
    with pytest.raises(SettingsError) as bad:
        Settings.from_env({"MODEL_URI": "/m", "GRPC_PORT": "grpc"})
    assert bad.value.problems[0].startswith("GRPC_PORT='grpc': expected an integer")


@pytest.mark.parametrize("variable", ["PORT", "GRPC_PORT"])
def test_port_in_use_is_one_clear_line_and_exit_3(artifact_dir: Path, variable: str) -> None:
    """Before: "listening" was logged, then uvicorn's own "[Errno 98] address already in use" and exit 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"MODEL_URI": str(artifact_dir), "HOST": "127.0.0.1", "PORT": str(free_port()), variable: str(port)}
        result = run_server(env)
    assert result.returncode == 3
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["event"] for line in lines] == ["model_loaded", "startup_failed"]
    assert lines[-1]["problems"] == [
        f"{variable}={port}: port {port} on 127.0.0.1 is already in use; stop the process holding it "
        f"or set {variable} to a free port"
    ]
    assert result.stderr == ""
