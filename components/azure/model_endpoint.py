"""ModelEndpoint (Azure ML): a managed online endpoint with one online deployment per deployed slot.

- Endpoint: key auth in dev, Entra token auth (`AADToken`) in prod; public network access per environment.
  A user-assigned identity per endpoint, granted before anything runs: AcrPull on the registry (managed
  deployments pull the image with the endpoint's identity), Storage Blob Data Reader on the models container
  (the model server downloads `MODEL_URI` with it), Storage Blob Data Contributor on the container the data
  collector writes to (the workspace's default blob store) and AzureML Metrics Writer on the workspace. With a
  system identity these grants could only follow the endpoint, racing the first deployment.
- Deployments `blue` / `green` (the slots `components.serving.deployed_slots` keeps): the model server image
  as an Azure ML environment whose inference routes are the server's Azure contract (`/live`, `/ready`,
  `/score` on 8080, also passed as AZUREML_*_ROUTE), instance type and count from the slot, request settings,
  probes, Application Insights and data collection (model inputs and outputs, sampled) on: the server logs each
  sampled request's feature rows to the collector (`CAPTURE_DESTINATION=azureml-mdc`), which registers the data
  asset `<endpoint>-<deployment>-model_inputs` the drift monitor reads.
  Environment versions are immutable and cannot be deleted (only archived), so a new image is a new version
  (a hash of image and routes) and replaced versions are retained, not deleted.
- Traffic: an `EndpointTraffic` dynamic resource that depends on the deployments sets the split; the endpoint
  declares none (Azure/azureml-examples#3311) and ignores the live value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.endpoint_traffic import EndpointTraffic, EndpointTrafficArgs
from components.azure.instance_types import ONLINE_INSTANCE_TYPES
from components.azure.naming import AzureNames, check_azure_name
from components.azure.rbac_propagation import RbacPropagation
from components.azure.roles import Scope, grant
from components.naming import content_hash
from components.serving import PROD_MIN_REPLICAS, SLOT_NAMES, SlotSpec, deployed_slots, takes_traffic

ml = azure.machinelearningservices
PORT = 8080
CAPTURE_DESTINATION = "azureml-mdc"
"""services/model_server/capture_azure.py DESTINATION: the server's sink for Azure ML's data collector."""
ROUTES = {"liveness": "/live", "readiness": "/ready", "scoring": "/score"}
"""The model server's Azure ML contract (services/model_server/README.md)."""


def route_environment() -> dict[str, str]:
    """The AZUREML_*_ROUTE variables that make the server listen on the environment's inference routes."""
    return {f"AZUREML_{kind.upper()}_ROUTE": path for kind, path in ROUTES.items()}


def capture_environment(sampling_rate: float) -> dict[str, str]:
    """The model server logs feature rows to the deployment's data collector (services/model_server/
    capture_azure.py); the collector samples at `sampling_rate`, so the server hands it every request."""
    if not sampling_rate:
        return {}
    return {"CAPTURE_DESTINATION": CAPTURE_DESTINATION, "CAPTURE_SAMPLE_PERCENT": "100"}


def environment_version(image: str) -> str:
    """The version of the environment holding `image`: changes exactly when the image or the routes change."""
    return content_hash(image, json.dumps(ROUTES, sort_keys=True), str(PORT), length=12)


@dataclass(frozen=True)
class ModelEndpointArgs:
    service: str
    """The service (names the endpoint, its identity and environment)."""
    names: AzureNames
    """The stack's physical names."""
    scope: Scope
    """Subscription, tenant, resource group and location."""
    workspace_name: pulumi.Input[str]
    """Azure ML workspace."""
    workspace_id: pulumi.Input[str]
    """Its resource id (scope of the metrics grant)."""
    registry_id: pulumi.Input[str]
    """ACR the images live in (scope of AcrPull)."""
    storage_account_id: pulumi.Input[str]
    """Storage account of the models and captured data."""
    slots: Mapping[str, SlotSpec]
    """`blue` and `green`; `model_uri` is the blob URL of the slot's model artifact."""
    live: str = "blue"
    """The slot carrying production traffic."""
    capture_container: pulumi.Input[str] = "datacapture"
    """Container the deployments' data collectors write to (MlWorkspace.default_container)."""
    keep_warm: bool = False
    """Keep a weight-0 slot deployed (ready for an instant cut-over)."""
    mirror_percent: int = 0
    """Share of live requests copied to the non-live (idle) slot, responses discarded; at most 50."""
    environment: str = "dev"
    """dev / staging / prod: auth mode, network access, replica floor."""
    allow_public_access: bool = True
    """Public scoring URI (dev); prod reaches the endpoint through the workspace's private endpoint."""
    capture_sampling_percent: float = 100.0
    """Share of requests whose inputs and outputs are collected."""
    request_timeout_ms: int = 5000
    """Scoring timeout per request (Azure ML allows up to 180 s)."""
    max_concurrent_requests: int = 4
    """Concurrent requests per instance before Azure ML answers 429."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the endpoint and its deployments."""

    def __post_init__(self) -> None:
        errors = [check_azure_name("ml-endpoint", self.names.endpoint(self.service))]
        if set(self.slots) != set(SLOT_NAMES):
            errors.append(f"slots must be blue and green, got {sorted(self.slots)}")
        for name, slot in sorted(self.slots.items()):
            if slot.instance_type not in ONLINE_INSTANCE_TYPES:
                errors.append(f"slot {name}: {slot.instance_type!r} is not an Azure ML managed online instance type")
            if self.environment == "prod" and takes_traffic(slot.weight) and slot.instance_count < PROD_MIN_REPLICAS:
                errors.append(f"slot {name}: prod slots with traffic run at least {PROD_MIN_REPLICAS} instances")
        if self.mirror_percent and self.shadow not in self.deployed:
            errors.append(f"mirror_percent={self.mirror_percent} needs the non-live slot {self.shadow!r} deployed "
                          "at weight 0 (keep_warm=True)")
        if not 1000 <= self.request_timeout_ms <= 180_000:
            errors.append(f"request_timeout_ms={self.request_timeout_ms}: Azure ML allows 1000..180000")
        errors = [e for e in errors if e]
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def deployed(self) -> tuple[str, ...]:
        weights = {name: slot.weight for name, slot in self.slots.items()}
        return deployed_slots(weights, self.live, self.keep_warm)

    @property
    def shadow(self) -> str:
        """The slot mirrored traffic goes to: the one that is not live."""
        return next(name for name in SLOT_NAMES if name != self.live)

    @property
    def mirror(self) -> dict[str, int]:
        return {self.shadow: self.mirror_percent} if self.mirror_percent else {}

    @property
    def auth_mode(self) -> str:
        return "AADToken" if self.environment == "prod" else "Key"

    def revision(self) -> str:
        """Hash of what the endpoint declares: its split is re-applied whenever an endpoint PUT may reset it."""
        return content_hash(self.auth_mode, str(self.allow_public_access), json.dumps(dict(self.tags), sort_keys=True))


class ModelEndpoint(pulumi.ComponentResource):
    """Online endpoint, identity and grants, one environment version and deployment per deployed slot, traffic."""

    endpoint_name: pulumi.Output[str]
    scoring_uri: pulumi.Output[str]
    weights: dict[str, int]
    """Deployed slots and their share of traffic."""
    deployment_ids: dict[str, pulumi.Output[str]]
    identity_id: pulumi.Output[str]
    """The endpoint's user-assigned identity (reads models, writes captured data)."""

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:ModelEndpoint", name, None, opts)
        s, tags, child = args.scope, dict(args.tags), pulumi.ResourceOptions(parent=self)
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity", resource_name_=args.names.name(args.service, "endpoint-id"),
            resource_group_name=s.resource_group_name, location=s.location, tags=tags, opts=child)
        container = pulumi.Output.concat(args.storage_account_id, "/blobServices/default/containers/")
        grants = [grant(f"{name}-{role_name}", subscription_id=s.subscription_id, scope=scope,
                        principal_id=identity.principal_id, role=role, parent=self)
                  for role_name, role, scope in (
                      ("acr-pull", "AcrPull", args.registry_id),
                      ("models-read", "Storage Blob Data Reader", pulumi.Output.concat(container, "models")),
                      ("capture-write", "Storage Blob Data Contributor",
                       pulumi.Output.concat(container, args.capture_container)),
                      ("metrics-write", "AzureML Metrics Writer (preview)", args.workspace_id))]
        endpoint = ml.OnlineEndpoint(
            f"{name}-endpoint", endpoint_name=args.names.endpoint(args.service), workspace_name=args.workspace_name,
            resource_group_name=s.resource_group_name, location=s.location, kind="Managed", tags=tags,
            identity=ml.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[identity.id]),
            properties=ml.OnlineEndpointPropertiesArgs(
                auth_mode=args.auth_mode, description=f"{args.service}: blue/green online endpoint",
                public_network_access="Enabled" if args.allow_public_access else "Disabled"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants,
                                        ignore_changes=["properties.traffic", "properties.mirrorTraffic"]))
        propagated = RbacPropagation(f"{name}-rbac-propagation", grants, opts=child)
        self.deployment_ids = {}
        deployments = []
        for slot_name in args.deployed:
            deployment = self._deployment(name, args, slot_name, endpoint.name, identity.client_id,
                                          [*grants, propagated])
            self.deployment_ids[slot_name] = deployment.id
            deployments.append(deployment)
        self.weights = {slot: args.slots[slot].weight for slot in args.deployed}
        EndpointTraffic(f"{name}-traffic", EndpointTrafficArgs(
            subscription_id=s.subscription_id, resource_group_name=s.resource_group_name,
            workspace_name=args.workspace_name, endpoint_name=endpoint.name, traffic=self.weights,
            mirror_traffic=args.mirror, endpoint_revision=args.revision()),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[endpoint, *deployments]))
        self.endpoint_name, self.identity_id = endpoint.name, identity.id
        self.scoring_uri = endpoint.properties.scoring_uri
        self.register_outputs({"endpoint_name": endpoint.name, "scoring_uri": self.scoring_uri,
                               "weights": self.weights, "deployment_ids": self.deployment_ids})

    def _deployment(self, name: str, args: ModelEndpointArgs, slot_name: str, endpoint_name: pulumi.Output[str],
                    client_id: pulumi.Output[str], grants: list[pulumi.Resource]) -> ml.OnlineDeployment:
        s, slot, tags = args.scope, args.slots[slot_name], dict(args.tags)
        env = ml.EnvironmentVersion(
            f"{name}-{slot_name}-environment", name=args.names.environment(args.service),
            version=pulumi.Output.from_input(slot.image).apply(environment_version),
            workspace_name=args.workspace_name, resource_group_name=s.resource_group_name,
            properties=ml.EnvironmentVersionPropertiesArgs(
                image=slot.image, os_type="Linux", description=f"{args.service} model server",
                inference_config=ml.InferenceContainerPropertiesArgs(**{
                    f"{kind}_route": ml.RouteArgs(path=path, port=PORT) for kind, path in ROUTES.items()})),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        probe = {"initial_delay": "PT10S", "period": "PT10S", "timeout": "PT2S", "success_threshold": 1}
        sampling = max(min(args.capture_sampling_percent / 100, 1.0), 0.0)
        collect = ml.CollectionArgs(data_collection_mode="Enabled" if sampling else "Disabled", sampling_rate=sampling)
        return ml.OnlineDeployment(
            f"{name}-{slot_name}", deployment_name=slot_name, endpoint_name=endpoint_name,
            workspace_name=args.workspace_name, resource_group_name=s.resource_group_name, location=s.location,
            sku=ml.SkuArgs(name="Default", capacity=slot.instance_count), tags={**tags, "slot": slot_name},
            properties=ml.ManagedOnlineDeploymentArgs(
                endpoint_compute_type="Managed", instance_type=slot.instance_type, environment_id=env.id,
                description=f"{args.service} {slot_name}: model version {slot.model_version}",
                scale_settings=ml.DefaultScaleSettingsArgs(scale_type="Default"),
                environment_variables={**route_environment(), **capture_environment(sampling),
                                       "PORT": str(PORT), "MODEL_URI": slot.model_uri,
                                       "MODEL_VERSION": slot.model_version, "AZURE_CLIENT_ID": client_id},
                liveness_probe=ml.ProbeSettingsArgs(failure_threshold=30, **probe),
                readiness_probe=ml.ProbeSettingsArgs(failure_threshold=3, **probe),
                request_settings=ml.OnlineRequestSettingsArgs(
                    request_timeout=f"PT{args.request_timeout_ms / 1000:g}S",
                    max_concurrent_requests_per_instance=args.max_concurrent_requests),
                app_insights_enabled=True,
                data_collector=ml.DataCollectorArgs(
                    collections={"model_inputs": collect, "model_outputs": collect},
                    request_logging=ml.RequestLoggingArgs(capture_headers=["x-request-id"]))),
            # The name is the slot's, so a replacement cannot create the new deployment beside the old one (the
            # provider refuses to create an existing resource): delete first. Azure refuses to delete a deployment
            # that has traffic, so a live slot's instance type changes by blue/green, never in place.
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants, delete_before_replace=True,
                                        replace_on_changes=["properties.instanceType"],
                                        custom_timeouts=pulumi.CustomTimeouts(create="60m", update="60m")))
