"""Drift monitor: per-feature drift between a baseline and current data.

``python -m services.drift_monitor --baseline FILE --current FILE --out REPORT.json`` runs a
two-sample Kolmogorov-Smirnov test (p-values corrected across features) and the population
stability index per feature, writes a JSON report and exits 0 (no drift), 3 (drift) or 2 (bad
input). Results can be published to CloudWatch or a Prometheus Pushgateway. See README.md.
"""

from services.drift_monitor.detector import DriftConfig, DriftReport, FeatureDrift, detect
from services.drift_monitor.errors import InputError
from services.drift_monitor.publishers import CloudWatchPublisher, MetricsPublisher, PushgatewayPublisher
from services.drift_monitor.tables import Table, load_table

__all__ = [
    "CloudWatchPublisher",
    "DriftConfig",
    "DriftReport",
    "FeatureDrift",
    "InputError",
    "MetricsPublisher",
    "PushgatewayPublisher",
    "Table",
    "detect",
    "load_table",
]
