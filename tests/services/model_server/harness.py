"""Ways to talk to the real server: in-process through ASGI, or as a process over loopback."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.model_server.access_log import JsonLog
from services.model_server.app import ModelServer
from services.model_server.settings import Settings
from tests.services.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Reply:
    """An HTTP response as the client saw it."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class InProcessServer:
    """The real ASGI app driven on one persistent event loop, without sockets (fast for property tests)."""

    def __init__(self, env: dict[str, str]) -> None:
        from services.model_server.__main__ import build

        self.log_stream = io.BytesIO()
        self.settings = Settings.from_env(env)
        self.app: ModelServer = build(self.settings, JsonLog(self.log_stream))
        self.runner = asyncio.Runner()

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Reply:
        return self.runner.run(self.arequest(method, path, body, headers))

    async def arequest(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Reply:
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body and not any(k == b"content-length" for k, _ in raw_headers):
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {"type": "http", "method": method, "path": path, "headers": raw_headers, "query_string": b""}
        chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            chunk = chunks.pop(0) if chunks else b""
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return Reply(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, payload)

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_stream.getvalue().splitlines()]

    def close(self) -> None:
        self.app.close()
        self.runner.close()


class ServerProcess:
    """``python -m services.model_server`` as a child process on 127.0.0.1, stdout kept in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("AIP_", "AZUREML_", "MODEL_"))}
        full_env.update({"HOST": "127.0.0.1", "PORT": str(self.port), **env})
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.model_server"],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.url, timeout=10.0)

    def wait_ready(self, timeout: float = 30.0) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                if self.client.get("/ping").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.log_path.read_text()}")

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.startswith("{")]

    def stop(self) -> int:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode
