"""A stack's plan imports only the provider SDKs its own resources need (whole-process plan time, issue 8).

An AWS stack that serves no service on Kubernetes used to import pulumi_kubernetes and the k8s components
through the EKS hook, about a second of every plan (benchmarks/plan.py, docs/performance.md).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.stackfile import PROJECT_ROOT

CODE = """
import json, sys
from infra.plan.engine import plan_stack
plan = plan_stack(sys.argv[1])
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules if m.startswith('pulumi_')})))
print(json.dumps(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('infra.plan.fakes.'))))
"""


FAKES = {"pulumi_aws": "aws", "pulumi_gcp": "gcp", "pulumi_azure_native": "azure", "pulumi_docker": "docker"}


@pytest.mark.parametrize("stack", ["dev", "gcp-dev", "azure-dev", "local"])
def test_a_plan_imports_only_the_sdks_of_its_own_resources(stack: str):
    plan = json.loads((PROJECT_ROOT / "plans" / f"{stack}.json").read_text())
    needed = {f"pulumi_{r['type'].split(':')[0].replace('-', '_')}" for r in plan["resources"]
              if r["custom"] and not r["type"].startswith(("pulumi:", "pulumi-python:"))}
    needed |= {f"pulumi_{r['type'].split(':')[2]}".replace("-", "_") for r in plan["resources"]
               if r["type"].startswith("pulumi:providers:")}
    out = subprocess.run([sys.executable, "-c", CODE, stack], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    *_, sdks, fakes = out.stdout.strip().splitlines()
    imported = set(json.loads(sdks))
    assert imported - {"pulumi_policy"} == needed, f"{stack} imports {sorted(imported - needed)} it does not use"
    # ... and only those providers' fakes (infra/plan/fakes/: the other clouds' are several ms of import each)
    assert set(json.loads(fakes)) == {FAKES[sdk] for sdk in needed if sdk in FAKES}


PLAN_COMMAND = """
import json, os, sys
from infra.cli import main
main(["plan", sys.argv[1], "--out", os.devnull])
print(json.dumps(sorted(sys.modules)))
"""
OTHER_COMMANDS = ("infra.plan.diff", "infra.plan.diff_report", "infra.plan.replacement", "infra.config_reference",
                  "infra.verify", "infra.targets.aws.artifacts", "boto3")
"""What only `python -m infra diff`, `config-reference`, `verify` or `artifacts` need."""


@pytest.mark.parametrize("stack", ["dev", "local"])
def test_the_plan_command_imports_nothing_only_other_commands_need(stack: str):
    """Every module is import time of every plan (docs/performance.md, "Whole-process plan time")."""
    out = subprocess.run([sys.executable, "-c", PLAN_COMMAND, stack], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True, timeout=120)
    unneeded = set(json.loads(out.stdout.strip().splitlines()[-1])) & set(OTHER_COMMANDS)
    assert not unneeded, f"python -m infra plan {stack} imports {sorted(unneeded)}"
