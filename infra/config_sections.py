"""The sections of a stack's config: network, GPU compute, storage, registry, services, rollout, monitoring.

Each field has a type, a default and a description; the config reference in docs/config.md is
generated from these models (`python -m infra config-reference`). Keys are camelCase in the stack file.
Defaults that depend on the environment are `None` here and resolved in one place,
`infra.config.resolve_environment_defaults`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from components import monitoring, serving
from components.gpu_catalog import ACCELERATORS
from components.monitoring import DriftSchedule
from components.serving import SlotName, Strategy

Percent = Annotated[float, Field(ge=0, le=100)]
SECRET_PLACEHOLDER = "[secret]"
"""What an offline plan sees for a `secure:` value (it never decrypts); stands in for any valid secret."""


def _strict_bool(value: object) -> object:
    """YAML `true` / `false` only (the engine passes top-level scalars as the strings "true" / "false").

    pydantic's lax parsing would read `"yes"`, `"on"`, `1` or `"0"` as booleans: a quoted or misspelt
    toggle must fail, not silently flip (spot capacity, auto-rollback, public access).
    """
    if isinstance(value, bool) or value is None:
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError("expected true or false (unquoted)")


Flag = Annotated[bool, BeforeValidator(_strict_bool)]
"""A boolean key: YAML true / false only."""
ServingTarget = Literal["endpoint", "kubernetes", "both"]
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Section(BaseModel):
    """Base for every config section: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, validate_default=True
    )


class NetworkConfig(Section):
    """Network layout: address space, zones, NAT and who may reach a public cluster API."""

    cidr: str = Field("10.0.0.0/16", description="VPC / VNet address space (a private IPv4 CIDR, /16 to /23).")
    availability_zones: int | None = Field(
        None, ge=1, le=6, description="Zones to spread subnets over. Default: 3 in prod, 2 elsewhere."
    )
    nat_gateways: Literal["single", "per-zone"] | None = Field(
        None, description="`single` NAT for the VPC or one `per-zone`. Default: per-zone in prod, single elsewhere."
    )
    public_api_cidrs: tuple[str, ...] = Field(
        (), description="CIDRs allowed to reach a public Kubernetes API endpoint (dev only; prod is private)."
    )
    flow_logs: Flag = Field(True, description="Record VPC flow logs.")

    @field_validator("cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"expected a CIDR such as 10.0.0.0/16 ({exc})") from None
        if not net.is_private or net.version != 4 or not 16 <= net.prefixlen <= 23:
            raise ValueError("expected a private IPv4 CIDR between /16 and /23, e.g. 10.0.0.0/16")
        return value

    @field_validator("public_api_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a CIDR; expected e.g. 203.0.113.0/24") from None
            if cidr.endswith("/0"):
                raise ValueError(f"{cidr!r} opens the API to the internet; list your office/VPN ranges")
        return value


class GpuConfig(Section):
    """The GPU node pool: a cloud-neutral accelerator (or an explicit instance type) and its size."""

    accelerator: Literal[ACCELERATORS] = Field(  # type: ignore[valid-type]
        "t4", description="Cloud-neutral GPU kind (t4, a10g, l4, a100, h100), mapped per cloud by the GPU catalog."
    )
    count: int = Field(1, ge=1, le=8, description="GPUs per node.")
    instance_type: str | None = Field(
        None, description="Explicit instance type / machine type / VM size; overrides accelerator and count."
    )
    min_nodes: int = Field(0, ge=0, le=100, description="Smallest size of the GPU node group.")
    max_nodes: int = Field(2, ge=1, le=100, description="Largest size of the GPU node group.")
    desired_nodes: int | None = Field(None, ge=0, le=100, description="Initial size. Default: minNodes.")
    spot: Flag = Field(False, description="Use spot / preemptible capacity for GPU nodes (dev only is sensible).")
    disk_size_gb: int = Field(100, ge=20, le=2000, description="Root disk per GPU node, GiB.")
    cluster_admins: tuple[str, ...] = Field(
        (), description="AWS: IAM roles (names in the stack's account, or role ARNs) given cluster admin through "
        "EKS access entries, e.g. the operators' role. Never list the identity that creates the cluster (the "
        "deploy role): EKS made it admin already and refuses a second entry. Required in prod, whose API endpoint "
        "is private. Azure: object ids of Entra groups given Azure Kubernetes Service RBAC Cluster Admin on a "
        "cluster that serves Kubernetes workloads; the identity running `pulumi up` (and any preview's) must be a "
        "member. Empty: that identity itself is granted, so the grant moves to whoever ran `up` last.")
    deployer_type: Literal["User", "ServicePrincipal"] = Field(
        "ServicePrincipal", description="Azure, with no gpu.clusterAdmins: the Entra kind of the identity that runs "
        "`pulumi up` (ServicePrincipal: an app registration or managed identity, as the deploy workflow's OIDC "
        "login; User: a person after `az login`). A stack serving on AKS makes that identity Azure Kubernetes "
        "Service RBAC Cluster Admin on the cluster, and Azure refuses the assignment when the kind does not match "
        "(UnmatchedPrincipalType).")

    @model_validator(mode="after")
    def _sizes(self) -> GpuConfig:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"minNodes ({self.min_nodes}) must be <= maxNodes ({self.max_nodes})")
        if self.desired_nodes is not None and not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            raise ValueError(
                f"desiredNodes ({self.desired_nodes}) must be between minNodes ({self.min_nodes}) "
                f"and maxNodes ({self.max_nodes})"
            )
        return self


class StorageConfig(Section):
    """Lifecycle of the artifact store (models, datasets, data capture, monitoring reports)."""

    retention_days: int = Field(
        90, ge=1, le=3650, description="Days data capture and monitoring reports are kept before expiry."
    )
    noncurrent_version_days: int = Field(
        30, ge=1, le=3650, description="Days a replaced (noncurrent) object version is kept."
    )
    access_logs: Flag | None = Field(None, description="Server access logs for the bucket. Default: on in prod.")


class RegistryConfig(Section):
    """Lifecycle of each service's image repository."""

    untagged_expiry_days: int = Field(7, ge=1, le=365, description="Untagged images expire after this many days.")
    keep_tagged_images: int = Field(30, ge=1, le=1000, description=(
        "Tagged images kept per repository (newest). AWS also keeps every tag a slot pins and the build tag."))


class SlotConfig(Section):
    """One of a service's two slots: what it runs, on what, and its share of traffic."""

    image_tag: str = Field(description="Image tag this slot runs (immutable; never `latest`).")
    model_version: str = Field(description="Model version this slot serves (a folder under the model artifact URI).")
    instance_type: str | None = Field(
        None, description="Instance type per replica in the target's catalog (SageMaker `ml.*` on AWS). "
        "Default: the target's general-purpose serving type (AWS `ml.m5.large`).")
    instance_count: int = Field(1, ge=1, le=100, description="Replicas behind this slot.")
    weight: int = Field(0, ge=0, le=100, description="Share of traffic, percent. Weights of both slots sum to 100.")

    @field_validator("image_tag")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if value == "latest":
            raise ValueError("`latest` is mutable; pin a version or a git sha")
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", value):
            raise ValueError("expected a Docker tag: letters, digits, _ . -, at most 128 characters")
        return value

    @field_validator("model_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", value):
            raise ValueError("expected a version such as 3 or 2024-06-01.1 (letters, digits, _ . -)")
        return value


class ServiceConfig(Section):
    """A model service: where its image and model come from, and its blue and green slots."""

    image_repository: str | None = Field(
        None,
        description="Repository name in the stack's registry (unset: the service name), or a full external "
        "image path (registry host/path, no tag) to deploy existing images without building.",
    )
    build_tag: str | None = Field(
        None,
        description="Build services/model_server from this checkout, push it with this tag and deploy it to the "
        "slot(s) pinning that tag. Unset: no build; slots deploy tags already in the registry.",
    )
    model_artifact_uri: str | None = Field(
        None,
        description="Key prefix of this service's model versions in the stack's artifact bucket "
        "(`<prefix>/<modelVersion>/model.tar.gz`). Unset: `models/<service>`.",
    )
    drift_features: tuple[str, ...] = Field(
        (), description="Features whose Model Monitor drift metric raises an alarm (names as in the baseline)."
    )
    live: SlotName = Field("blue", description="The slot that carries production traffic.")
    keep_warm: Flag = Field(False, description="Keep a slot at weight 0 deployed (ready for instant cut-over).")
    max_instances: int = Field(4, ge=1, le=100, description="Autoscaling ceiling per slot.")
    mirror_percent: int = Field(
        0, ge=0, le=50, description="Share of live requests also sent to the non-live slot, responses discarded "
        "(shadow testing), percent. Azure ML mirror traffic (at most 50); the non-live slot must be at weight 0 with "
        "keepWarm: true. Other targets refuse it (exit 2).")
    target: ServingTarget = Field(
        "endpoint", description="Where the slots serve: the cloud's managed `endpoint` (SageMaker, Vertex, Azure ML), "
        "`kubernetes` (Deployments on the stack's GPU cluster, docs/kubernetes-serving.md) or `both`.")
    slots: dict[SlotName, SlotConfig] = Field(description="The `blue` and `green` slots.")

    @field_validator("build_tag")
    @classmethod
    def _build_tag(cls, value: str | None) -> str | None:
        return None if value is None else SlotConfig._pinned(value)

    @field_validator("model_artifact_uri")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and ("://" in value or value.startswith("/") or value.endswith("/") or not value):
            raise ValueError("expected a key prefix in the stack's bucket such as models/fraud "
                             "(no scheme, no leading or trailing slash)")
        return value

    @property
    def external_image(self) -> bool:
        """True when `imageRepository` is a full path outside the stack's registry (no build, no repository)."""
        return self.image_repository is not None and ("/" in self.image_repository or "." in self.image_repository)

    @model_validator(mode="after")
    def _routing(self) -> ServiceConfig:
        problems = serving.slot_problems(self.slots, self.live, self.max_instances)
        if self.external_image and self.build_tag:
            problems.append("buildTag needs a repository in the stack's registry; imageRepository "
                            f"{self.image_repository!r} is external (remove buildTag or imageRepository)")
        if self.mirror_percent:
            shadow = next((name for name in self.slots if name != self.live), None)
            if shadow is None or self.slots[shadow].weight or not self.keep_warm:
                problems.append(f"mirrorPercent {self.mirror_percent} copies requests to the non-live slot "
                                f"{shadow!r}: it needs weight 0 and keepWarm: true (a slot cannot take live and "
                                "mirrored traffic at once)")
        if self.build_tag and self.build_tag not in {slot.image_tag for slot in self.slots.values()}:
            problems.append(f"buildTag {self.build_tag!r} is not the imageTag of any slot; "
                            "set it to the tag a slot should run")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class RolloutConfig(Section):
    """How traffic moves to a new fleet (SageMaker deployment guardrails; traffic steps elsewhere)."""

    strategy: Strategy = Field(
        "all-at-once", description="How a fleet replacement shifts traffic (SageMaker blue/green update policy)."
    )
    canary_percent: int = Field(10, ge=1, le=serving.MAX_STEP_PERCENT, description="Canary share of traffic, percent.")
    step_percent: int = Field(20, ge=1, le=serving.MAX_STEP_PERCENT, description="Linear step size, percent.")
    wait_seconds: int = Field(600, ge=0, le=3600, description="Bake time between traffic shifts, seconds.")
    termination_wait_seconds: int = Field(
        600, ge=0, le=3600, description="Old fleet kept after a full shift, ready for rollback, seconds."
    )
    auto_rollback: Flag = Field(True, description="Roll back automatically when a rollback alarm fires.")


class MonitoringConfig(Section):
    """Alert recipients, alarm thresholds, drift detection and data capture."""

    alert_emails: tuple[str, ...] = Field((), description="Addresses subscribed to the stack's alert topic.")
    p99_latency_ms: int = Field(monitoring.DEFAULT_P99_LATENCY_MS, ge=1, le=600_000,
                                description="Alarm when p99 model latency exceeds this.")
    error_rate_percent: Percent = Field(monitoring.DEFAULT_ERROR_RATE_PERCENT,
                                        description="Alarm when 5XX errors exceed this share of invocations.")
    drift_threshold: float = Field(
        monitoring.DEFAULT_DRIFT_PSI, gt=0, description="Population stability index that counts as drift (0.1 "
        "moderate, 0.25 major shift); clouds whose drift metric differs get the equivalent value.")
    drift_schedule: DriftSchedule | None = Field(
        None, description="How often Model Monitor checks drift. Default: hourly in prod, daily elsewhere."
    )
    model_monitor: Flag = Field(
        True, description="Run SageMaker Model Monitor data-quality checks and drift alarms (AWS has closed Model "
        "Monitor to new customers; set false where the account has no access).")
    alert_webhook_url: str | None = Field(
        None, description="HTTPS URL of an on-call integration (PagerDuty, Opsgenie, a chat webhook) every alert "
        "is posted to, besides alertEmails. A secret (the URL carries the integration key): set it with "
        "`pulumi config set --path --secret mlops-platform:monitoring.alertWebhookUrl <url>`; a plain value is "
        "refused.")
    data_capture_percent: Percent | None = Field(
        None, description="Share of requests captured for monitoring. Default: 100 in dev, 20 elsewhere."
    )

    @field_validator("drift_threshold")
    @classmethod
    def _psi(cls, value: float) -> float:
        if value >= monitoring.MAX_PSI:
            raise ValueError(f"a PSI over {monitoring.PSI_BINS} baseline-quantile bins never exceeds "
                             f"{monitoring.MAX_PSI:.2f} (all traffic in one bin); pick a smaller threshold")
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        # Messages never repeat the value: it is a secret.
        if value is None or value == SECRET_PLACEHOLDER:
            return value
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError("expected an https:// URL (SNS and Azure Monitor post alerts to it over TLS)")
        return value

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if not _EMAIL.match(v)]
        if bad:
            raise ValueError(f"not an email address: {', '.join(bad)}")
        return value


def check_name(value: str, what: str) -> str:
    """Names we derive physical names from: lowercase, digits, hyphens, 2-32 chars."""
    if not _NAME.match(value):
        raise ValueError(
            f"{what} {value!r} must be 2-32 characters of lowercase letters, digits and hyphens, "
            "starting with a letter"
        )
    return value
