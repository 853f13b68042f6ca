"""Publishing results: CloudWatch through moto's server (real boto3 over HTTP) and a Pushgateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from services.drift_monitor import CloudWatchPublisher, PushgatewayPublisher, Table, detect
from services.drift_monitor.cli import main
from tests.services.drift_monitor.conftest import normal_tables, write_csv
from tests.services.ports import free_port


@pytest.fixture(scope="module")
def drift_report() -> Any:
    baseline, current = normal_tables(seed=4, shift={1: 0.5})
    names = ("a", "b", "c")
    return detect(Table("b.csv", "csv", names, baseline), Table("c.csv", "csv", names, current))


def _cloudwatch(endpoint: str) -> Any:
    return boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1")


def test_cloudwatch_receives_per_feature_and_summary_metrics(drift_report: Any, aws_env: str) -> None:
    cloudwatch = _cloudwatch(aws_env)
    CloudWatchPublisher("Test/DriftApi", {"Endpoint": "demo-prod"}, client=cloudwatch).publish(drift_report)

    metrics = cloudwatch.list_metrics(Namespace="Test/DriftApi")["Metrics"]
    seen = {(m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))) for m in metrics}
    assert ("DriftDetected", (("Endpoint", "demo-prod"),)) in seen
    for feature in ("a", "b", "c"):
        for name in ("FeaturePSI", "FeatureKSStatistic", "FeatureKSPValue", "FeatureDrifted"):
            assert (name, (("Endpoint", "demo-prod"), ("Feature", feature))) in seen
    assert len(metrics) == 2 + 4 * 3

    now = datetime.now(UTC)
    stats = cloudwatch.get_metric_statistics(
        Namespace="Test/DriftApi",
        MetricName="FeatureDrifted",
        Dimensions=[{"Name": "Endpoint", "Value": "demo-prod"}, {"Name": "Feature", "Value": "b"}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=60,
        Statistics=["Maximum"],
    )
    assert [point["Maximum"] for point in stats["Datapoints"]] == [1.0]


def test_cli_publishes_to_cloudwatch_with_the_aws_environment(tmp_path: Path, aws_env: str) -> None:
    baseline, current = normal_tables(seed=9, n=500, shift={0: 1.0})
    base = write_csv(tmp_path / "b.csv", ["x", "y"], baseline[:, :2])
    cur = write_csv(tmp_path / "c.csv", ["x", "y"], current[:, :2])
    argv = [
        "--baseline",
        str(base),
        "--current",
        str(cur),
        "--out",
        str(tmp_path / "r.json"),
        "--cloudwatch",
        "--cloudwatch-namespace",
        "Test/DriftCli",
        "--dimension",
        "Model=demo",
    ]
    assert main(argv) == 3

    now = datetime.now(UTC)
    stats = _cloudwatch(aws_env).get_metric_statistics(
        Namespace="Test/DriftCli",
        MetricName="DriftedFeatureCount",
        Dimensions=[{"Name": "Model", "Value": "demo"}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=60,
        Statistics=["Maximum"],
    )
    assert [point["Maximum"] for point in stats["Datapoints"]] == [1.0]


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, str, str]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        type(self).received.append((self.command, self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def pushgateway() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """A stand-in Pushgateway on 127.0.0.1 that records each push."""
    received: list[tuple[str, str, str]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_pushgateway_receives_the_gauges_under_job_and_grouping_key(drift_report: Any, pushgateway: Any) -> None:
    url, received = pushgateway
    PushgatewayPublisher(url, job="drift_monitor", grouping_key={"model": "demo"}).publish(drift_report)
    ((method, path, body),) = received
    assert method == "PUT"
    assert path == "/metrics/job/drift_monitor/model/demo"
    assert "mlops_drift_detected 1.0" in body
    assert "mlops_drift_drifted_features 1.0" in body
    assert 'mlops_drift_feature_drifted{feature="b"} 1.0' in body
    assert 'mlops_drift_feature_drifted{feature="a"} 0.0' in body
    psi_b = next(line for line in body.splitlines() if line.startswith('mlops_drift_feature_psi{feature="b"}'))
    assert float(psi_b.split()[-1]) == pytest.approx(drift_report.features[1].psi)


def test_publish_failure_exits_1_after_writing_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline, current = normal_tables(seed=1, n=200, features=1)
    base, cur = write_csv(tmp_path / "b.csv", ["x"], baseline), write_csv(tmp_path / "c.csv", ["x"], current)
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    argv = ["--baseline", str(base), "--current", str(cur), "--out", str(tmp_path / "r.json"), "--pushgateway", closed]
    assert main(argv) == 1
    assert "publishing with PushgatewayPublisher failed" in capsys.readouterr().err
    assert (tmp_path / "r.json").exists()
    assert json.loads((tmp_path / "r.json").read_text())["drift_detected"] is False
