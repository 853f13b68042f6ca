"""Prediction capture: SageMaker's data-capture records, sampling, and the S3 sink (moto server)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto.server import ThreadedMotoServer

from services.model_server.capture import DataCapture, capture_record
from services.model_server.sinks import FileSink, S3Sink
from tests.services.ports import free_port

WHEN = datetime(2026, 11, 26, 8, 30, 15, 123456, tzinfo=UTC)


def test_json_and_csv_payloads_stay_readable_and_others_are_base64() -> None:
    record = capture_record(
        b"1.5,2.5", "text/csv", b'{"predictions": [1]}', "application/json", "ev-1", WHEN, inference_id="inf-1"
    )
    assert record == {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1.5,2.5", "encoding": "CSV"},
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": '{"predictions": [1]}',
                "encoding": "JSON",
            },
        },
        "eventMetadata": {"eventId": "ev-1", "inferenceTime": "2026-11-26T08:30:15.123Z", "inferenceId": "inf-1"},
        "eventVersion": "0",
    }
    binary = capture_record(b"\x00\xff", "application/x-npy", b"0\n", "text/csv", "ev-2", WHEN)
    assert binary["captureData"]["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(binary["captureData"]["endpointInput"]["data"]) == b"\x00\xff"
    assert "inferenceId" not in binary["eventMetadata"]


def test_sampling_keeps_roughly_the_configured_share(tmp_path) -> None:
    capture = DataCapture(FileSink(tmp_path / "c.jsonl"), sample_percent=20, seed=7)
    kept = sum(capture.sampled() for _ in range(5000))
    assert 850 < kept < 1150
    assert not any(DataCapture(FileSink(tmp_path / "d.jsonl"), 0).sampled() for _ in range(100))


@pytest.fixture(scope="module")
def s3_client() -> Iterator:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="capture")
    yield client
    server.stop()


def test_s3_sink_writes_hour_partitioned_json_lines_on_close(s3_client) -> None:
    sink = S3Sink("s3://capture/endpoints/churn", flush_records=1000, flush_seconds=3600, client=s3_client)
    capture = DataCapture(sink, sample_percent=100)
    capture.start()
    for i in range(3):
        capture.offer(
            b'{"instances": [[1]]}', "application/json", b'{"predictions": [0]}', "application/json", f"ev-{i}", None
        )
    capture.close()  # below flush_records and flush_seconds: only the shutdown flush writes
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket="capture")["Contents"]]
    assert len(keys) == 1
    now = datetime.now(UTC)
    assert keys[0].startswith(f"endpoints/churn/{now:%Y/%m/%d/%H}/") and keys[0].endswith(".jsonl")
    lines = s3_client.get_object(Bucket="capture", Key=keys[0])["Body"].read().decode().splitlines()
    assert [json.loads(line)["eventMetadata"]["eventId"] for line in lines] == ["ev-0", "ev-1", "ev-2"]


def test_s3_sink_flushes_once_enough_records_are_queued() -> None:
    sink = S3Sink("s3://b/p", flush_records=10, flush_seconds=60, client=object())
    assert not sink.due(9, 1.0)
    assert sink.due(10, 1.0)
    assert sink.due(1, 61.0)
    assert not sink.due(0, 61.0)
