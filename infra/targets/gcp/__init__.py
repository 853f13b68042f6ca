"""The GCP target: `gcp:project` and `gcp:region`, preflight against Vertex AI's catalogs and GCP's name rules,
and the VPC / KMS / GCS / Artifact Registry / GKE / Vertex AI composition."""

from typing import Any

from components.gcp.machine_types import DEFAULT_SERVING_TYPE, VERTEX_REGIONS
from infra.targets import Target, register
from infra.targets.gcp.composition import compose
from infra.targets.gcp.preflight import check_gcp


def _gke_access(*args: Any, **kwargs: Any) -> Any:
    """The GKE wiring (infra/targets/gcp/kubernetes.py), imported only by a stack that serves on Kubernetes."""
    from infra.targets.gcp.kubernetes import gke_access

    return gke_access(*args, **kwargs)


TARGET = register(Target(cloud="gcp", provider_keys=("gcp:project", "gcp:region"), region_key="gcp:region",
                         project_key="gcp:project", preflight=check_gcp, compose=compose,
                         regions=lambda: VERTEX_REGIONS, default_instance_type=DEFAULT_SERVING_TYPE,
                         kubernetes=_gke_access))
