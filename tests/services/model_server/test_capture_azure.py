"""Capture on Azure ML: captured requests reach the data collector as feature rows, through Microsoft's real
`azureml-ai-monitoring` SDK posting over HTTP to a recording stand-in for the deployment's collector sidecar."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import orjson

from services.model_server.capture import capture_record
from services.model_server.capture_azure import DESTINATION, AzureCollectorSink, output_rows
from services.model_server.sinks import open_sink

WHEN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NAMES = ["mean radius", "mean texture"]


class Recorder:
    """Stands in for a Collector: keeps what `collect` received."""

    def __init__(self):
        self.frames, self.contexts = [], []

    def collect(self, frame, context=None):
        self.frames.append(frame)
        self.contexts.append(context)
        return f"ctx-{len(self.frames)}"


def _line(body: bytes, content_type: str, answer: bytes = b'{"predictions": [{"label": 1, "probabilities": '
                                                           b'[0.1, 0.9]}]}') -> bytes:
    return orjson.dumps(capture_record(body, content_type, answer, "application/json", "ev", WHEN)) + b"\n"


def test_json_instances_become_named_feature_rows_and_outputs_share_the_context():
    inputs, outputs = Recorder(), Recorder()
    sink = AzureCollectorSink(NAMES, inputs, outputs)
    sink.write([_line(b'{"instances": [[1.5, 2.5], [3.0, 4.0]]}', "application/json")])
    (frame,) = inputs.frames
    assert list(frame.columns) == NAMES and frame.values.tolist() == [[1.5, 2.5], [3.0, 4.0]]
    assert outputs.frames[0].to_dict("records") == [{"label": 1, "probabilities": [0.1, 0.9]}]
    assert outputs.contexts == ["ctx-1"]


def test_csv_and_named_json_rows_are_read_like_the_server_scored_them():
    inputs = Recorder()
    sink = AzureCollectorSink(NAMES, inputs, Recorder())
    sink.write([_line(b"1.5,2.5\n", "text/csv"),
                _line(b'{"instances": [{"mean texture": 2.0, "mean radius": 1.0}]}', "application/json")])
    assert [f.values.tolist() for f in inputs.frames] == [[[1.5, 2.5]], [[1.0, 2.0]]]


def test_csv_answers_are_one_label_per_row():
    assert output_rows({"data": "0\n1\n", "encoding": "CSV"}) == [{"label": "0"}, {"label": "1"}]


def test_the_destination_selects_the_azure_sink(monkeypatch):
    monkeypatch.setattr("services.model_server.capture_azure.AzureCollectorSink.__init__",
                        lambda self, names: setattr(self, "feature_names", list(names)))
    sink = open_sink(DESTINATION, 500, 60.0, NAMES)
    assert isinstance(sink, AzureCollectorSink) and sink.feature_names == NAMES


SCRIPT = textwrap.dedent("""
    import json, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    posts = []

    class Sidecar(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.append({"type": self.headers["ce-type"], "body": body.decode()})
            self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sidecar)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    import os
    os.environ.update(AZUREML_MDC_ENABLED="true", AZUREML_MDC_HOST="127.0.0.1",
                      AZUREML_MDC_PORT=str(server.server_address[1]))
    from services.model_server.capture_azure import AzureCollectorSink
    sink = AzureCollectorSink(["mean radius", "mean texture"])
    sink.write([sys.stdin.buffer.read()])
    for _ in range(100):
        if len(posts) >= 2:
            break
        time.sleep(0.05)
    print(json.dumps({"posts": posts, "errors": sink.errors}))
""")


def test_the_real_sdk_posts_inputs_and_outputs_to_the_collector_sidecar():
    """azureml-ai-monitoring sends each collection to the sidecar (`ce-type: azureml.inference.<collection>`);
    run in a fresh interpreter because the SDK configures itself once per process from the environment."""
    result = subprocess.run([sys.executable, "-c", SCRIPT], input=_line(b'{"instances": [[1.5, 2.5]]}',
                                                                        "application/json"),
                            capture_output=True, timeout=60, check=True)
    report = json.loads(result.stdout.decode().strip().splitlines()[-1])  # the SDK logs to stdout before it
    assert report["errors"] == 0
    by_type = {p["type"]: json.loads(p["body"]) for p in report["posts"]}
    assert set(by_type) == {"azureml.inference.model_inputs", "azureml.inference.model_outputs"}
    assert by_type["azureml.inference.model_inputs"] == [{"mean radius": 1.5, "mean texture": 2.5}]
