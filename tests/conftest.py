"""Shared fixtures: plan a stack or a single component under the Pulumi SDK's mocks.

    def test_bucket_is_versioned(plan_component):
        plan = plan_component(lambda: ArtifactStore("art", ArtifactStoreArgs(...)))
        versioning = plan.of_type("aws:s3/bucketVersioning:BucketVersioning")

    def test_prod_protects_bucket(stack_plan):
        plan = stack_plan("prod")

Every call runs in a fresh Pulumi runtime state, so tests are isolated and run in any order.
AWS calls go to moto's server mode (real HTTP, real boto3): `moto_endpoint` is the server, `aws_env`
points boto3 at it through the standard environment variables.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.plan.engine import Plan, plan_program, plan_stack
from infra.plan.fakes import Cloud
from tests.services.ports import free_port
from tests.support.tools import AZURITE_ACCOUNT, AZURITE_KEY, require_azurite

_STACK_PLANS: dict[str, Plan] = {}


@pytest.fixture
def plan_component() -> Callable[..., Plan]:
    """Run `build()` as a Pulumi program (a preview under mocks) and return what it registered."""

    def run(build: Callable[[], Any], *, stack: str = "dev", config: dict[str, str] | None = None,
            cloud: Cloud | None = None) -> Plan:
        return plan_program(build, stack=stack, config=config, cloud=cloud)

    return run


@pytest.fixture
def stack_plan() -> Callable[[str], Plan]:
    """The plan of a committed stack (computed once per test session; treat it as read-only)."""

    def get(stack: str) -> Plan:
        if stack not in _STACK_PLANS:
            _STACK_PLANS[stack] = plan_stack(stack)
        return _STACK_PLANS[stack]

    return get


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a moto server (real HTTP) for the whole session; stopped afterwards."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, moto_endpoint: str) -> str:
    """Point boto3 at moto through the standard environment variables only."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return moto_endpoint


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[str]:
    """A GCS emulator on 127.0.0.1 (in memory) per test module (trainer and drift monitor gs:// tests)."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The connection string of an Azurite blob service on 127.0.0.1 (in memory) per test module.

    `--skipApiVersionCheck`: azure-storage-blob may speak a newer x-ms-version than the pinned Azurite knows.
    """
    port = free_port()
    log = tmp_path_factory.mktemp("azurite") / "azurite.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*require_azurite(), "--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", str(port),
             "--skipApiVersionCheck", "--disableTelemetry"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"Azurite exited with {process.returncode}: {log.read_text()}", pytrace=False)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Azurite did not listen on port {port} within 30 s: {log.read_text()}", pytrace=False)
                time.sleep(0.1)
        yield (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
               f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
