"""`VertexDeployment`: the models deployed on a Vertex AI endpoint (one per slot) and the endpoint's traffic split.

Why a dynamic resource: the provider has no resource for a deployed model (hashicorp/terraform-provider-google
#15303), and an endpoint's `traffic_split` cannot be set on create because it may only name deployed models
(GoogleCloudPlatform/magic-modules#12110). This resource calls Google's `google-cloud-aiplatform` (`aiplatform_v1`
EndpointService / ModelService) in the order Vertex requires:

1. per slot whose spec changed (image, model, machine, service account: `slot_revision`): find the
   model uploaded for that spec (label `mlops-spec`) or upload it, then deploy it with no traffic
   (`deploy_model` with an empty `traffic_split` leaves the endpoint's split untouched); a slot whose only
   change is its min/max replicas is scaled in place (`mutate_deployed_model`), keeping its deployed model id
   and never needing twice its GPUs;
2. set the split, naming only deployed models (slot weights -> deployed model ids);
3. undeploy every deployed model the split no longer names (a model with traffic cannot be undeployed, so
   this comes after the split), and delete its uploaded model.

Every step starts from the endpoint as it is, not from Pulumi's recorded state, and a deployed model is
found by its display name `<slot>-<revision>`: after a failure half-way (a deploy timed out, the split
failed) Pulumi keeps the old state, the next `pulumi up` diffs against it, finds what already exists and does
only the rest. Delete empties the split, undeploys every model, then Pulumi deletes the endpoint (an endpoint
with deployed models cannot be deleted). Long-running operations are waited for with timeouts.
The SDK is imported only when a cloud call is made (never while planning).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dyn

from components.naming import content_hash
from components.serving import SLOT_NAMES, TOTAL_WEIGHT

UPLOAD_TIMEOUT_S = 1800
DEPLOY_TIMEOUT_S = 3600
"""A GPU deployment can take most of an hour to get capacity and pass its health checks."""
UNDEPLOY_TIMEOUT_S = 1800
IDENTITY = ("project", "region", "endpoint")
"""Inputs that name the endpoint: a change means another endpoint (replace)."""
SLOT_KEYS = ("image", "artifactUri", "modelUri", "modelVersion", "machineType", "acceleratorType",
             "acceleratorCount", "serviceAccount", "predictRoute", "healthRoute", "port")
SCALE_KEYS = ("minReplicas", "maxReplicas")
"""Mutable on a deployed model (MutateDeployedModelRequest: min/max_replica_count), so not part of a revision."""
_MANAGED = re.compile(r"^(?P<slot>blue|green)-(?P<revision>[0-9a-f]{10})$")


class DeploymentError(RuntimeError):
    """The declared deployment cannot be applied; the message names the endpoint and the fix."""


def slot_revision(slot: Mapping[str, Any]) -> str:
    """A hash of what a slot deploys: a new model is deployed exactly when it changes."""
    return content_hash(json.dumps({k: slot.get(k) for k in SLOT_KEYS}, sort_keys=True), length=10)


def split_problems(slots: Mapping[str, Any], traffic: Mapping[str, int]) -> list[str]:
    """What Vertex would refuse in a split (empty when valid)."""
    problems = []
    unknown = sorted(set(traffic) - set(slots))
    if unknown:
        problems.append(f"traffic names slot(s) {', '.join(unknown)} that are not deployed; Vertex splits only "
                        "between deployed models")
    total = sum(int(w) for w in traffic.values())
    if traffic and total not in (0, TOTAL_WEIGHT):
        problems.append(f"traffic must sum to {TOTAL_WEIGHT} (or be empty), got {total}")
    return problems


def vertex_clients(region: str) -> tuple[Any, Any]:
    """(EndpointServiceClient, ModelServiceClient) on the region's API host, with application default credentials."""
    from google.cloud import aiplatform_v1

    options = {"api_endpoint": f"{region}-aiplatform.googleapis.com"}
    return (aiplatform_v1.EndpointServiceClient(client_options=options),
            aiplatform_v1.ModelServiceClient(client_options=options))


class DeploymentProvider(dyn.ResourceProvider):
    """Create / read / update / delete / diff of one endpoint's deployed models and split."""

    def __init__(self, clients: Callable[[str], tuple[Any, Any]] = vertex_clients):
        super().__init__()
        self._clients = clients

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        failures = [dyn.CheckFailure(key, "required") for key in IDENTITY if not news.get(key)]
        failures += [dyn.CheckFailure("traffic", p) for p in split_problems(news.get("slots") or {},
                                                                            news.get("traffic") or {})]
        return dyn.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        replaces = [key for key in IDENTITY if olds.get(key) != news.get(key)]
        changed = [key for key in ("traffic", "labels", "encryptionKey") if olds.get(key) != news.get(key)]
        if olds.get("revisions") != _revisions(news) or _scales(olds) != _scales(news):
            changed.append("slots")
        return dyn.DiffResult(changes=bool(replaces or changed), replaces=replaces, stables=[],
                              delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        return dyn.CreateResult(f"{props['endpoint']}/deployment", {**props, **self._apply(props)})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        return dyn.UpdateResult({**news, **self._apply(news)})

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        from google.api_core.exceptions import NotFound

        endpoints, _ = self._clients(props["region"])
        try:
            endpoint = endpoints.get_endpoint(name=props["endpoint"])
        except NotFound:
            return dyn.ReadResult("", {})
        return dyn.ReadResult(id_, {**props, **_observed(endpoint)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from google.api_core.exceptions import NotFound

        endpoints, models = self._clients(props["region"])
        try:
            endpoint = endpoints.get_endpoint(name=props["endpoint"])
        except NotFound:
            return
        if dict(endpoint.traffic_split):
            _set_split(endpoints, props["endpoint"], {})
        for deployed in endpoint.deployed_models:
            _undeploy(endpoints, models, props["endpoint"], deployed)

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        from google.api_core.exceptions import NotFound

        name, slots = props["endpoint"], props.get("slots") or {}
        endpoints, models = self._clients(props["region"])
        try:
            endpoint = endpoints.get_endpoint(name=name)
        except NotFound:
            raise DeploymentError(f"Vertex AI endpoint {name} does not exist; run `pulumi up` again once it is "
                                  "created (or `pulumi refresh` if it was deleted outside Pulumi)") from None
        revisions = _revisions(props)
        existing = {d.display_name: d for d in endpoint.deployed_models}
        ids: dict[str, str] = {}
        for slot in (s for s in SLOT_NAMES if s in slots):
            display = f"{slot}-{revisions[slot]}"
            if display in existing:
                ids[slot] = existing[display].id
                _scale(endpoints, name, existing[display], slots[slot])
                continue
            model = _model(models, props, slot, revisions[slot])
            ids[slot] = _deploy(endpoints, name, model, display, slots[slot])
        split = {ids[slot]: int(weight) for slot, weight in (props.get("traffic") or {}).items() if int(weight)}
        if dict(endpoint.traffic_split) != split:
            _set_split(endpoints, name, split)
        keep = set(ids.values())
        for deployed in endpoints.get_endpoint(name=name).deployed_models:
            if deployed.id not in keep:
                _undeploy(endpoints, models, name, deployed)
        return {"revisions": revisions, "deployedModelIds": ids,
                "traffic": {slot: int(w) for slot, w in (props.get("traffic") or {}).items()}}


def _scales(props: Mapping[str, Any]) -> dict[str, list[int]]:
    slots = sorted((props.get("slots") or {}).items())
    return {slot: [int(spec.get(k) or 0) for k in SCALE_KEYS] for slot, spec in slots}


def _revisions(props: Mapping[str, Any]) -> dict[str, str]:
    return {slot: slot_revision(spec) for slot, spec in sorted((props.get("slots") or {}).items())}


def _observed(endpoint: Any) -> dict[str, Any]:
    """The slots' revisions, ids and weights as the endpoint has them (deployed models we did not name are left out)."""
    revisions, ids, traffic = {}, {}, {}
    split = dict(endpoint.traffic_split)
    for deployed in endpoint.deployed_models:
        match = _MANAGED.match(deployed.display_name)
        if match:
            revisions[match["slot"]], ids[match["slot"]] = match["revision"], deployed.id
            traffic[match["slot"]] = int(split.get(deployed.id, 0))
    return {"revisions": revisions, "deployedModelIds": ids, "traffic": traffic}


def _model(models: Any, props: Mapping[str, Any], slot: str, revision: str) -> str:
    """The model uploaded for this slot revision: found by its label, else uploaded (idempotent across retries)."""
    from google.cloud.aiplatform_v1 import types

    parent = f"projects/{props['project']}/locations/{props['region']}"
    found = list(models.list_models(request=types.ListModelsRequest(parent=parent,
                                                                     filter=f'labels.mlops-spec="{revision}"')))
    if found:
        return found[0].name
    spec = props["slots"][slot]
    env = [types.EnvVar(name="MODEL_URI", value=spec["modelUri"]),
           types.EnvVar(name="MODEL_VERSION", value=spec["modelVersion"])]
    model = types.Model(
        display_name=f"{props['service']}-{slot}-{revision}", artifact_uri=spec["artifactUri"],
        container_spec=types.ModelContainerSpec(
            image_uri=spec["image"], predict_route=spec["predictRoute"], health_route=spec["healthRoute"],
            ports=[types.Port(container_port=int(spec["port"]))], env=env),
        labels={**(props.get("labels") or {}), "mlops-slot": slot, "mlops-spec": revision},
        encryption_spec=types.EncryptionSpec(kms_key_name=props["encryptionKey"]) if props.get("encryptionKey")
        else None)
    return models.upload_model(parent=parent, model=model).result(timeout=UPLOAD_TIMEOUT_S).model


def _deploy(endpoints: Any, endpoint: str, model: str, display: str, spec: Mapping[str, Any]) -> str:
    from google.cloud.aiplatform_v1 import types

    machine = types.MachineSpec(machine_type=spec["machineType"])
    if spec.get("acceleratorType"):
        machine.accelerator_type = spec["acceleratorType"]
        machine.accelerator_count = int(spec["acceleratorCount"])
    deployed = types.DeployedModel(
        model=model, display_name=display, service_account=spec["serviceAccount"], enable_access_logging=True,
        dedicated_resources=types.DedicatedResources(machine_spec=machine, min_replica_count=int(spec["minReplicas"]),
                                                     max_replica_count=int(spec["maxReplicas"])))
    operation = endpoints.deploy_model(endpoint=endpoint, deployed_model=deployed, traffic_split={})
    return operation.result(timeout=DEPLOY_TIMEOUT_S).deployed_model.id


def _scale(endpoints: Any, endpoint: str, deployed: Any, spec: Mapping[str, Any]) -> None:
    """Set a deployed model's min/max replicas in place when they differ from the slot's."""
    from google.cloud.aiplatform_v1 import types
    from google.protobuf import field_mask_pb2

    wanted = (int(spec["minReplicas"]), int(spec["maxReplicas"]))
    resources = deployed.dedicated_resources
    if (resources.min_replica_count, resources.max_replica_count) == wanted:
        return
    changed = types.DeployedModel(id=deployed.id, dedicated_resources=types.DedicatedResources(
        machine_spec=resources.machine_spec, min_replica_count=wanted[0], max_replica_count=wanted[1]))
    endpoints.mutate_deployed_model(endpoint=endpoint, deployed_model=changed, update_mask=field_mask_pb2.FieldMask(
        paths=["dedicated_resources.min_replica_count", "dedicated_resources.max_replica_count"])
    ).result(timeout=DEPLOY_TIMEOUT_S)


def _set_split(endpoints: Any, endpoint: str, split: Mapping[str, int]) -> None:
    from google.cloud.aiplatform_v1 import types
    from google.protobuf import field_mask_pb2

    endpoints.update_endpoint(endpoint=types.Endpoint(name=endpoint, traffic_split=dict(split)),
                              update_mask=field_mask_pb2.FieldMask(paths=["traffic_split"]))


def _undeploy(endpoints: Any, models: Any, endpoint: str, deployed: Any) -> None:
    from google.api_core.exceptions import FailedPrecondition, NotFound

    endpoints.undeploy_model(endpoint=endpoint, deployed_model_id=deployed.id).result(timeout=UNDEPLOY_TIMEOUT_S)
    # The model goes too, unless another endpoint still serves it or Vertex still holds its resources right after
    # the undeploy (googleapis/python-aiplatform#2807): then it stays in the registry, undeployed and harmless.
    with contextlib.suppress(FailedPrecondition, NotFound):
        models.delete_model(name=deployed.model).result(timeout=UNDEPLOY_TIMEOUT_S)


@dataclass(frozen=True)
class VertexSlot:
    """What one slot deploys (`VertexDeploymentArgs.slots`)."""

    image: pulumi.Input[str]
    artifact_uri: pulumi.Input[str]
    """`gs://` folder of the model version (Vertex copies it and sets AIP_STORAGE_URI)."""
    model_uri: pulumi.Input[str]
    """`gs://.../model.tar.gz`, passed as MODEL_URI."""
    model_version: str
    machine_type: str
    accelerator_type: str | None
    accelerator_count: int
    min_replicas: int
    max_replicas: int
    service_account: pulumi.Input[str]
    predict_route: str
    health_route: str
    port: int

    def props(self) -> dict[str, Any]:
        return {"image": self.image, "artifactUri": self.artifact_uri, "modelUri": self.model_uri,
                "modelVersion": self.model_version, "machineType": self.machine_type,
                "acceleratorType": self.accelerator_type or "", "acceleratorCount": self.accelerator_count,
                "minReplicas": self.min_replicas, "maxReplicas": self.max_replicas,
                "serviceAccount": self.service_account, "predictRoute": self.predict_route,
                "healthRoute": self.health_route, "port": self.port}


@dataclass(frozen=True)
class VertexDeploymentArgs:
    service: str
    project: str
    region: str
    endpoint: pulumi.Input[str]
    """The endpoint's resource name `projects/<p>/locations/<r>/endpoints/<id>`."""
    slots: Mapping[str, VertexSlot]
    """Slots to deploy (weight-0 slots that are not kept warm are left out)."""
    traffic: Mapping[str, int]
    """Slot -> percent; names only slots in `slots`, sums to 100."""
    encryption_key: pulumi.Input[str] | None = None
    labels: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        problems = split_problems(self.slots, self.traffic)
        if problems:
            raise ValueError("; ".join(problems))


class VertexDeployment(dyn.Resource, module="vertex", name="VertexDeployment"):
    """Deployed models and traffic of one Vertex AI endpoint (`pulumi-python:dynamic/vertex:VertexDeployment`)."""

    traffic: pulumi.Output[dict[str, int]]
    deployedModelIds: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: VertexDeploymentArgs, opts: pulumi.ResourceOptions | None = None,
                 provider: DeploymentProvider | None = None):
        props = {"service": args.service, "project": args.project, "region": args.region, "endpoint": args.endpoint,
                 "slots": {slot: spec.props() for slot, spec in args.slots.items()},
                 "traffic": {slot: int(w) for slot, w in args.traffic.items()},
                 "encryptionKey": args.encryption_key or "", "labels": dict(args.labels or {}),
                 "revisions": None, "deployedModelIds": None}
        super().__init__(provider or DeploymentProvider(), name, props, opts)
