"""What every target's composition does the same way, planned once from the config.

`plan_services(cfg)` decides, per service and for any cloud: the repository (a name in the stack's
registry, or an external image path), which image each slot runs (this checkout's build for the build
tag, else the pinned tag), where its models and drift baselines live as keys relative to the stack's
artifact store (each cloud turns a key into its URI scheme: `s3://bucket/key`, `gs://bucket/key`, ...),
its drift spec and its tags / labels. `rollout_spec` and `alert_thresholds` turn the stack's sections
into the shared specs. A target maps these onto its components; it re-derives none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.monitoring import AlertThresholds, DriftSpec
from components.naming import Namer, stack_qualifier
from components.service_image import RegistryCredentials, ServiceImage, ServiceImageArgs
from components.serving import RolloutSpec, SlotSpec
from infra.config import PlatformConfig
from infra.config_sections import ServiceConfig

ON_ENDPOINT = ("endpoint", "both")
"""`services.<svc>.target` values served by the cloud's managed endpoint (SageMaker, Vertex AI, Azure ML)."""
ON_KUBERNETES = ("kubernetes", "both")
"""`services.<svc>.target` values served on the stack's GPU cluster (infra/kubernetes_serving.py)."""


def serves_on(cfg: PlatformConfig, service: str, targets: tuple[str, ...]) -> bool:
    """Whether `service` is served by one of `targets` (ON_ENDPOINT / ON_KUBERNETES)."""
    return cfg.services[service].target in targets


def on_kubernetes(cfg: PlatformConfig) -> bool:
    """Whether any service is served on the cluster (only then is the Kubernetes machinery imported)."""
    return any(serves_on(cfg, name, ON_KUBERNETES) for name in cfg.services)


MODEL_FILE = "model.tar.gz"
BASELINE_FILES = ("statistics.json", "constraints.json")
"""What the trainer writes next to each model version (services/trainer)."""


@dataclass(frozen=True)
class SlotPlan:
    """What one slot runs, before any cloud resource exists."""

    image_tag: str
    built: bool
    """True when the slot runs this checkout's build (its tag is the service's build tag)."""
    model_version: str
    model_key: str
    """`<model prefix>/<model version>/model.tar.gz`, relative to the artifact store."""
    instance_type: str
    instance_count: int
    weight: int


@dataclass(frozen=True)
class ServicePlan:
    """One service, planned for any cloud."""

    name: str
    repository: str
    """The repository's name in the stack's registry, or the external image path (`external`)."""
    external: bool
    """Images come from outside the stack's registry: no repository, no build."""
    build_tag: str | None
    """Tag to build from this checkout and push (None: nothing is built)."""
    slots: Mapping[str, SlotPlan]
    live: str
    keep_warm: bool
    max_instances: int
    model_prefix: str
    """Key prefix of the service's model versions in the artifact store (the endpoint's read scope)."""
    baseline_prefix: str
    """`<model prefix>/<live slot's model version>`: where the drift baselines of the live model are."""
    drift: DriftSpec
    tags: Mapping[str, str]
    """The stack's tags plus `service`; a cloud with label rules (GCP) sanitizes them in its package."""

    @property
    def baseline_keys(self) -> dict[str, str]:
        """Baseline file name -> key (`statistics.json`, `constraints.json`)."""
        return {file: f"{self.baseline_prefix}/{file}" for file in BASELINE_FILES}

    def images(self, repository_url: pulumi.Input[str] | None, built: pulumi.Input[str] | None
               ) -> dict[str, pulumi.Input[str]]:
        """Image per slot: `built` (the pushed digest) for the build tag, else `<repository>:<tag>`.

        `repository_url` is the repository in the stack's registry (ignored for external images).
        """
        images: dict[str, pulumi.Input[str]] = {}
        for slot_name, slot in self.slots.items():
            if self.external:
                images[slot_name] = f"{self.repository}:{slot.image_tag}"
            elif slot.built and built is not None:
                images[slot_name] = built
            else:
                images[slot_name] = pulumi.Output.concat(repository_url, ":", slot.image_tag)
        return images

    def slot_specs(self, images: Mapping[str, pulumi.Input[str]],
                   model_uri: Callable[[str], pulumi.Input[str]]) -> dict[str, SlotSpec]:
        """The serving spec of each slot; `model_uri` turns a store-relative key into the cloud's URI."""
        return {name: SlotSpec(image=images[name], model_uri=model_uri(slot.model_key),
                               model_version=slot.model_version, instance_type=slot.instance_type,
                               instance_count=slot.instance_count, weight=slot.weight)
                for name, slot in self.slots.items()}


def stack_namer(cfg: PlatformConfig) -> Namer:
    """The namer of every physical name a stack sets (every target and its preflight use this one)."""
    return Namer(cfg.name_prefix, cfg.environment, stack_qualifier(cfg.stack, cfg.environment, cfg.cloud))


def plan_services(cfg: PlatformConfig) -> list[ServicePlan]:
    """Every service of the stack, in stack-file order."""
    return [plan_service(cfg, name, svc) for name, svc in cfg.services.items()]


def plan_service(cfg: PlatformConfig, name: str, svc: ServiceConfig) -> ServicePlan:
    prefix = svc.model_artifact_uri or f"models/{name}"
    slots = {slot_name: SlotPlan(image_tag=slot.image_tag, built=slot.image_tag == svc.build_tag,
                                 model_version=slot.model_version,
                                 model_key=f"{prefix}/{slot.model_version}/{MODEL_FILE}",
                                 instance_type=slot.instance_type, instance_count=slot.instance_count,
                                 weight=slot.weight)
             for slot_name, slot in svc.slots.items()}
    return ServicePlan(
        name=name, repository=svc.image_repository or name, external=svc.external_image, build_tag=svc.build_tag,
        slots=slots, live=svc.live, keep_warm=svc.keep_warm, max_instances=svc.max_instances, model_prefix=prefix,
        baseline_prefix=f"{prefix}/{svc.slots[svc.live].model_version}",
        drift=DriftSpec(features=svc.drift_features, threshold_psi=cfg.monitoring.drift_threshold,
                        schedule=cfg.monitoring.drift_schedule),
        tags={**cfg.stack_tags, "service": name})


def slot_images(plan: ServicePlan, repository_urls: Mapping[str, pulumi.Input[str]],
                credentials: Callable[[], RegistryCredentials]) -> dict[str, pulumi.Input[str]]:
    """The image each of the service's slots runs (`ServicePlan.images`), building and pushing this checkout's
    image first when the service has a build tag (a `ServiceImage`; config allows a build tag only with a
    repository in the stack's registry). `credentials` is asked only when something is built (e.g.
    `ContainerRegistry.push_credentials`)."""
    repository_url = None if plan.external else repository_urls[plan.repository]
    built = None
    if repository_url is not None and plan.build_tag:
        built = ServiceImage(f"{plan.name}-image", ServiceImageArgs(
            service=plan.name, image_tag=plan.build_tag, repository_url=repository_url,
            credentials=credentials())).image_uri
    return plan.images(repository_url, built)


@dataclass(frozen=True)
class JobImage:
    """An image the platform's jobs run (not a served model): built from its own folder of services/."""

    repository: str
    """Its repository's name in the stack's registry (and its key in the `repositoryUrls` export)."""
    context: str
    """Build context relative to the project root (the folder whose .dockerignore applies)."""

    @property
    def dockerfile(self) -> str:
        return f"{self.context}/Dockerfile"


JOB_IMAGES = (JobImage("trainer", "services/trainer"), JobImage("drift-monitor", "services/drift_monitor"))
"""The job images every stack with a registry builds beside the model server's (issue 11)."""
JOB_REPOSITORIES = frozenset(job.repository for job in JOB_IMAGES)


@dataclass(frozen=True)
class JobImagePlan:
    image: JobImage
    tag: str
    """The tag to build and push: the stack's build tag (`stack_build_tag`)."""


def _version_key(tag: str) -> tuple[tuple[int, int | str], ...]:
    """Order `1.10.0` after `1.9.0` (numeric parts compare as numbers, others as text after numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.\-_]", tag))


def stack_build_tag(cfg: PlatformConfig) -> str | None:
    """The tag the stack's job images are built with: its services' `buildTag` (the newest when they differ).

    Every build tag names this checkout's content (services/build-tags.json records it), so the job images
    share the rule: nothing is built without a build tag, and a new build tag rebuilds every image.
    """
    tags = {svc.build_tag for svc in cfg.services.values() if svc.build_tag and not svc.external_image}
    return max(tags, key=_version_key) if tags else None


def plan_job_images(cfg: PlatformConfig, fallback_tag: str | None = None) -> list[JobImagePlan]:
    """The job images this stack builds, tagged with its build tag (or `fallback_tag`, for a registry
    private to one machine, e.g. local); none when it has neither."""
    tag = stack_build_tag(cfg) or fallback_tag
    return [] if tag is None else [JobImagePlan(image, tag) for image in JOB_IMAGES]


def registry_repositories(services: Sequence[ServicePlan], jobs: Sequence[JobImagePlan]) -> list[str]:
    """Every repository the stack's registry holds: the services' (not external) and the job images'."""
    return sorted({plan.repository for plan in services if not plan.external}
                  | {job.image.repository for job in jobs})


def pinned_tags(services: Sequence[ServicePlan], jobs: Sequence[JobImagePlan]) -> dict[str, list[str]]:
    """Repository (in the stack's registry) -> the tags the stack runs from it: every slot's image tag and
    the build tag of its services, and each job image's build tag. A registry's cleanup must keep these."""
    kept: dict[str, set[str]] = {}
    for plan in services:
        if plan.external:
            continue
        kept.setdefault(plan.repository, set()).update(slot.image_tag for slot in plan.slots.values())
        if plan.build_tag:
            kept[plan.repository].add(plan.build_tag)
    for job in jobs:
        kept.setdefault(job.image.repository, set()).add(job.tag)
    return {repository: sorted(tags) for repository, tags in sorted(kept.items())}


def build_job_images(jobs: Sequence[JobImagePlan], repository_urls: Mapping[str, pulumi.Input[str]],
                     credentials: Callable[[], RegistryCredentials]) -> dict[str, pulumi.Output[str]]:
    """Build and push each job image (`<repository>-image`, a `ServiceImage`); repository -> pushed digest."""
    return {job.image.repository: ServiceImage(f"{job.image.repository}-image", ServiceImageArgs(
        service=job.image.repository, image_tag=job.tag, repository_url=repository_urls[job.image.repository],
        credentials=credentials(), dockerfile=job.image.dockerfile, context=job.image.context)).image_uri
        for job in jobs}


def repository_exports(services: Sequence[ServicePlan], jobs: Sequence[JobImagePlan],
                       repository_urls: Mapping[str, pulumi.Input[str]]) -> dict[str, pulumi.Input[str]]:
    """The `repositoryUrls` export: service -> its repository, and each job image's repository by its name."""
    return {**{plan.name: repository_urls[plan.repository] for plan in services if not plan.external},
            **{job.image.repository: repository_urls[job.image.repository] for job in jobs}}


def rollout_spec(cfg: PlatformConfig) -> RolloutSpec:
    r = cfg.rollout
    return RolloutSpec(strategy=r.strategy, canary_percent=r.canary_percent, step_percent=r.step_percent,
                       wait_seconds=r.wait_seconds, termination_wait_seconds=r.termination_wait_seconds,
                       auto_rollback=r.auto_rollback)


def alert_thresholds(cfg: PlatformConfig) -> AlertThresholds:
    return AlertThresholds(error_rate_percent=cfg.monitoring.error_rate_percent,
                           p99_latency_ms=cfg.monitoring.p99_latency_ms)


def alert_webhook(cfg: PlatformConfig) -> pulumi.Output[str] | None:
    """The on-call webhook URL as a secret Output (never a plain value in state, plans or logs), if set."""
    url = cfg.monitoring.alert_webhook_url
    return None if url is None else pulumi.Output.secret(url)
