"""What Google Cloud computes for the resources and invokes the GCP components use."""

from __future__ import annotations

from typing import Any

from infra.plan.fakes import Ctx, provider


def _gcp_default(ctx: Ctx) -> dict[str, Any]:
    name = ctx.physical
    collection = ctx.type.rsplit(":", 1)[-1][0].lower() + ctx.type.rsplit(":", 1)[-1][1:] + "s"
    path = f"projects/{ctx.cloud.project}/locations/{ctx.cloud.region}/{collection}/{name}"
    return {"id": path, "name": name, "selfLink": f"https://www.googleapis.com/{path}"}


provider(
    "gcp:",
    invokes={
        "gcp:organizations/getProject:getProject": lambda c, _: {
            "id": f"projects/{c.project}", "projectId": c.project, "number": "123456789012", "name": c.project},
        "gcp:organizations/getClientConfig:getClientConfig": lambda c, _: {
            "id": c.project, "project": c.project, "region": c.region, "zone": f"{c.region}-a",
            "accessToken": "plan-token"},
    },
    default=_gcp_default,
)
