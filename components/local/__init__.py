"""The local Docker platform (`cloud: local`): the whole platform on one machine with pulumi_docker.

Pure rendering (no Pulumi): `topology.py` (which containers, names and ports a stack runs), `nginx_conf.py`
(the router's weighted split), `prometheus_conf.py` (scrape config and Alertmanager), `grafana_conf.py`
(provisioning and the dashboard). Components (`mlops:local:<Name>`): `network.py`, `registry.py`,
`artifact_store.py`, `model_service.py`, `router.py`, `monitoring.py`, `drift_monitor.py`.
"""
