"""GitHub Actions workflows: actionlint passes, and the security properties we rely on hold."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@([0-9a-f]{40}|v\d+\.\d+\.\d+)$")


def _actionlint() -> str:
    local = Path(sys.executable).parent / "actionlint"
    found = str(local) if local.exists() else shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is not installed: pip install -r policy/requirements-test.txt")
    return found


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p.name, name, job) for p in WORKFLOWS for name, job in _load(p)["jobs"].items()]


def _steps() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{wf}:{job}", step) for wf, job, spec in _jobs() for step in spec.get("steps", [])]


def test_expected_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "preview.yml", "deploy.yml", "drift.yml"}


def test_actionlint_passes() -> None:
    result = subprocess.run([_actionlint(), "-color=false", *map(str, WORKFLOWS)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_default_permissions_are_empty(path: Path) -> None:
    assert _load(path)["permissions"] == {}


def test_every_job_sets_its_own_permissions() -> None:
    missing = [f"{wf}:{job}" for wf, job, spec in _jobs() if "permissions" not in spec]
    assert missing == []


def test_no_expressions_inside_run_scripts() -> None:
    """Untrusted input (PR titles, branch names, inputs) reaches scripts only through env:."""
    offending = [where for where, step in _steps() if "${{" in str(step.get("run", ""))]
    offending += [where for where, step in _steps()
                  if "github.event" in str(step.get("with", {}).get("script", ""))]
    assert offending == []


def test_every_action_is_pinned_to_an_exact_version() -> None:
    loose = [f"{where}: {step['uses']}" for where, step in _steps()
             if "uses" in step and not PINNED.match(step["uses"])]
    assert loose == []


def test_checkout_never_persists_credentials() -> None:
    leaky = [where for where, step in _steps() if str(step.get("uses", "")).startswith("actions/checkout@")
             and step.get("with", {}).get("persist-credentials") is not False]
    assert leaky == []


def test_id_token_only_where_clouds_are_reached() -> None:
    for wf, job, spec in _jobs():
        if spec["permissions"].get("id-token") == "write":
            assert any(str(s.get("uses", "")).startswith("pulumi/actions@") for s in spec["steps"]), (wf, job)


def test_prod_deploys_need_the_prod_environment_and_never_overlap() -> None:
    prod = _load(ROOT / ".github" / "workflows" / "deploy.yml")["jobs"]["prod"]
    assert prod["environment"] == "prod"
    assert prod["concurrency"]["cancel-in-progress"] is False
    assert "${{ matrix.stack }}" in prod["concurrency"]["group"]
    pulumi = next(s for s in prod["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "up" and pulumi["with"]["policyPacks"] == "policy"


def test_stack_matrices_come_from_the_stacks_job() -> None:
    for wf, job, spec in _jobs():
        stacks = spec.get("strategy", {}).get("matrix", {}).get("stack")
        if stacks is not None:
            assert "needs.stacks.outputs." in stacks and "stacks" in spec["needs"], (wf, job)


def test_cloud_logins_use_oidc_without_long_lived_keys() -> None:
    text = "\n".join(p.read_text() for p in WORKFLOWS)
    for key in ("aws-access-key-id", "aws-secret-access-key", "credentials_json", "client-secret", "creds:"):
        assert key not in text
    assert "role-to-assume:" in text and "workload_identity_provider:" in text and "client-id:" in text


@pytest.mark.parametrize("job", ["dev", "prod"])
def test_deploys_verify_the_endpoints_after_pulumi_up(job: str) -> None:
    """`pulumi up` can succeed on a rolled-back SageMaker update (terraform-provider-aws#46663): verify must follow."""
    steps = _load(ROOT / ".github" / "workflows" / "deploy.yml")["jobs"][job]["steps"]
    up = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@"))
    verify = [s for s in steps[up + 1:] if "python -m infra verify" in str(s.get("run", ""))]
    assert len(verify) == 1 and "--stack-outputs" in verify[0]["run"]
    assert "pulumi stack output" in verify[0]["run"] and verify[0]["if"] == "vars.AWS_ROLE_ARN != ''"


def _stack_lists(workflow: str) -> dict[str, list[str]]:
    """Run the workflow's own `stacks` listing script in this checkout; its outputs by name."""
    step = next(s for s in _load(ROOT / ".github" / "workflows" / workflow)["jobs"]["stacks"]["steps"]
                if s.get("id") == "list")
    script = step["run"].split("<<'PY'\n", 1)[1].rsplit("PY", 1)[0]
    result = subprocess.run([sys.executable, "-"], input=script, cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=True, env={"REQUESTED": ""})
    return {k: json.loads(v) for k, v in (line.split("=", 1) for line in result.stdout.splitlines())}


@pytest.mark.parametrize(("workflow", "output"), [("deploy.yml", "dev"), ("deploy.yml", "prod"),
                                                  ("drift.yml", "all"), ("preview.yml", "deployed")])
def test_workflows_that_reach_a_cloud_skip_local_stacks(workflow: str, output: str) -> None:
    """`cloud: local` stacks run on a developer's Docker; CI deploys, previews and drift-checks the others only."""
    stacks = _stack_lists(workflow)[output]
    assert "local" not in stacks and stacks, stacks
    assert "local" in _stack_lists("preview.yml")["all"]  # its offline plan diff still runs on pull requests


@pytest.mark.parametrize("job", ["dev", "prod"])
def test_deploys_check_each_slots_model_and_image_before_pulumi_up(job: str) -> None:
    """CreateModel fails half-way through `up` on a missing model.tar.gz or image tag (runbooks/first-deploy.md)."""
    steps = _load(ROOT / ".github" / "workflows" / "deploy.yml")["jobs"][job]["steps"]
    up = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@"))
    login = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("aws-actions/"))
    check = [i for i, s in enumerate(steps) if "python -m infra artifacts" in str(s.get("run", ""))]
    assert len(check) == 1 and login < check[0] < up
    assert steps[check[0]]["if"] == "vars.AWS_ROLE_ARN != ''"


@pytest.mark.parametrize("job", ["dev", "prod"])
@pytest.mark.parametrize(("driver_status", "refused"), [
    ('[["driver-type","io.containerd.snapshotter.v1"]]', True),
    ('[["Backing Filesystem","extfs"],["Supports d_type","true"],["Using metacopy","false"]]', False)])
def test_deploys_refuse_a_docker_that_pushes_oci_manifests(job: str, driver_status: str, refused: bool,
                                                           tmp_path: Path) -> None:
    """`pulumi up` builds and pushes the build tag, then CreateModel uses it. SageMaker refuses OCI image
    manifests ("Unsupported manifest media type application/vnd.oci.image.manifest.v1+json",
    aws/amazon-sagemaker-feedback#180), which Docker pushes when its containerd image store is on (`docker
    info` driver-type io.containerd.snapshotter.v1). The step before `up` runs here against a fake docker."""
    steps = _load(ROOT / ".github" / "workflows" / "deploy.yml")["jobs"][job]["steps"]
    up = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@"))
    (guard,) = [i for i, s in enumerate(steps) if "io.containerd.snapshotter" in str(s.get("run", ""))]
    assert guard < up and steps[guard]["if"] == "vars.AWS_ROLE_ARN != ''"
    docker = tmp_path / "docker"
    docker.write_text(f"#!/bin/sh\necho '{driver_status}'\n")
    docker.chmod(0o755)
    result = subprocess.run(["bash", "-e", "-c", steps[guard]["run"]], capture_output=True, text=True, timeout=30,
                            env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert (result.returncode != 0) is refused, result
    assert ("containerd image store" in result.stdout) is refused


def test_every_job_running_pulumi_on_azure_installs_kubelogin_after_the_azure_login() -> None:
    """An AKS-served stack's kubeconfig execs `kubelogin get-token --login azurecli`
    (components/azure/gpu_cluster.py `user_kubeconfig`), and GitHub's runner images ship no kubelogin
    (actions/runner-images#7098: "use runtime installation"): without it every Kubernetes call of `pulumi up`,
    and of the previews that diff the cluster's objects, fails."""
    jobs = {where for where, step in _steps() if str(step.get("uses", "")).startswith("azure/login@")}
    assert jobs == {"deploy.yml:dev", "deploy.yml:prod", "drift.yml:drift", "preview.yml:pulumi-preview"}
    for job in jobs:
        steps = [step for where, step in _steps() if where == job]
        uses = [str(step.get("uses", "")) for step in steps]
        login = uses.index(next(u for u in uses if u.startswith("azure/login@")))
        kubelogin = next((i for i, u in enumerate(uses) if u.startswith("azure/use-kubelogin@")), -1)
        pulumi_run = next(i for i, u in enumerate(uses) if u.startswith("pulumi/actions@"))
        assert login < kubelogin < pulumi_run, job
        assert steps[kubelogin]["with"]["kubelogin-version"].startswith("v"), job
