"""The rendered router for real: Debian's nginx with the planned config in front of two real model server processes.

Only the upstream addresses differ from the planned file (Docker DNS names become the loopback ports of the two
processes); weights, passive health checks and the retry budget are the rendered ones. Requests are bounded and go
to 127.0.0.1 only.
"""

from __future__ import annotations

import collections
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from components.local.nginx_conf import SLOT_HEADER, RouterOptions, render_nginx_conf
from components.local.topology import ServiceInput, SlotInput, build_topology
from tests.services.model_server.artifacts import breast_cancer, write_artifact
from tests.services.model_server.harness import ServerProcess
from tests.services.ports import free_port
from tests.support.tools import require_tool

WEIGHTS = {"blue": 80, "green": 20}
SERVICE = "fraud-detector"


@pytest.fixture(scope="module")
def slots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    servers = {}
    for slot, version in (("blue", "7"), ("green", "8")):
        workdir = tmp_path_factory.mktemp(slot)
        artifact = write_artifact(workdir / "artifact", version=version)
        servers[slot] = ServerProcess({"MODEL_URI": str(artifact)}, workdir / "server.log")
    try:
        yield {slot: server.wait_ready() for slot, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="module")
def router(slots: dict[str, ServerProcess], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    nginx = require_tool("nginx")
    workdir = tmp_path_factory.mktemp("router")
    topology = build_topology("mlops-test", [ServiceInput(SERVICE, "blue", False, {
        slot: SlotInput(weight, slot) for slot, weight in WEIGHTS.items()})])
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(render_nginx_conf(topology, RouterOptions(listen_port=port, runtime_dir=str(workdir),
                                                              access_log=str(workdir / "access.log")),
                                      address=lambda slot: f"127.0.0.1:{slots[slot.slot].port}"))
    user = " user root;" if os.geteuid() == 0 else ""  # workers must read the root-owned temp dirs
    process = subprocess.Popen([nginx, "-p", str(workdir), "-c", str(conf), "-g", f"daemon off;{user}"],
                               stdout=subprocess.DEVNULL, stderr=(workdir / "error.log").open("wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, workdir / "error.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx not ready: {log.read_text()}")


def _predict(client: httpx.Client, body: dict) -> tuple[int, str]:
    reply = client.post(f"/{SERVICE}/invocations", json=body)
    return reply.status_code, reply.headers.get(SLOT_HEADER, "")


def _slot_of(addresses: str, slots: dict[str, ServerProcess]) -> str:
    """The slot that answered (the last address nginx tried)."""
    last = addresses.split(",")[-1].strip()
    return next(name for name, server in slots.items() if last.endswith(f":{server.port}"))


def test_requests_land_on_the_slots_by_their_weights_and_a_stopped_slot_leaves_rotation(
        router: str, slots: dict[str, ServerProcess]):
    x, _, _ = breast_cancer()
    body = {"instances": x[:3].tolist()}
    with httpx.Client(base_url=router, timeout=10) as client:
        served = collections.Counter()
        for _ in range(300):
            status, upstream = _predict(client, body)
            assert status == 200
            served[_slot_of(upstream, slots)] += 1
        assert abs(100 * served["blue"] / 300 - WEIGHTS["blue"]) <= 3, served

        slots["green"].stop()  # mid-run: green stops answering
        statuses, retried = collections.Counter(), 0
        for _ in range(200):
            status, upstream = _predict(client, body)
            statuses[status] += 1
            retried += "," in upstream
            if status == 200:
                assert _slot_of(upstream, slots) == "blue"
    # one retry per request is the budget (tries=2): a stopped slot costs no client request ...
    assert statuses == {200: 200}, statuses
    # ... and is left out after its first failure (max_fails=1 within fail_timeout=10s), so almost no request
    # pays for a retry (one per pooled keepalive connection at most)
    assert retried <= 2, retried
