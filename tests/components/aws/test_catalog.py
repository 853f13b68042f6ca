"""components/aws/catalog.json: the compact copy of what the platform reads from botocore's models."""

from __future__ import annotations

import subprocess
import sys

from components.aws import catalog
from infra.stackfile import PROJECT_ROOT


def test_catalog_matches_the_installed_botocore():
    """A boto3/botocore upgrade that adds an instance type or changes a name rule must show up here.

    Planning reads the compact file, not botocore (loading the SageMaker and EC2 models cost most of a
    second of every plan); this keeps the file in step with the SDK pinned in requirements.txt.
    """
    assert catalog.CATALOG_FILE.read_text() == catalog.render(catalog.build_catalog()), (
        "components/aws/catalog.json is stale for the installed botocore: run `python3 tasks.py catalogs`")


def test_lookups_answer_what_preflight_asks():
    assert "ml.g5.xlarge" in catalog.enum("sagemaker", "ProductionVariantInstanceType")
    assert "ml.m5.xlarge" in catalog.enum("sagemaker", "ProcessingInstanceType")
    assert "g5.xlarge" in catalog.enum("ec2", "InstanceType")
    assert catalog.name_constraints("sagemaker", "EndpointName")["max"] == 63
    assert "us-east-1" in catalog.regions("sagemaker")
    assert "us-eats-1" not in catalog.regions("sagemaker")


def test_a_plan_does_not_load_botocore_models():
    """Planning a stack reads the catalog; botocore's loader (megabytes of JSON per service) stays cold."""
    code = ("import sys, botocore.loaders as l\n"
            "calls = []\n"
            "orig = l.Loader.load_service_model\n"
            "l.Loader.load_service_model = lambda self, *a, **k: calls.append(a) or orig(self, *a, **k)\n"
            "from infra.plan.engine import plan_stack\n"
            "plan_stack('prod')\n"
            "print(calls)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
