"""The image definition, checked statically (no Docker engine here): what a reviewer would insist on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.services.dockerfile import COMPILERS, Stage, dockerignore, parse

SERVICE = Path(__file__).resolve().parents[3] / "services" / "model_server"


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(SERVICE / "Dockerfile")


def test_multi_stage_with_a_pinned_slim_python_base(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    for stage in stages:
        if stage.base in {s.name for s in stages}:
            continue
        reference, _, digest = stage.base.partition("@")
        image, _, tag = reference.partition(":")
        assert image == "python", stage.base
        assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?", tag), f"{stage.base}: pin an exact slim tag, not latest"
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{stage.base}: pin the base by digest (issue 11)"


def test_final_stage_runs_as_a_non_root_user(stages: list[Stage]) -> None:
    users = stages[-1].all("USER")
    assert users, "the runtime stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user.isdigit() and int(user) >= 1000  # numeric, so Kubernetes runAsNonRoot can verify it


def test_final_stage_has_a_healthcheck_on_ping(stages: list[Stage]) -> None:
    checks = stages[-1].all("HEALTHCHECK")
    assert len(checks) == 1
    assert "/ping" in checks[0] and "--timeout=" in checks[0]


def test_final_stage_has_no_build_tools(stages: list[Stage]) -> None:
    final = stages[-1]
    for keyword, args in final.instructions:
        assert not COMPILERS.search(args), f"{keyword} {args}"
        if keyword == "RUN":
            assert "apt-get install" not in args and "pip install" not in args, args
    copies_from_build = [a for a in final.all("COPY") if a.startswith("--from=")]
    assert copies_from_build == ["--from=build /opt/venv /opt/venv"]


def test_exposes_8080_and_serves_the_package(stages: list[Stage]) -> None:
    final = stages[-1]
    assert "8080" in " ".join(final.all("EXPOSE")).split()
    entrypoint = json.loads(final.all("ENTRYPOINT")[-1])
    assert entrypoint == ["python", "-m", "services.model_server"]  # exec form: SIGTERM reaches the server
    assert json.loads(final.all("CMD")[-1]) == ["serve"]  # what SageMaker passes anyway


def test_dependencies_come_only_from_the_pinned_requirements(stages: list[Stage]) -> None:
    installs = [a for s in stages for a in s.all("RUN") if "pip install" in a]
    assert len(installs) == 1
    assert "-r /tmp/requirements.txt" in installs[0]
    assert "--only-binary=:all:" in installs[0]  # wheels only: no compiler needed anywhere
    for line in (SERVICE / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line.strip()), line


def test_dockerignore_keeps_caches_and_artifacts_out_of_the_context() -> None:
    patterns = dockerignore(SERVICE / ".dockerignore")
    for expected in ("**/__pycache__", "*.onnx"):
        assert expected in patterns
