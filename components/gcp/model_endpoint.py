"""ModelEndpoint (Vertex AI): an endpoint per service and, per deployed slot, a model serving the slot's image.

- Endpoint (`gcp.vertex.AiEndpoint`): CMEK with the `vertex` key, request/response logging to BigQuery at the
  stack's capture rate. Its id must be numeric (at most 10 digits, no leading zero), so it is derived from the
  endpoint's name (`endpoint_id`): stable, and a re-created endpoint gets the same id. Its `trafficSplit` is
  ignored: `VertexDeployment` owns the split (GoogleCloudPlatform/magic-modules#12110).
- Slots: `VertexDeployment` uploads a model per deployed slot whose container spec is the model server's
  Vertex contract (image, `AIP_PREDICT_ROUTE` / `AIP_HEALTH_ROUTE` from the predict and health routes, port
  8080; services/model_server/README.md) and deploys it on the slot's machine (`machine_types.parse_instance_type`)
  with min replicas = the slot's instance count and max = the service's ceiling, running as the `serving`
  account; then it sets the split from the slot weights. Weight-0 slots deploy only when kept warm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.gcp.machine_types import parse_instance_type
from components.gcp.naming import GcpNames, endpoint_id
from components.gcp.vertex_deployment import VertexDeployment, VertexDeploymentArgs, VertexSlot
from components.serving import SlotSpec, deployed_slots

PORT = 8080
PREDICT_ROUTE = "/predict"
HEALTH_ROUTE = "/health"
"""The routes Vertex passes to the container as AIP_PREDICT_ROUTE / AIP_HEALTH_ROUTE."""


@dataclass(frozen=True)
class ModelEndpointArgs:
    service: str
    names: GcpNames
    project: str
    region: str
    slots: Mapping[str, SlotSpec]
    """`blue` and `green`; `model_uri` is the gs:// URI of the slot's model.tar.gz."""
    live: str
    keep_warm: bool
    max_replicas: int
    service_account: pulumi.Input[str]
    kms_key_id: pulumi.Input[str]
    log_destination: pulumi.Input[str]
    """`bq://<project>.<dataset>`."""
    log_sampling_percent: float = 100.0
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: tuple[pulumi.Resource, ...] = ()
    """What the endpoint needs first (the Vertex AI agent's grant on the key)."""
    deploy_after: tuple[pulumi.Resource, ...] = ()
    """What deployed models need first (the serving account's grants: it downloads the model at start)."""


class ModelEndpoint(pulumi.ComponentResource):
    endpoint_name: pulumi.Output[str]
    endpoint_id: str
    invoke_url: pulumi.Output[str]
    weights: dict[str, int]
    deployed_model_ids: pulumi.Output[dict[str, str]]
    """Slot -> Vertex deployed model id (known after the deployment)."""

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:ModelEndpoint", name, None, opts)
        display = args.names.name(args.service, "endpoint")
        self.endpoint_id = endpoint_id(display)
        endpoint = gcp.vertex.AiEndpoint(
            f"{name}-endpoint", name=self.endpoint_id, display_name=display, project=args.project,
            location=args.region, region=args.region, labels=dict(args.labels),
            encryption_spec=gcp.vertex.AiEndpointEncryptionSpecArgs(kms_key_name=args.kms_key_id),
            predict_request_response_logging_config=gcp.vertex.AiEndpointPredictRequestResponseLoggingConfigArgs(
                enabled=args.log_sampling_percent > 0, sampling_rate=args.log_sampling_percent / 100,
                bigquery_destination=gcp.vertex.AiEndpointPredictRequestResponseLoggingConfigBigqueryDestinationArgs(
                    output_uri=args.log_destination)),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["trafficSplit"],
                                        depends_on=list(args.depends_on)))
        weights = {slot: spec.weight for slot, spec in args.slots.items()}
        deployed = deployed_slots(weights, args.live, args.keep_warm)
        slots = {}
        for slot in deployed:
            spec, machine = args.slots[slot], parse_instance_type(args.slots[slot].instance_type)
            model_uri = pulumi.Output.from_input(spec.model_uri)
            slots[slot] = VertexSlot(
                image=spec.image, artifact_uri=model_uri.apply(lambda uri: uri.rsplit("/", 1)[0]),
                model_uri=model_uri, model_version=spec.model_version, machine_type=machine.machine_type,
                accelerator_type=machine.accelerator_type, accelerator_count=machine.accelerator_count,
                min_replicas=spec.instance_count, max_replicas=max(args.max_replicas, spec.instance_count),
                service_account=args.service_account, predict_route=PREDICT_ROUTE, health_route=HEALTH_ROUTE,
                port=PORT)
        self.weights = {slot: weights[slot] for slot in deployed}
        deployment = VertexDeployment(f"{name}-deployment", VertexDeploymentArgs(
            service=args.service, project=args.project, region=args.region, endpoint=endpoint.id, slots=slots,
            traffic=self.weights, encryption_key=args.kms_key_id, labels=dict(args.labels)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.deploy_after)))
        self.endpoint_name = endpoint.id
        self.deployed_model_ids = deployment.deployedModelIds
        self.invoke_url = pulumi.Output.concat(f"https://{args.region}-aiplatform.googleapis.com/v1/", endpoint.id,
                                               ":predict")
        self.register_outputs({"endpoint_name": endpoint.id, "invoke_url": self.invoke_url})
