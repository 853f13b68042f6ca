"""What the AWS components and preflight read from botocore's service models, as one compact file.

Loading botocore's service models costs most of a second per plan (the SageMaker and EC2 models alone
are megabytes of JSON), for a few enums, name constraints and region lists. `catalog.json` beside this
module holds exactly those, generated from the installed botocore:

    python3 tasks.py catalogs        # regenerate after upgrading boto3 / botocore

and `tests/components/aws/test_catalog.py` fails when it no longer matches the installed botocore, so
the file cannot drift from the SDK it was made from.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

CATALOG_FILE = Path(__file__).with_name("catalog.json")

ENUMS: tuple[tuple[str, str], ...] = (
    ("sagemaker", "ProductionVariantInstanceType"),
    ("sagemaker", "ProcessingInstanceType"),
    ("ec2", "InstanceType"),
)
"""(service, shape) of each enum the platform checks values against."""

NAME_SHAPES: tuple[tuple[str, str], ...] = (
    ("sagemaker", "EndpointName"),
    ("sagemaker", "EndpointConfigName"),
    ("sagemaker", "ModelName"),
    ("sagemaker", "VariantName"),
    ("sagemaker", "MonitoringScheduleName"),
    ("sagemaker", "MonitoringJobDefinitionName"),
    ("iam", "roleNameType"),
    ("iam", "policyNameType"),
    ("ecr", "RepositoryName"),
    ("eks", "ClusterName"),
    ("cloudwatch", "AlarmName"),
    ("kms", "AliasNameType"),
    ("logs", "LogGroupName"),
)
"""(service, shape) of each string shape whose length / pattern constrains a name the platform sets."""

REGION_SERVICES: tuple[str, ...] = ("sagemaker", "eks", "ecr", "s3")
"""Services whose regions (every partition: aws, aws-cn, aws-us-gov, ...) the platform needs."""


def build_catalog() -> dict[str, Any]:
    """The catalog as the installed botocore describes it (sorted, so the file diffs cleanly)."""
    import botocore
    import botocore.session

    session = botocore.session.get_session()
    models: dict[str, Any] = {}

    def shape(service: str, name: str) -> Any:
        if service not in models:
            models[service] = session.get_service_model(service)
        return models[service].shape_for(name)

    names = {}
    for service, name in NAME_SHAPES:
        meta = shape(service, name).metadata
        names[f"{service}.{name}"] = {k: meta[k] for k in ("min", "max", "pattern") if k in meta}
    return {
        "botocore": botocore.__version__,
        "enums": {f"{s}.{n}": sorted(shape(s, n).enum) for s, n in ENUMS},
        "names": names,
        "regions": {s: sorted({region for partition in session.get_available_partitions()
                               for region in session.get_available_regions(s, partition_name=partition)})
                    for s in REGION_SERVICES},
    }


def render(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=1, sort_keys=True) + "\n"


@functools.cache
def _catalog() -> dict[str, Any]:
    return json.loads(CATALOG_FILE.read_text())


def enum(service: str, shape: str) -> frozenset[str]:
    """Every value of a botocore enum shape listed in `ENUMS`."""
    return frozenset(_catalog()["enums"][f"{service}.{shape}"])


def name_constraints(service: str, shape: str) -> dict[str, Any]:
    """`min` / `max` / `pattern` (those botocore sets) of a string shape listed in `NAME_SHAPES`."""
    return _catalog()["names"][f"{service}.{shape}"]


def regions(service: str) -> frozenset[str]:
    """The regions of every partition where `service` (one of `REGION_SERVICES`) has an endpoint."""
    return frozenset(_catalog()["regions"][service])


def main(argv: list[str]) -> int:
    text = render(build_catalog())
    if argv == ["--write"]:
        CATALOG_FILE.write_text(text)
        print(f"wrote {CATALOG_FILE}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
