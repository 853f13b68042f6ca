"""The structure of a stack's config: one typed `PlatformConfig`, validated before any resource is declared.

Input is the flat Pulumi config map (`{"mlops-platform:environment": "dev", "aws:region": "us-east-1",
...}`) exactly as the Pulumi engine hands it to the program: scalars as strings, objects as JSON
strings. `parse_platform_config` checks what holds for every cloud (keys, types, ranges, cross-field
rules, environment defaults) and returns the model or the problems. What a cloud adds (its provider keys,
region key and catalog checks) is its target's business: `infra.targets.load_platform_config` runs both
and raises one `ConfigError` listing every problem at once.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from components.monitoring import default_drift_schedule
from infra.config_errors import Problem, did_you_mean
from infra.config_sections import (
    Flag,
    GpuConfig,
    MonitoringConfig,
    NetworkConfig,
    RegistryConfig,
    RolloutConfig,
    Section,
    ServiceConfig,
    StorageConfig,
    check_name,
)

NAMESPACE = "mlops-platform"
"""The project's config namespace (Pulumi only lets a project declare types for its own namespace)."""

Cloud = Literal["aws", "gcp", "azure", "local"]
CLOUDS: tuple[str, ...] = get_args(Cloud)
"""The clouds the platform is designed for; each needs a registered target (infra/targets/) to plan."""
DERIVED_KEYS = ("region", "project", "stack")
"""PlatformConfig fields filled from elsewhere (the provider's own keys, e.g. aws:region; the stack's name), never
set directly."""

SECRET_KEYS = ("monitoring.alertWebhookUrl",)
"""Keys whose value is a secret: set with `pulumi config set --path --secret`, never shown in a message."""

_FOREIGN_OK = ("aws", "gcp", "azure-native", "kubernetes", "docker", "pulumi", "random")


class PlatformConfig(Section):
    """Everything one stack asks for. Built by `infra.targets.load_platform_config`."""

    environment: Literal["dev", "staging", "prod"] = Field(
        description="Environment tier (dev, staging or prod); drives secure defaults.")
    cloud: Cloud = Field(description="Target cloud of this stack (aws, gcp, azure or local).")
    name_prefix: str = Field("mlops", description="Prefix of every physical name (2-12 lowercase characters).")
    owner: str = Field(description="Team that owns the stack (tag / label `owner`).")
    cost_center: str = Field(description="Cost center billed (tag / label `cost-center`).")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags / labels on every resource.")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="Network layout.")
    gpu: GpuConfig = Field(default_factory=GpuConfig, description="GPU node pool.")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="Artifact store lifecycle.")
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="Image registry lifecycle.")
    services: dict[str, ServiceConfig] = Field(
        default_factory=dict, description="Model services by name, each with blue and green slots."
    )
    serving: Flag = Field(
        True, description="Declare the model endpoints. false on a first deploy: network, storage, registries, "
        "cluster and monitoring only, until models and images exist (docs/runbooks/first-deploy.md).")
    rollout: RolloutConfig = Field(default_factory=RolloutConfig, description="Traffic-shift policy.")
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig, description="Alerts and drift.")
    region: str = Field("", description="Region / location, from the cloud provider's own key (e.g. aws:region).")
    project: str = Field("", description="GCP project id (from gcp:project); empty elsewhere.")
    stack: str = Field("", description="The stack's name (Pulumi.<stack>.yaml); a stack that is not the bare "
                       "environment qualifies its physical names (components.naming.stack_qualifier).")

    @field_validator("name_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if len(value) > 12:
            raise ValueError(f"must be at most 12 characters (got {len(value)}); cloud name limits leave no more")
        return check_name(value, "namePrefix")

    @field_validator("owner", "cost_center")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        if not value.strip() or len(value) > 63:
            raise ValueError("expected a non-empty label of at most 63 characters")
        return value

    @field_validator("services")
    @classmethod
    def _service_names(cls, value: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        if not value:
            raise ValueError("at least one service is required: add one under services with its blue and green "
                             "slots (docs/config.md)")
        for name in value:
            check_name(name, "service name")
        return value

    @model_validator(mode="after")
    def _environment_defaults(self) -> PlatformConfig:
        return resolve_environment_defaults(self)

    @property
    def stack_tags(self) -> dict[str, str]:
        """Tags / labels every resource carries (service-level ones add `service`)."""
        return {
            **self.tags,
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
        }


def resolve_environment_defaults(cfg: PlatformConfig) -> PlatformConfig:
    """Fill the defaults that depend on the environment: prod is stricter and bigger."""
    prod = cfg.environment == "prod"
    updates: dict[str, BaseModel] = {}
    net = cfg.network
    if net.availability_zones is None or net.nat_gateways is None:
        updates["network"] = net.model_copy(update={
            "availability_zones": net.availability_zones or (3 if prod else 2),
            "nat_gateways": net.nat_gateways or ("per-zone" if prod else "single"),
        })
    if cfg.gpu.desired_nodes is None:
        updates["gpu"] = cfg.gpu.model_copy(update={"desired_nodes": cfg.gpu.min_nodes})
    if cfg.storage.access_logs is None:
        updates["storage"] = cfg.storage.model_copy(update={"access_logs": prod})
    mon = cfg.monitoring
    if mon.drift_schedule is None or mon.data_capture_percent is None:
        updates["monitoring"] = mon.model_copy(update={
            "drift_schedule": mon.drift_schedule or default_drift_schedule(cfg.environment),
            "data_capture_percent": mon.data_capture_percent
            if mon.data_capture_percent is not None
            else (100.0 if cfg.environment == "dev" else 20.0),
        })
    if not updates:
        return cfg
    # model_copy skips validation, so the after-validator is not re-entered.
    return cfg.model_copy(update=updates)


def parse_platform_config(values: Mapping[str, Any], derived: Mapping[str, str],
                          secret_keys: Collection[str] = ()) -> tuple[PlatformConfig | None, list[Problem]]:
    """The structurally valid `PlatformConfig` of a flat Pulumi config map (None if invalid) and every problem.

    `derived` holds the fields the stack's target reads from its provider's keys (`DERIVED_KEYS`);
    `secret_keys` the config keys the engine marks secret (a `secure:` value, at any depth).
    """
    problems: list[Problem] = []
    data: dict[str, Any] = {}
    for full_key, raw in sorted(values.items()):
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE:
            data[key] = _decode(raw)
        elif namespace not in _FOREIGN_OK:
            hint = did_you_mean(namespace, (NAMESPACE, *_FOREIGN_OK))
            problems.append(Problem(full_key, f"unknown config namespace {namespace!r}{hint}", _decode(raw)))

    for computed in DERIVED_KEYS:
        if computed in data:
            problems.append(Problem(f"{NAMESPACE}:{computed}", "is derived (from the provider's own key: "
                                    "aws:region, gcp:region, gcp:project, azure-native:location; or the stack's "
                                    "name); remove it",
                                    data.pop(computed)))
    data.update(derived)
    try:
        cfg = PlatformConfig.model_validate(data)
    except ValidationError as exc:
        return None, problems + _problems(exc, data)
    return cfg, problems + cross_section_problems(cfg) + plaintext_secret_problems(cfg, secret_keys)


def plaintext_secret_problems(cfg: PlatformConfig, secret_keys: Collection[str]) -> list[Problem]:
    """A secret key set in plain text would sit in git and, unmarked, in the state and in plans: refuse it."""
    problems = []
    for key in SECRET_KEYS:
        section, _, _field = key.partition(".")
        if _secret_value(cfg, key) is not None and f"{NAMESPACE}:{section}" not in secret_keys:
            problems.append(Problem(f"{NAMESPACE}:{key}", "is a secret; set it encrypted with `pulumi config set "
                                    f"--path --secret {NAMESPACE}:{key} <value>` (a plain value would be "
                                    "committed and stored unencrypted)"))
    return problems


def _secret_value(cfg: PlatformConfig, key: str) -> Any:
    value: Any = cfg
    for part in key.split("."):
        fields = {f.alias or n: n for n, f in type(value).model_fields.items()}
        value = getattr(value, fields[part])
    return value


def cross_section_problems(cfg: PlatformConfig) -> list[Problem]:
    """Rules between sections, each reported on the key the user changes to fix it."""
    problems = []
    if cfg.network.public_api_cidrs and cfg.environment != "dev":
        problems.append(Problem(f"{NAMESPACE}:network.publicApiCidrs",
                                f"a public cluster API is for dev stacks only; a {cfg.environment} cluster API is "
                                "private (remove publicApiCidrs and reach it through the VPC / VPN)",
                                list(cfg.network.public_api_cidrs)))
    from infra.composition import JOB_REPOSITORIES  # the job images' repositories share the registry

    for name, svc in cfg.services.items():
        repository = svc.image_repository or name
        if repository in JOB_REPOSITORIES and not svc.external_image:
            key = "imageRepository" if svc.image_repository else ""
            problems.append(Problem(f"{NAMESPACE}:services.{name}" + (f".{key}" if key else ""),
                                    f"repository {repository!r} is the platform's {repository} job image's in the "
                                    "stack's registry; rename the service or set imageRepository to another name",
                                    repository))
    return problems


def with_slot_defaults(cfg: PlatformConfig, instance_type: str | None) -> PlatformConfig:
    """`cfg` with every slot that names no instance type given the target's default `instance_type`."""
    if instance_type is None:
        return cfg
    services = {
        name: svc.model_copy(update={"slots": {
            slot_name: slot if slot.instance_type else slot.model_copy(update={"instance_type": instance_type})
            for slot_name, slot in svc.slots.items()}})
        for name, svc in cfg.services.items()}
    return cfg.model_copy(update={"services": services})


def _decode(raw: Any) -> Any:
    """Pulumi passes objects and arrays as JSON strings; scalars stay strings (pydantic coerces them)."""
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _problems(exc: ValidationError, data: Mapping[str, Any]) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        key = f"{NAMESPACE}:{'.'.join(loc)}" if loc else NAMESPACE
        kind = err["type"]
        if kind == "missing":
            out.append(Problem(key, f"required key is missing ({_describe(loc)})"))
        elif kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            hint = did_you_mean(loc[-1], allowed)
            out.append(Problem(key, f"unknown key{hint or '; expected one of ' + ', '.join(sorted(allowed))}",
                               err["input"]))
        else:
            message = _MESSAGES[kind].format(**err.get("ctx", {})) if kind in _MESSAGES else (
                err["msg"].removeprefix("Value error, ").replace("Input should be", "expected"))
            if kind == "literal_error":
                message = f"expected {err['ctx']['expected']}{did_you_mean(str(err['input']), _literals(err))}"
            value = _lookup(data, loc)
            # Cross-field rules report on a whole section: their message already names the values. Secrets never.
            shown = value is not _MISSING and not isinstance(value, Mapping) and ".".join(loc) not in SECRET_KEYS
            out.append(Problem(key, message, value) if shown else Problem(key, message))
    return out


_MISSING = object()
_MESSAGES = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "dict_type": "expected a mapping of keys to values",
    "model_type": "expected a mapping of keys to values",
    "model_attributes_type": "expected a mapping of keys to values",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
}


def _lookup(data: Any, loc: list[str]) -> Any:
    for part in loc:
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    """The model class that holds the keys at `loc` (walking dict-valued fields by their value type)."""
    model: Any = PlatformConfig
    expect_dict_key = False
    for part in loc:
        if expect_dict_key:
            expect_dict_key = False
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        field = fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        if getattr(annotation, "__origin__", None) is dict:
            model, expect_dict_key = args[1], True
        else:
            model = next((a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
            if model is None:
                return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _allowed_keys(loc: list[str]) -> list[str]:
    model = _model_at(loc)
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items() if model is not PlatformConfig
            or n not in DERIVED_KEYS]


def _describe(loc: list[str]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return "see docs/config.md"
    fields = {f.alias or n: f for n, f in model.model_fields.items()}
    field = fields.get(loc[-1])
    return (field.description or "see docs/config.md").rstrip(".") if field else "see docs/config.md"


def _literals(err: Any) -> list[str]:
    expected = str(err.get("ctx", {}).get("expected", ""))
    return [part.strip(" '") for part in expected.replace(" or ", ",").split(",") if part.strip(" '")]
