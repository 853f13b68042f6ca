"""Kubernetes serving on the stack's GPU cluster: GPU enablement, blue/green ModelService, monitoring.

Every component takes a `pulumi_kubernetes.Provider` built from the cluster's kubeconfig (`cluster_provider`).
Manifests are rendered by pure functions (`workload.py`, `observability.py`) so tests validate them against
the Kubernetes OpenAPI schema of the cluster's version (kubernetes-validate) before any cluster exists.
"""
