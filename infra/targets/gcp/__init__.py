"""The GCP target: `gcp:project` and `gcp:region`, preflight against Vertex AI's catalogs and GCP's name rules,
and the VPC / KMS / GCS / Artifact Registry / GKE / Vertex AI composition."""

from components.gcp.machine_types import DEFAULT_SERVING_TYPE, VERTEX_REGIONS
from infra.targets import Target, register
from infra.targets.gcp.composition import compose
from infra.targets.gcp.preflight import check_gcp

TARGET = register(Target(cloud="gcp", provider_keys=("gcp:project", "gcp:region"), region_key="gcp:region",
                         project_key="gcp:project", preflight=check_gcp, compose=compose,
                         regions=lambda: VERTEX_REGIONS, default_instance_type=DEFAULT_SERVING_TYPE,
                         kubernetes=True, serving_toggle=True))
