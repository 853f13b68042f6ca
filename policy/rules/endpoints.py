"""Production model endpoints: capacity per live slot, automatic rollback, data capture."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from components.serving import PROD_MIN_REPLICAS, takes_traffic
from policy.model import Resource, ResourceRule, StackRule
from policy.values import UNKNOWN, as_list, get, is_set, is_true, number


def sagemaker_variant_capacity(r: Resource, minimum: int = PROD_MIN_REPLICAS) -> Iterator[str]:
    """Every SageMaker variant that takes traffic (weight > 0) runs at least ``minimum`` instances."""
    for variant in as_list(r.props.get("productionVariants")):
        name = get(variant, "variantName", default="?")
        weight = number(get(variant, "initialVariantWeight", default=1.0))
        if weight is not None and not takes_traffic(weight):
            continue
        if get(variant, "serverlessConfig") is not None:
            yield f"variant {name!r} is serverless: it cannot guarantee {minimum} warm instances"
            continue
        count = number(get(variant, "initialInstanceCount"))
        if count is not None and count < minimum:
            yield f"live variant {name!r} runs {int(count)} instance(s); prod needs at least {minimum}"
        elif count is None and get(variant, "initialInstanceCount") is not UNKNOWN:
            yield f"live variant {name!r} has no initialInstanceCount; prod needs at least {minimum}"


def _azure_key(props: Mapping[str, Any], name_key: str) -> tuple[Any, Any]:
    return props.get("endpointName"), props.get(name_key)


def azure_deployment_capacity(resources: list[Resource], minimum: int = PROD_MIN_REPLICAS
                              ) -> Iterator[tuple[str, str]]:
    """Azure ML deployments with traffic (per their endpoint's traffic map) run >= ``minimum`` instances."""
    traffic: dict[Any, Mapping[str, Any]] = {}
    for r in resources:
        if r.type == "azure-native:machinelearningservices:OnlineEndpoint":
            weights = get(r.props, "properties", "traffic")
            traffic[r.props.get("endpointName")] = weights if isinstance(weights, Mapping) else {}
    for r in resources:
        if r.type != "azure-native:machinelearningservices:OnlineDeployment" or r.environment != "prod":
            continue
        endpoint, slot = _azure_key(r.props, "deploymentName")
        weights = traffic.get(endpoint)
        weight = number(weights.get(slot, 0)) if weights is not None else None
        if weights is not None and weight is not None and not takes_traffic(weight):
            continue  # not live
        capacity = number(get(r.props, "sku", "capacity", default=1))
        if capacity is not None and capacity < minimum:
            yield r.urn, (f"live deployment {slot!r} has sku.capacity {int(capacity)}; "
                          f"prod needs at least {minimum}")


def prod_endpoint_capacity(resources: list[Resource], config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Stack check: every live slot of every prod endpoint runs at least the configured instances."""
    minimum = int(config.get("minInstances", PROD_MIN_REPLICAS))
    for r in resources:
        if r.type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration" and r.environment == "prod":
            for message in sagemaker_variant_capacity(r, minimum):
                yield r.urn, message
    yield from azure_deployment_capacity(resources, minimum)


PROD_CAPACITY = StackRule(
    name="prod-endpoint-min-instances",
    description="Production endpoints run at least two instances in every live slot.",
    check=prod_endpoint_capacity,
    config_schema={"minInstances": {"type": "integer", "minimum": 1, "default": PROD_MIN_REPLICAS,
                                    "description": "Minimum instances per live slot in prod."}},
)


def sagemaker_auto_rollback(r: Resource) -> Iterator[str]:
    """Prod SageMaker endpoints update blue/green (or rolling) and roll back on alarms."""
    if r.environment != "prod":
        return
    config = r.props.get("deploymentConfig")
    if config is UNKNOWN:
        return
    if not isinstance(config, Mapping):
        yield "deploymentConfig is missing: updates would not be guarded or rolled back automatically"
        return
    if not (is_set(config.get("blueGreenUpdatePolicy")) or is_set(config.get("rollingUpdatePolicy"))):
        yield "deploymentConfig has no blueGreenUpdatePolicy or rollingUpdatePolicy"
    alarms = get(config, "autoRollbackConfiguration", "alarms")
    if alarms is not UNKNOWN and not as_list(alarms):
        yield "deploymentConfig.autoRollbackConfiguration.alarms is empty: nothing triggers a rollback"


PROD_AUTO_ROLLBACK = ResourceRule(
    name="prod-endpoint-auto-rollback",
    description="Production endpoints roll back automatically where the cloud offers it (SageMaker).",
    checks={"aws:sagemaker/endpoint:Endpoint": sagemaker_auto_rollback},
)


def sagemaker_data_capture(r: Resource) -> Iterator[str]:
    """Prod SageMaker endpoint configurations capture requests and responses."""
    if r.environment != "prod":
        return
    capture = r.props.get("dataCaptureConfig")
    if capture is UNKNOWN:
        return
    if not isinstance(capture, Mapping):
        yield "dataCaptureConfig is missing: drift monitoring has no data"
        return
    if capture.get("enableCapture") is False:
        yield "dataCaptureConfig.enableCapture is false"
    percent = number(capture.get("initialSamplingPercentage"))
    if percent is not None and percent <= 0:
        yield "dataCaptureConfig.initialSamplingPercentage is 0"
    modes = {get(o, "captureMode") for o in as_list(capture.get("captureOptions"))}
    if UNKNOWN not in modes and not {"Input", "Output"} <= modes and "InputAndOutput" not in modes:
        yield "dataCaptureConfig.captureOptions must capture both Input and Output"


def vertex_data_capture(r: Resource) -> Iterator[str]:
    """Prod Vertex AI endpoints log requests and responses."""
    if r.environment == "prod" and not is_true(
            get(r.props, "predictRequestResponseLoggingConfig", "enabled", default=False)):
        yield "predictRequestResponseLoggingConfig.enabled is not true"


def azure_data_capture(r: Resource) -> Iterator[str]:
    """Prod Azure ML deployments collect model inputs and outputs."""
    if r.environment != "prod":
        return
    collections = get(r.props, "properties", "dataCollector", "collections")
    if collections is UNKNOWN:
        return
    enabled = {k for k, v in (collections or {}).items()
               if str(get(v, "dataCollectionMode", default="Enabled")).lower() == "enabled"}
    if not {"model_inputs", "model_outputs"} <= enabled:
        yield "properties.dataCollector.collections must enable model_inputs and model_outputs"


PROD_DATA_CAPTURE = ResourceRule(
    name="prod-endpoint-data-capture",
    description="Production endpoints capture inputs and outputs for monitoring and drift detection.",
    checks={
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration": sagemaker_data_capture,
        "gcp:vertex/aiEndpoint:AiEndpoint": vertex_data_capture,
        "azure-native:machinelearningservices:OnlineDeployment": azure_data_capture,
    },
)

RULES = [PROD_CAPACITY, PROD_AUTO_ROLLBACK, PROD_DATA_CAPTURE]
