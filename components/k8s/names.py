"""Namespaces and names the Kubernetes components agree on."""

GATEWAY_NAMESPACE = "envoy-gateway-system"
"""Envoy Gateway's namespace: it runs the proxies of its Gateways here, so the NetworkPolicy admits this one."""
GATEWAY_NAME = "mlops"
MONITORING_NAMESPACE = "monitoring"
