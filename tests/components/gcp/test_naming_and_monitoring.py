"""GCP label and name rules, endpoint ids, and the alert policies / dashboard rendered from data."""

from __future__ import annotations

import json

import pytest

from components.gcp.gpu_cluster import initial_nodes
from components.gcp.monitoring import MonitoredEndpoint, dashboard_json, endpoint_policies
from components.gcp.naming import check_gcp_name, endpoint_id, label_problems, labels
from components.gcp.network import subnet_ranges
from components.monitoring import AlertThresholds


def test_tag_values_become_valid_labels_and_bad_keys_are_named():
    assert labels({"owner": "ML Platform", "cost-center": "CC/1234"}) == {"cost-center": "cc-1234",
                                                                          "owner": "ml-platform"}
    assert [key for key, _ in label_problems({"Team": "x", "ok_key": "y", "1st": "z"})] == ["1st", "Team"]


@pytest.mark.parametrize("name", ["mlops-dev-fraud-detector-endpoint", "x", "a" * 200])
def test_endpoint_ids_are_numeric_without_leading_zero_and_at_most_ten_digits(name):
    """AiEndpoint.name: "numeric with no leading zeros and can be at most 10 digits" (pulumi_gcp docstring)."""
    value = endpoint_id(name)
    assert value.isdigit() and value[0] != "0" and len(value) <= 10
    assert endpoint_id(name) == value  # stable: a re-created endpoint keeps its id and URL


def test_name_rules_name_their_source():
    assert check_gcp_name("service account", "mlops-dev-serving") is None
    problem = check_gcp_name("service account", "ml")
    assert problem is not None and "cloud.google.com/iam" in problem
    assert check_gcp_name("cluster", "Mlops-gpu") is not None


def test_subnet_ranges_split_the_vpc_without_overlap():
    ranges = subnet_ranges("10.0.0.0/16")
    assert ranges == {"nodes": "10.0.128.0/18", "pods": "10.0.0.0/17", "services": "10.0.192.0/18"}


def test_alert_policies_use_vertex_metrics_and_the_stack_thresholds():
    """Metric types from cloud.google.com/monitoring/api/metrics_gcp_a_b#gcp-aiplatform."""
    endpoint = MonitoredEndpoint(service="fraud", endpoint_id="1234567890", max_replicas=8)
    policies = {p.role: p for p in endpoint_policies(endpoint, AlertThresholds(error_rate_percent=0.5,
                                                                               p99_latency_ms=500))}
    errors, latency, saturation = policies["errors"], policies["latency"], policies["saturation"]
    assert errors.threshold == 0.005 and "prediction/online/error_count" in errors.filter
    assert errors.denominator_filter and "prediction/online/prediction_count" in errors.denominator_filter
    assert (latency.aligner, latency.threshold) == ("ALIGN_PERCENTILE_99", 500.0)
    assert saturation.threshold == 7.5 and 'resource.label.endpoint_id = "1234567890"' in saturation.filter


def test_dashboard_has_a_row_of_charts_per_endpoint():
    endpoints = [MonitoredEndpoint("fraud", "1", 4), MonitoredEndpoint("churn", "2", 4)]
    board = json.loads(dashboard_json("mlops-prod-serving", endpoints))
    tiles = board["mosaicLayout"]["tiles"]
    assert len(tiles) == 8 and {t["yPos"] for t in tiles} == {0, 16}
    assert tiles[0]["widget"]["title"] == "fraud: Predictions / s"


@pytest.mark.parametrize(("minimum", "regional", "initial"), [(0, False, 0), (2, False, 2), (1, True, 1),
                                                             (4, True, 2), (6, True, 2)])
def test_a_regional_pool_starts_at_its_total_minimum_not_three_times_it(minimum, regional, initial):
    """`initial_node_count` is per zone for a regional node pool (container_node_pool docs): a total minimum of
    6 as 6 per zone would start 18 GPU nodes."""
    assert initial_nodes(minimum, regional) == initial
