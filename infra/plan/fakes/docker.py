"""What the Docker provider computes (pushed image digests)."""

from __future__ import annotations

from typing import Any

from infra.plan.fakes import Ctx, digest, provider


def _docker_image(ctx: Ctx) -> dict[str, Any]:
    image = str(ctx.inputs.get("imageName") or ctx.name)
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image  # a registry port stays
    return {"id": image, "imageName": image, "repoDigest": f"{repository}@sha256:{digest(image, length=64)}"}


provider("docker:", resources={"docker:index/image:Image": _docker_image})
