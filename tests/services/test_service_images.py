"""The trainer's and the drift monitor's job images, checked statically like the model server's.

Both run as jobs on every target (the drift monitor on a schedule), so beside the model server's
rules (multi-stage, wheels only from pinned requirements, no compilers at runtime, non-root numeric
user) they exit with the CLI's own code: exec-form entrypoint, no HTTP port, no health check.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.services.dockerfile import COMPILERS, Stage, dockerignore, external_bases, parse

SERVICES = Path(__file__).resolve().parents[2] / "services"
JOBS = ("trainer", "drift_monitor")


@pytest.fixture(scope="module", params=JOBS)
def job(request: pytest.FixtureRequest) -> tuple[str, list[Stage]]:
    return request.param, parse(SERVICES / request.param / "Dockerfile")


def test_base_is_exactly_the_model_servers(job: tuple[str, list[Stage]]) -> None:
    """One base for every service image: a digest pin or a bump in the model server's moves all."""
    _, stages = job
    server_bases = set(external_bases(parse(SERVICES / "model_server" / "Dockerfile")))
    assert len(server_bases) == 1
    assert set(external_bases(stages)) == server_bases


@pytest.mark.parametrize("service", ("model_server", *JOBS))
def test_every_base_is_pinned_by_digest(service: str) -> None:
    """Issue 11: "pinned base by digest". A tag can be re-pushed (python:3.11.7-slim-bookworm was, for Debian
    security updates); the digest names one image index, so a rebuild of a build tag gets the same base."""
    for base in external_bases(parse(SERVICES / service / "Dockerfile")):
        assert re.fullmatch(r"[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base), f"{service}: {base}: add @sha256:..."


def test_final_stage_runs_as_a_non_root_numeric_user(job: tuple[str, list[Stage]]) -> None:
    _, stages = job
    users = stages[-1].all("USER")
    assert users, "the runtime stage must set USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) >= 1000  # numeric, so Kubernetes runAsNonRoot can verify it


def test_final_stage_has_no_build_tools_and_copies_only_the_venv(job: tuple[str, list[Stage]]) -> None:
    _, stages = job
    final = stages[-1]
    for keyword, args in final.instructions:
        assert not COMPILERS.search(args), f"{keyword} {args}"
        if keyword == "RUN":
            assert "apt-get install" not in args and "pip install" not in args, args
    assert [a for a in final.all("COPY") if a.startswith("--from=")] == ["--from=build /opt/venv /opt/venv"]


def test_runs_the_cli_in_exec_form_as_a_job(job: tuple[str, list[Stage]]) -> None:
    name, stages = job
    final = stages[-1]
    assert json.loads(final.all("ENTRYPOINT")[-1]) == ["python", "-m", f"services.{name}"]
    assert not final.all("EXPOSE") and not final.all("HEALTHCHECK")  # a job, not a server
    assert final.all("WORKDIR")[-1] == "/work"  # relative --out paths land in the job's own folder
    assert any("chown 10001:10001 /work" in run for run in final.all("RUN"))
    assert f". /app/services/{name}/" in final.all("COPY")[-1]


def test_dependencies_come_only_from_the_pinned_requirements(job: tuple[str, list[Stage]]) -> None:
    name, stages = job
    installs = [a for s in stages for a in s.all("RUN") if "pip install" in a]
    assert len(installs) == 1
    assert "-r /tmp/requirements.txt" in installs[0] and "--only-binary=:all:" in installs[0]
    for line in (SERVICES / name / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line.strip()), line


def test_the_package_imports_only_itself(job: tuple[str, list[Stage]]) -> None:
    """The build context is the service's folder: an import of another service would fail in the image."""
    name, _ = job
    for source in (SERVICES / name).rglob("*.py"):
        for imported in re.findall(r"^\s*(?:from|import) (services\.\w+)", source.read_text(), re.MULTILINE):
            assert imported == f"services.{name}", f"{source}: imports {imported}"


def test_dockerignore_keeps_caches_and_data_out_of_the_context(job: tuple[str, list[Stage]]) -> None:
    name, _ = job
    patterns = dockerignore(SERVICES / name / ".dockerignore")
    for expected in ("**/__pycache__", "*.onnx", "*.csv", "*.jsonl"):
        assert expected in patterns


BASE_IMAGE_MB = 130
"""python:3.11.7-slim-bookworm, uncompressed (roughly; no Docker engine here to measure it)."""
BUDGET_MB = {"trainer": 650, "drift_monitor": 400}
"""Image size budgets, as the services' READMEs state them ("Image")."""


def _installed_mb(requirements: Path) -> float:
    """Size of the requirement closure as installed in this virtualenv (bytecode caches excluded)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    pending = [Requirement(line.strip()) for line in requirements.read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    seen: dict[str, metadata.Distribution] = {}
    while pending:
        requirement = pending.pop()
        key = requirement.name.lower().replace("_", "-")
        if key in seen:
            continue
        seen[key] = metadata.distribution(requirement.name)
        for text in seen[key].requires or []:
            dependency = Requirement(text)
            if dependency.marker is None or dependency.marker.evaluate({"extra": ""}):
                pending.append(dependency)
    total = 0
    for dist in seen.values():
        for file in dist.files or []:
            path = dist.locate_file(file)
            if "__pycache__" not in str(file) and path.is_file():
                total += path.stat().st_size
    return total / 1e6


@pytest.mark.parametrize("name", JOBS)
def test_dependencies_fit_the_image_budget(name: str) -> None:
    """A new requirement that blows the documented budget fails here, not in a registry bill."""
    installed = _installed_mb(SERVICES / name / "requirements.txt")
    assert installed + BASE_IMAGE_MB <= BUDGET_MB[name], f"{name}: {installed:.0f} MB of dependencies"
    readme = (SERVICES / name / "README.md").read_text()
    assert f"at most {BUDGET_MB[name]} MB uncompressed" in readme
