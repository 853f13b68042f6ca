"""The router's nginx.conf: a weighted split across each service's slots that takes a failing slot out of rotation.

Rendered from the `Topology` alone (a pure function), so the router's behaviour is in the plan and in the diff of a
pull request. Per service, an `upstream` lists the slots that take traffic with their configured weights (nginx
weights are relative, so 90 / 10 splits 90 % / 10 %); a weight-0 slot is not listed, even when kept warm.

Passive health checks (open-source nginx has no active ones): a slot that fails `max_fails` times within
`fail_timeout` is left out for `fail_timeout`; the failed request is retried on the next slot
(`proxy_next_upstream`) at most `tries` times in total and within `retry_timeout_seconds`, so a slot that
stops answering costs no client request as long as another slot is up. nginx does not retry a POST that already
reached a slot (`non_idempotent` is deliberately not set: a prediction that reached a server may have been
captured); connection errors, which is what a stopped slot gives, are retried.
(https://nginx.org/en/docs/http/ngx_http_upstream_module.html#server,
https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from components.local.topology import SlotEndpoint, Topology

SLOT_HEADER = "X-Upstream"
"""Response header naming the slot address that answered (which slot served a request)."""


@dataclass(frozen=True)
class RouterOptions:
    """How the router listens, fails over and times out."""

    listen_port: int = 8080
    """Port inside the router container (nginx-unprivileged listens above 1024)."""
    max_fails: int = 1
    """Failed attempts within `fail_timeout_seconds` that take a slot out of rotation."""
    fail_timeout_seconds: int = 10
    """How long a failed slot stays out (and the window in which failures count)."""
    tries: int = 2
    """Attempts per request, the first included: the retry budget (one retry on the other slot)."""
    retry_timeout_seconds: int = 10
    connect_timeout_seconds: int = 2
    read_timeout_seconds: int = 30
    max_body: str = "6m"
    """Largest request body (the model server's own limit, SageMaker's payload cap)."""
    runtime_dir: str = "/tmp"
    """Where pid and temporary files go (writable in the read-only-root router)."""
    access_log: str = "/dev/stdout"


Address = Callable[[SlotEndpoint], str]


def _docker_address(slot: SlotEndpoint) -> str:
    return slot.address


def render_nginx_conf(topology: Topology, options: RouterOptions = RouterOptions(),
                      address: Address = _docker_address) -> str:
    """nginx.conf for the router. `address` maps a slot to `host:port` (default: its container on the network;
    tests pass loopback ports to run the same file in front of local processes)."""
    o = options
    lines = [
        "# Rendered by components/local/nginx_conf.py from the stack config; edit the stack file, not this.",
        "worker_processes 1;",
        f"pid {o.runtime_dir}/nginx.pid;",
        "error_log stderr warn;",
        "events { worker_connections 1024; }",
        "http {",
        f"    access_log {o.access_log};",
        *(f"    {kind}_temp_path {o.runtime_dir}/{kind}_temp;" for kind in
          ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        f"    client_max_body_size {o.max_body};",
        "    server_tokens off;",
    ]
    for route in topology.routes:
        serving = [slot for slot in route.slots if slot.takes_traffic]
        if not serving:
            continue
        lines.append(f"    upstream {route.upstream} {{")
        lines += [f"        server {address(slot)} weight={slot.weight} max_fails={o.max_fails} "
                  f"fail_timeout={o.fail_timeout_seconds}s;  # {slot.slot}, model {slot.model_version}"
                  for slot in serving]
        lines += ["        keepalive 16;", "    }"]
    lines += [
        "    server {",
        f"        listen {o.listen_port};",
        '        location = /healthz { default_type text/plain; return 200 "ok\\n"; }',
    ]
    for route in topology.routes:
        if not any(slot.takes_traffic for slot in route.slots):
            continue
        lines += [
            f"        location {route.path} {{",
            f"            proxy_pass http://{route.upstream}/;",
            "            proxy_http_version 1.1;",
            '            proxy_set_header Connection "";',
            "            proxy_set_header Host $host;",
            "            proxy_set_header X-Request-Id $request_id;",
            "            proxy_next_upstream error timeout http_502 http_503 http_504;",
            f"            proxy_next_upstream_tries {o.tries};",
            f"            proxy_next_upstream_timeout {o.retry_timeout_seconds}s;",
            f"            proxy_connect_timeout {o.connect_timeout_seconds}s;",
            f"            proxy_read_timeout {o.read_timeout_seconds}s;",
            f"            add_header {SLOT_HEADER} $upstream_addr always;",
            "        }",
        ]
    lines += ["    }", "}", ""]
    return "\n".join(lines)
