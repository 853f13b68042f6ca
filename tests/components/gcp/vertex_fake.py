"""A fake Vertex AI region built from the real `aiplatform_v1` types and `google.api_core` errors.

It keeps what Vertex keeps (endpoints, their deployed models and traffic split, uploaded models with labels)
and enforces the rules that shape `VertexDeployment` (cloud.google.com/vertex-ai/docs/reference/rest/v1/
projects.locations.endpoints):
- a traffic split names only deployed models and sums to 100, or is empty;
- `deployModel` with an empty split leaves the split as it is; `undeployModel` refuses a model that still has
  traffic unless it is the last one (then the split ends up empty);
- an endpoint with deployed models cannot be deleted; a model deployed somewhere cannot be deleted.
Failures are injected per call: `fail[<method>] = error` raises before anything changes; `lost[<method>] =
error` lets the operation complete in Vertex but raises from `result()` (a timeout while waiting).
"""

from __future__ import annotations

import itertools
from typing import Any

from google.api_core.exceptions import FailedPrecondition, InvalidArgument, NotFound
from google.cloud.aiplatform_v1 import types

PARENT = "projects/p/locations/europe-west4"
ENDPOINT = f"{PARENT}/endpoints/1234567890"


def _copy(message: Any) -> Any:
    """A deep copy, as a response from the service would be."""
    return type(message).deserialize(type(message).serialize(message))


class Operation:
    def __init__(self, value: Any, error: Exception | None, waits: list[float]):
        self._value, self._error, self._waits = value, error, waits

    def result(self, timeout: float | None = None) -> Any:
        self._waits.append(timeout)
        if self._error:
            raise self._error
        return self._value


class FakeVertex:
    """Both clients at once: EndpointServiceClient and ModelServiceClient methods the provider calls."""

    def __init__(self) -> None:
        self.endpoints: dict[str, types.Endpoint] = {ENDPOINT: types.Endpoint(name=ENDPOINT)}
        self.models: dict[str, types.Model] = {}
        self.calls: list[str] = []
        self.waits: list[float] = []
        self.fail: dict[str, Exception] = {}
        self.lost: dict[str, Exception] = {}
        self._ids = itertools.count(101)

    def clients(self, region: str) -> tuple[FakeVertex, FakeVertex]:
        assert region == "europe-west4"
        return self, self

    def _call(self, method: str) -> Exception | None:
        self.calls.append(method)
        if method in self.fail:
            raise self.fail.pop(method)
        return self.lost.pop(method, None)

    def _endpoint(self, name: str) -> types.Endpoint:
        if name not in self.endpoints:
            raise NotFound(f"Endpoint {name} not found")
        return self.endpoints[name]

    # EndpointServiceClient
    def get_endpoint(self, name: str) -> types.Endpoint:
        self._call("get_endpoint")
        return _copy(self._endpoint(name))

    def deploy_model(self, endpoint: str, deployed_model: types.DeployedModel, traffic_split: dict) -> Operation:
        lost = self._call("deploy_model")
        ep = self._endpoint(endpoint)
        if deployed_model.model not in self.models:
            raise NotFound(f"Model {deployed_model.model} not found")
        deployed = _copy(deployed_model)
        deployed.id = str(next(self._ids))
        ep.deployed_models.append(deployed)
        if traffic_split:
            self._check_split(ep, {deployed.id if k == "0" else k: v for k, v in traffic_split.items()})
        return Operation(types.DeployModelResponse(deployed_model=deployed), lost, self.waits)

    def mutate_deployed_model(self, endpoint: str, deployed_model: types.DeployedModel, update_mask: Any) -> Operation:
        """Only replica counts (and autoscaling / logging) may change (MutateDeployedModelRequest)."""
        lost = self._call("mutate_deployed_model")
        assert set(update_mask.paths) <= {"dedicated_resources.min_replica_count",
                                          "dedicated_resources.max_replica_count"}, update_mask.paths
        target = next((d for d in self._endpoint(endpoint).deployed_models if d.id == deployed_model.id), None)
        if target is None:
            raise NotFound(f"DeployedModel {deployed_model.id} not found")
        target.dedicated_resources.min_replica_count = deployed_model.dedicated_resources.min_replica_count
        target.dedicated_resources.max_replica_count = deployed_model.dedicated_resources.max_replica_count
        return Operation(types.MutateDeployedModelResponse(deployed_model=_copy(target)), lost, self.waits)

    def update_endpoint(self, endpoint: types.Endpoint, update_mask: Any) -> types.Endpoint:
        self._call("update_endpoint")
        assert list(update_mask.paths) == ["traffic_split"]
        ep = self._endpoint(endpoint.name)
        self._check_split(ep, dict(endpoint.traffic_split))
        return ep

    def undeploy_model(self, endpoint: str, deployed_model_id: str, traffic_split: dict | None = None) -> Operation:
        lost = self._call("undeploy_model")
        ep = self._endpoint(endpoint)
        ids = [d.id for d in ep.deployed_models]
        if deployed_model_id not in ids:
            raise NotFound(f"DeployedModel {deployed_model_id} not found")
        if dict(ep.traffic_split).get(deployed_model_id) and len(ids) > 1 and not traffic_split:
            raise FailedPrecondition(f"DeployedModel {deployed_model_id} has traffic; move it away first")
        kept = [d for d in ep.deployed_models if d.id != deployed_model_id]
        del ep.deployed_models[:]
        ep.deployed_models.extend(kept)
        if not kept:
            ep.traffic_split.clear()
        return Operation(types.UndeployModelResponse(), lost, self.waits)

    def delete_endpoint(self, name: str) -> None:
        if self._endpoint(name).deployed_models:
            raise FailedPrecondition("Endpoint has deployed models; undeploy them first")
        del self.endpoints[name]

    def _check_split(self, ep: types.Endpoint, split: dict[str, int]) -> None:
        deployed = {d.id for d in ep.deployed_models}
        if set(split) - deployed:
            raise InvalidArgument(f"traffic split names models that are not deployed: {sorted(set(split) - deployed)}")
        if split and sum(split.values()) != 100:
            raise InvalidArgument(f"traffic split must sum to 100, got {sum(split.values())}")
        ep.traffic_split.clear()
        ep.traffic_split.update(split)

    # ModelServiceClient
    def upload_model(self, parent: str, model: types.Model) -> Operation:
        lost = self._call("upload_model")
        name = f"{parent}/models/{len(self.models) + 1}"
        self.models[name] = _copy(model)
        self.models[name].name = name
        return Operation(types.UploadModelResponse(model=name), lost, self.waits)

    def list_models(self, request: types.ListModelsRequest) -> list[types.Model]:
        self._call("list_models")
        key, _, value = request.filter.partition("=")
        label = key.strip().removeprefix("labels.")
        return [m for m in self.models.values() if m.labels.get(label) == value.strip('"')]

    def delete_model(self, name: str) -> Operation:
        lost = self._call("delete_model")
        if any(d.model == name for ep in self.endpoints.values() for d in ep.deployed_models):
            raise FailedPrecondition(f"Model {name} is deployed")
        self.models.pop(name)
        return Operation(None, lost, self.waits)

    # what a test looks at
    def live(self) -> dict[str, int]:
        """Slot -> weight on the endpoint, by deployed model display name."""
        ep = self.endpoints[ENDPOINT]
        return {d.display_name.split("-")[0]: int(ep.traffic_split.get(d.id, 0)) for d in ep.deployed_models}
