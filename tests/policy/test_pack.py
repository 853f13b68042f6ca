"""The pack as the Pulumi CLI runs it, its project files, and the committed plans."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from policy.check import run_pack
from policy.policies import PACK_NAME, PACK_VERSION, POLICIES
from policy.rules.tagging import TAGGABLE_TYPES

ROOT = Path(__file__).resolve().parents[2]
PLANS = sorted((ROOT / "plans").glob("*.json"))


def _pack_venv_env() -> dict[str, str]:
    """What the pack's own venv (policy/requirements.txt) provides: the SDKs, not this project installed.

    `python -S` skips site-packages' .pth files, so the project's editable install (a .pth finder) is not
    active and only plain packages on PYTHONPATH import.
    """
    return {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}


def test_pack_venv_cannot_import_the_project() -> None:
    probe = subprocess.run([sys.executable, "-S", "-c", "import components"], env=_pack_venv_env(),
                           capture_output=True, text=True, cwd=ROOT / "policy")
    assert "No module named 'components'" in probe.stderr


def test_pack_serves_every_policy_when_run_as_a_directory(tmp_path: Path) -> None:
    """Run policy/ the way the CLI does (a program, not a package, in a venv without the project)."""
    proc = subprocess.Popen([sys.executable, "-S", "-u", str(ROOT / "policy")], cwd=tmp_path, env=_pack_venv_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert info.name == PACK_NAME
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    gpu = next(p for p in info.policies if p.name == "gpu-instance-allowlist")
    assert "allowedInstanceTypes" in gpu.configSchema.properties


def test_policy_project_file() -> None:
    project = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": "venv"}
    assert project["version"] == PACK_VERSION


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-test.txt"])
def test_requirements_are_pinned(name: str) -> None:
    lines = [ln.strip() for ln in (ROOT / "policy" / name).read_text().splitlines()]
    reqs = [ln for ln in lines if ln and not ln.startswith("#")]
    assert reqs and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][A-Za-z0-9.]*", r) for r in reqs)


def _sdk_class(type_token: str) -> type | None:
    """The SDK resource class of a type token (``aws:s3/bucket:Bucket`` -> pulumi_aws.s3.Bucket)."""
    package, module, cls = type_token.split(":")
    sdk = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}.get(package)
    if sdk is None:
        return None
    try:
        mod = importlib.import_module(f"{sdk}.{module.split('/')[0]}")
    except ImportError:
        return None
    return getattr(mod, cls, None)


def _accepts_tags(cls: type) -> bool:
    params = inspect.signature(cls._internal_init).parameters  # type: ignore[attr-defined]
    return any(p in params for p in ("tags", "labels", "resource_labels", "user_labels"))


@pytest.mark.parametrize("type_token", sorted(TAGGABLE_TYPES))
def test_taggable_types_accept_tags_in_the_sdk(type_token: str) -> None:
    cls = _sdk_class(type_token)
    assert cls is not None, f"{type_token} is not in the installed SDK"
    assert _accepts_tags(cls)


@pytest.mark.parametrize("plan_path", PLANS, ids=[p.stem for p in PLANS])
def test_committed_plan_has_no_mandatory_violation(plan_path: Path) -> None:
    import json

    violations = [v for v in run_pack(json.loads(plan_path.read_text())) if v.level == "mandatory"]
    assert violations == [], "\n".join(f"{v.policy} {v.urn}: {v.message}" for v in violations)


@pytest.mark.parametrize("plan_path", PLANS, ids=[p.stem for p in PLANS])
def test_every_taggable_type_in_committed_plans_is_listed(plan_path: Path) -> None:
    import json

    types = {r["type"] for r in json.loads(plan_path.read_text())["resources"] if r.get("custom")}
    missing = sorted(t for t in types - TAGGABLE_TYPES if (cls := _sdk_class(t)) and _accepts_tags(cls))
    assert missing == [], f"add these to policy/rules/tagging.py TAGGABLE_TYPES: {missing}"
