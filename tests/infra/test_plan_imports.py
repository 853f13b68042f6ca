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
"""


@pytest.mark.parametrize("stack", ["dev", "gcp-dev", "azure-dev", "local"])
def test_a_plan_imports_only_the_sdks_of_its_own_resources(stack: str):
    plan = json.loads((PROJECT_ROOT / "plans" / f"{stack}.json").read_text())
    needed = {f"pulumi_{r['type'].split(':')[0].replace('-', '_')}" for r in plan["resources"]
              if r["custom"] and not r["type"].startswith(("pulumi:", "pulumi-python:"))}
    needed |= {f"pulumi_{r['type'].split(':')[2]}".replace("-", "_") for r in plan["resources"]
               if r["type"].startswith("pulumi:providers:")}
    out = subprocess.run([sys.executable, "-c", CODE, stack], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    imported = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert imported - {"pulumi_policy"} == needed, f"{stack} imports {sorted(imported - needed)} it does not use"
