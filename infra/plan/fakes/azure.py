"""What Azure computes for the resources and invokes the Azure components use."""

from __future__ import annotations

from typing import Any

from infra.plan.fakes import SUBSCRIPTION_ID, TENANT_ID, Ctx, provider


def _azure_default(ctx: Ctx) -> dict[str, Any]:
    name = ctx.physical
    provider = ctx.type.split(":")[1].split("/")[0]
    resource_type = ctx.type.rsplit(":", 1)[-1]
    rid = (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{ctx.cloud.resource_group}/providers/"
           f"Microsoft.{provider[0].upper()}{provider[1:]}/{resource_type[0].lower()}{resource_type[1:]}s/{name}")
    return {"id": rid, "name": name}


provider(
    "azure-native:",
    invokes={
        "azure-native:authorization:getClientConfig": lambda c, _: {
            "clientId": "22222222-2222-2222-2222-222222222222", "objectId": "33333333-3333-3333-3333-333333333333",
            "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID},
    },
    default=_azure_default,
)
