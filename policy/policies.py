"""The pack's policies, importable without starting the pack (no gRPC server is started here).

``RULES`` are the pure rule definitions (see :mod:`policy.model`); ``POLICIES`` are the CrossGuard
policy objects built from them, served by ``policy/__main__.py`` and run offline by ``policy.check``.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import EnforcementLevel

from policy.model import Rule, to_policy
from policy.rules import (
    access,
    azure,
    clusters,
    docker,
    encryption,
    endpoints,
    gcp,
    gpu,
    images,
    kubernetes,
    storage,
    tagging,
)

PACK_NAME: Final = "mlops-platform"
PACK_VERSION: Final = "0.1.0"
PACK_ENFORCEMENT_LEVEL: Final = EnforcementLevel.MANDATORY
PACK_DESCRIPTION: Final = ("Secure defaults for ML platforms on AWS, GCP, Azure and Kubernetes: customer-key "
                           "encryption, no public access, least privilege, safe production endpoints.")

RULES: Final[list[Rule]] = [
    *encryption.RULES,
    *access.RULES,
    *images.RULES,
    *storage.RULES,
    *endpoints.RULES,
    *clusters.RULES,
    *tagging.RULES,
    *gpu.RULES,
    *kubernetes.RULES,
    *azure.RULES,
    *docker.RULES,
    *gcp.RULES,
]

POLICIES: Final = [to_policy(rule) for rule in RULES]
