"""`EndpointTraffic`: an Azure ML online endpoint's traffic and mirror traffic, set after its deployments exist.

Why a dynamic resource: an endpoint's `traffic` may only name deployments that exist
(Azure/azureml-examples#3311), and the deployments need the endpoint first, so the endpoint itself cannot
declare its split on create. This resource depends on the deployments and sets the split with Microsoft's
`azure-ai-ml` SDK (GET the endpoint, set `traffic` / `mirror_traffic`, PUT it back with
`online_endpoints.begin_create_or_update`), so one `pulumi up` converges from empty and from any earlier
split. Pulumi orders it: new deployments are created before it updates, and deployments the program no
longer declares are deleted after it (a deployment with traffic cannot be deleted).

- create / update: refuse to route to a deployment that does not exist or failed to provision, then PUT
  the split and return what the service applied. A failure after the PUT was accepted (a poller error)
  leaves Pulumi with the old state; the next `pulumi up` diffs against it and PUTs the same split again
  (the call is idempotent), so a half-way failure converges.
- delete: sets the split to nothing (when the endpoint still exists), so the deployments can be deleted.
- read (`pulumi refresh`): the live split, so drift made in the studio or CLI shows up as a diff.
- diff: an update when the split or `endpointRevision` (a hash of what the endpoint declares: an endpoint
  PUT by the azure-native provider carries no traffic, so the split is re-applied after every endpoint
  update) changes; a replacement when the endpoint itself is another one.

The SDK is imported only when a cloud call is made (never while planning).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from components.serving import TOTAL_WEIGHT

MAX_MIRROR_PERCENT = 50
"""Azure ML mirrors at most 50% of requests in total (OnlineEndpointProperties.mirrorTraffic)."""
IDENTITY = ("subscriptionId", "resourceGroupName", "workspaceName", "endpointName")
"""Inputs that name the endpoint: a change means another endpoint (replace)."""


class TrafficError(RuntimeError):
    """The split cannot be applied; the message names the endpoint, the deployments and the fix."""


def split_problems(traffic: Mapping[str, int], mirror: Mapping[str, int]) -> list[str]:
    """What Azure ML would refuse in a split (empty when valid)."""
    problems = []
    live = {name: int(weight) for name, weight in traffic.items() if int(weight)}
    if any(not 0 <= int(w) <= TOTAL_WEIGHT for w in (*traffic.values(), *mirror.values())):
        problems.append(f"weights must be 0..{TOTAL_WEIGHT}: traffic {dict(traffic)}, mirror {dict(mirror)}")
    if live and sum(live.values()) != TOTAL_WEIGHT:
        problems.append(f"traffic must sum to {TOTAL_WEIGHT}, got {sum(live.values())} ({live})")
    if sum(int(w) for w in mirror.values()) > MAX_MIRROR_PERCENT:
        problems.append(f"mirror traffic must sum to at most {MAX_MIRROR_PERCENT}, got {dict(mirror)}")
    both = sorted(name for name, weight in mirror.items() if int(weight) and name in live)
    if both:
        problems.append(f"deployment(s) {', '.join(both)} cannot take live and mirrored traffic at once")
    return problems


def _nonzero(split: Mapping[str, Any] | None) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted((split or {}).items()) if int(v)}


def ml_client(subscription_id: str, resource_group: str, workspace: str) -> Any:
    """An `azure.ai.ml.MLClient` for the workspace, authenticated like the CLI (DefaultAzureCredential)."""
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    return MLClient(DefaultAzureCredential(), subscription_id, resource_group, workspace)


class TrafficProvider(dyn.ResourceProvider):
    """Create / read / update / delete / diff of one endpoint's split through `client_factory(sub, rg, ws)`."""

    def __init__(self, client_factory: Callable[[str, str, str], Any] = ml_client):
        super().__init__()
        self._client_factory = client_factory

    def _client(self, props: Mapping[str, Any]) -> Any:
        return self._client_factory(props["subscriptionId"], props["resourceGroupName"], props["workspaceName"])

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        failures = [dyn.CheckFailure(key, "required") for key in IDENTITY if not news.get(key)]
        failures += [dyn.CheckFailure("traffic", problem)
                     for problem in split_problems(news.get("traffic") or {}, news.get("mirrorTraffic") or {})]
        return dyn.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        replaces = [key for key in IDENTITY if olds.get(key) != news.get(key)]
        changed = [key for key in ("traffic", "mirrorTraffic") if _nonzero(olds.get(key)) != _nonzero(news.get(key))]
        if olds.get("endpointRevision") != news.get("endpointRevision"):
            changed.append("endpointRevision")
        return dyn.DiffResult(changes=bool(replaces or changed), replaces=replaces, stables=[],
                              delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        applied = self._apply(props)
        return dyn.CreateResult(f"{props['workspaceName']}/{props['endpointName']}/traffic", {**props, **applied})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        return dyn.UpdateResult({**news, **self._apply(news)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        client = self._client(props)
        try:
            endpoint = client.online_endpoints.get(props["endpointName"])
        except ResourceNotFoundError:
            return  # the endpoint is gone, and its split with it
        if not _nonzero(endpoint.traffic) and not _nonzero(endpoint.mirror_traffic):
            return
        endpoint.traffic, endpoint.mirror_traffic = {}, {}
        client.online_endpoints.begin_create_or_update(endpoint).result()

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            endpoint = self._client(props).online_endpoints.get(props["endpointName"])
        except ResourceNotFoundError:
            return dyn.ReadResult("", {})  # gone: the next `pulumi up` creates it again
        return dyn.ReadResult(id_, {**props, "traffic": _nonzero(endpoint.traffic),
                                    "mirrorTraffic": _nonzero(endpoint.mirror_traffic)})

    def _apply(self, props: Mapping[str, Any]) -> dict[str, dict[str, int]]:
        from azure.core.exceptions import ResourceNotFoundError

        name, workspace = props["endpointName"], props["workspaceName"]
        traffic, mirror = _nonzero(props.get("traffic")), _nonzero(props.get("mirrorTraffic"))
        client = self._client(props)
        try:
            endpoint = client.online_endpoints.get(name)
        except ResourceNotFoundError:
            raise TrafficError(f"online endpoint {name!r} does not exist in workspace {workspace!r}; "
                               "run `pulumi up` again once the endpoint is created") from None
        states = {d.name: str(getattr(d, "provisioning_state", "") or "") for d in
                  client.online_deployments.list(endpoint_name=name)}
        missing = sorted(d for d in {**traffic, **mirror} if d not in states)
        if missing:
            raise TrafficError(
                f"endpoint {name!r}: traffic names deployment(s) {', '.join(missing)} that do not exist "
                f"(existing: {', '.join(sorted(states)) or 'none'}); Azure ML only routes to existing deployments "
                "(Azure/azureml-examples#3311): deploy the slot first or give it weight 0")
        failed = sorted(d for d in {**traffic, **mirror} if states[d].lower() == "failed")
        if failed:
            raise TrafficError(
                f"endpoint {name!r}: deployment(s) {', '.join(failed)} failed to provision; traffic stays "
                f"{_nonzero(endpoint.traffic)}. Fix the slot (see `az ml online-deployment get-logs`) or roll "
                "back its weight to 0")
        endpoint.traffic, endpoint.mirror_traffic = dict(traffic), dict(mirror)
        result = client.online_endpoints.begin_create_or_update(endpoint).result()
        return {"traffic": _nonzero(result.traffic), "mirrorTraffic": _nonzero(result.mirror_traffic)}


@dataclass(frozen=True)
class EndpointTrafficArgs:
    subscription_id: pulumi.Input[str]
    """Subscription of the workspace."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the workspace."""
    workspace_name: pulumi.Input[str]
    """The Azure ML workspace."""
    endpoint_name: pulumi.Input[str]
    """The online endpoint whose split this sets."""
    traffic: Mapping[str, int]
    """Deployment -> percent of live traffic (deployments at 0 may be omitted); sums to 100."""
    mirror_traffic: Mapping[str, int]
    """Deployment -> percent of requests copied to it, responses discarded (at most 50 in total)."""
    endpoint_revision: pulumi.Input[str]
    """Changes whenever the endpoint's declared properties change, so the split is re-applied after its PUT."""

    def __post_init__(self) -> None:
        problems = split_problems(self.traffic, self.mirror_traffic)
        if problems:
            raise ValueError("; ".join(problems))


class EndpointTraffic(dyn.Resource, module="azureml", name="EndpointTraffic"):
    """The live split of one Azure ML online endpoint (type `pulumi-python:dynamic/azureml:EndpointTraffic`)."""

    traffic: pulumi.Output[dict[str, int]]
    """The split the service applied (deployments at 0 omitted)."""

    def __init__(self, name: str, args: EndpointTrafficArgs, opts: pulumi.ResourceOptions | None = None,
                 provider: TrafficProvider | None = None):
        props = {"subscriptionId": args.subscription_id, "resourceGroupName": args.resource_group_name,
                 "workspaceName": args.workspace_name, "endpointName": args.endpoint_name,
                 "traffic": _nonzero(args.traffic), "mirrorTraffic": _nonzero(args.mirror_traffic),
                 "endpointRevision": args.endpoint_revision}
        super().__init__(provider or TrafficProvider(), name, props, opts)
