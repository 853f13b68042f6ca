"""What the Docker provider computes (pushed image digests)."""

from __future__ import annotations

from typing import Any

from infra.plan.fakes import Ctx, digest, provider


def _docker_image(ctx: Ctx) -> dict[str, Any]:
    image = str(ctx.inputs.get("imageName") or ctx.name)
    return {"id": image, "imageName": image, "repoDigest": f"{image.split(':')[0]}@sha256:{digest(image, length=64)}"}


provider("docker:", resources={"docker:index/image:Image": _docker_image})
