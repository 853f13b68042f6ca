"""What runs in AWS: SageMaker endpoints with their configurations and models, ECR digests, alarm states.

One boto3 session (credentials and, unless the stack says, region from the standard chain) and only
read calls: sts:GetCallerIdentity, sagemaker:DescribeEndpoint / DescribeEndpointConfig /
ListEndpointConfigs / DescribeModel, ecr:DescribeImages, cloudwatch:DescribeAlarms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.verify.declared import ImageRef

# The newest endpoint configurations of an endpoint searched for the declared one.
CONFIG_SEARCH_LIMIT = 10


@dataclass(frozen=True)
class LiveModel:
    """A SageMaker model's primary container."""

    name: str
    image: str
    model_data_url: str | None
    model_version: str | None
    """The container's MODEL_VERSION environment variable."""


@dataclass(frozen=True)
class ConfigVariant:
    """A production variant of an endpoint configuration."""

    name: str
    model_name: str
    instance_type: str | None
    instance_count: int | None
    weight: float
    """Initial share of traffic, percent."""
    model: LiveModel | None
    """None when the model no longer exists."""


@dataclass(frozen=True)
class LiveConfig:
    name: str
    variants: tuple[ConfigVariant, ...]


@dataclass(frozen=True)
class EndpointVariant:
    """A production variant as the endpoint runs it now."""

    name: str
    weight: float
    """Current share of traffic, percent."""
    instances: int | None
    """CurrentInstanceCount."""
    resolved_images: tuple[str, ...]
    """DeployedImages[].ResolvedImage: the digests SageMaker pulled."""


@dataclass(frozen=True)
class LiveEndpoint:
    name: str
    status: str
    failure_reason: str | None
    config_name: str
    config: LiveConfig | None
    """The configuration the endpoint runs; None when it no longer exists."""
    variants: tuple[EndpointVariant, ...]
    pending_config: str | None = None
    """PendingDeploymentSummary.EndpointConfigName: what an update in progress deploys."""
    pending_since: datetime | None = None


@dataclass(frozen=True)
class AlarmState:
    state: str
    reason: str


def _shares(weights: list[float]) -> list[float]:
    total = sum(weights)
    return [100 * w / total if total else 0.0 for w in weights]


def _not_found(exc: ClientError) -> bool:
    """SageMaker answers a missing endpoint, configuration or model with a ValidationException."""
    error = exc.response.get("Error", {})
    return error.get("Code") == "ValidationException" and "Could not find" in error.get("Message", "")


class AwsReader:
    """Read-only view of one account and region, with a cache of models and configurations."""

    def __init__(self, session: boto3.session.Session):
        self._session = session
        self._clients: dict[str, Any] = {}
        self._models: dict[str, LiveModel | None] = {}
        self._configs: dict[str, LiveConfig | None] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service)
        return self._clients[service]

    def account(self) -> str:
        """The caller's account; the first call, so missing or rejected credentials surface here."""
        return str(self._client("sts").get_caller_identity()["Account"])

    def endpoint(self, name: str) -> LiveEndpoint | None:
        try:
            found = self._client("sagemaker").describe_endpoint(EndpointName=name)
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise
        variants = found.get("ProductionVariants", [])
        # A zero weight may be left out of the answer (moto does); it counts as 0.
        shares = _shares([float(v.get("CurrentWeight", 0.0)) for v in variants])
        pending = found.get("PendingDeploymentSummary") or {}
        return LiveEndpoint(
            name=name, status=found["EndpointStatus"], failure_reason=found.get("FailureReason") or None,
            config_name=found["EndpointConfigName"], config=self.config(found["EndpointConfigName"]),
            variants=tuple(EndpointVariant(
                name=v["VariantName"], weight=share, instances=v.get("CurrentInstanceCount"),
                resolved_images=tuple(i["ResolvedImage"] for i in v.get("DeployedImages", []) if "ResolvedImage" in i))
                for v, share in zip(variants, shares, strict=True)),
            pending_config=pending.get("EndpointConfigName"), pending_since=pending.get("StartTime"))

    def config(self, name: str) -> LiveConfig | None:
        if name not in self._configs:
            try:
                found = self._client("sagemaker").describe_endpoint_config(EndpointConfigName=name)
            except ClientError as exc:
                if not _not_found(exc):
                    raise
                self._configs[name] = None
            else:
                variants = found["ProductionVariants"]
                shares = _shares([float(v.get("InitialVariantWeight", 1.0)) for v in variants])
                self._configs[name] = LiveConfig(name, tuple(ConfigVariant(
                    name=v["VariantName"], model_name=v["ModelName"], instance_type=v.get("InstanceType"),
                    instance_count=v.get("InitialInstanceCount"), weight=share, model=self.model(v["ModelName"]))
                    for v, share in zip(variants, shares, strict=True)))
        return self._configs[name]

    def configs_of(self, endpoint_name: str) -> list[LiveConfig]:
        """The newest configurations named `<endpoint_name>-...` (how the stack names them), newest first."""
        found = self._client("sagemaker").list_endpoint_configs(
            NameContains=endpoint_name, SortBy="CreationTime", SortOrder="Descending",
            MaxResults=CONFIG_SEARCH_LIMIT)["EndpointConfigs"]
        names = [c["EndpointConfigName"] for c in found if c["EndpointConfigName"].startswith(f"{endpoint_name}-")]
        return [c for c in map(self.config, names) if c is not None]

    def model(self, name: str) -> LiveModel | None:
        if name not in self._models:
            try:
                found = self._client("sagemaker").describe_model(ModelName=name)
            except ClientError as exc:
                if not _not_found(exc):
                    raise
                self._models[name] = None
            else:
                container = found.get("PrimaryContainer") or (found.get("Containers") or [{}])[0]
                self._models[name] = LiveModel(
                    name=name, image=container.get("Image", ""), model_data_url=container.get("ModelDataUrl"),
                    model_version=container.get("Environment", {}).get("MODEL_VERSION"))
        return self._models[name]

    def image_digest(self, image: ImageRef) -> str | None:
        """The digest ECR has for the image's tag; None when the tag or repository does not exist."""
        location = image.ecr()
        if location is None or image.tag is None:
            return None
        account, _, repository = location
        try:
            found = self._client("ecr").describe_images(
                registryId=account, repositoryName=repository, imageIds=[{"imageTag": image.tag}])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return None
            raise
        return str(found["imageDetails"][0]["imageDigest"])

    def alarm_states(self, names: tuple[str, ...]) -> dict[str, AlarmState]:
        """State of each alarm that exists (metric or composite), by name."""
        states: dict[str, AlarmState] = {}
        paginator = self._client("cloudwatch").get_paginator("describe_alarms")
        for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
            for page in paginator.paginate(AlarmNames=list(names[start:start + 100]),
                                           AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
                for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                    states[alarm["AlarmName"]] = AlarmState(alarm["StateValue"], alarm.get("StateReason", ""))
        return states
