"""The third-party images the local platform runs, pinned to exact versions (never `latest`), and who they run as.

A tag that moves would make two laptops run different platforms from the same stack file; each pin is an exact
release tag. `user` is the non-root uid the image is designed for; `None` marks the two images that write a
root-owned data volume (registry:2 and MinIO), which run as root with every capability dropped instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PinnedImage:
    reference: str
    """`<repository>:<exact version tag>`."""
    user: str | None
    """uid:gid the container runs as; None: the image's root user (documented reason in `root_reason`)."""
    root_reason: str = ""


PLATFORM_IMAGES: dict[str, PinnedImage] = {
    "registry": PinnedImage("registry:2.8.3", None, "writes /var/lib/registry, a root-owned volume"),
    "minio": PinnedImage("minio/minio:RELEASE.2024-10-13T13-34-11Z", None, "writes /data, a root-owned volume"),
    "mc": PinnedImage("minio/mc:RELEASE.2024-10-08T09-37-26Z", "10001:10001"),
    "router": PinnedImage("nginxinc/nginx-unprivileged:1.27.2-alpine", "101:101"),
    "prometheus": PinnedImage("prom/prometheus:v2.55.0", "65534:65534"),
    "alertmanager": PinnedImage("prom/alertmanager:v0.27.0", "65534:65534"),
    "pushgateway": PinnedImage("prom/pushgateway:v1.10.0", "65534:65534"),
    "grafana": PinnedImage("grafana/grafana:11.3.0", "472:0"),
}

SERVICE_USER = "10001:10001"
"""The model server and drift monitor images' own non-root user (services/*/Dockerfile)."""
