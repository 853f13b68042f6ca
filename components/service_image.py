"""`mlops:images:ServiceImage`: build a service's image and push it to any registry, or pin an existing image.

Cloud-neutral: the build uses `pulumi_docker.Image` with the service's folder (`services/model_server`,
whose `.dockerignore` applies) as context, for linux/amd64 (every serving target and the GPU nodes), and
logs in with the `RegistryCredentials` the stack's registry component hands in (AWS: ContainerRegistry's
short-lived ECR token; GCP / Azure: their registries' tokens). The tag comes from config and is never
`latest`: repositories are immutable, and a moving tag would make a slot's image ambiguous. `image_uri` is
the pushed digest (`repo@sha256:...`), so an endpoint runs exactly the image that was built.

The component was `mlops:aws:ServiceImage`; the alias keeps its URN (and its image's) stable, so an
existing stack's `pulumi up` renames rather than rebuilds and re-pushes the image.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_IMAGE_URI = re.compile(r"[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})")
PREVIOUS_TYPE = "mlops:aws:ServiceImage"


@dataclass(frozen=True)
class RegistryCredentials:
    """How docker logs in to push; each registry component hands these in (`ContainerRegistry.push_credentials()`)."""

    username: pulumi.Input[str]
    """Login name (ECR: `AWS`; Artifact Registry: `oauth2accesstoken`)."""
    password: pulumi.Input[str]
    """A short-lived token; the build keeps it secret."""
    server: pulumi.Input[str] | None = None
    """Registry to log in to; default: the image's repository URL."""


@dataclass(frozen=True)
class ServiceImageArgs:
    service: str
    """The service this image serves (names the resources)."""
    image_tag: str = ""
    """Tag to build and push (e.g. a git SHA or `1.4.2`); never `latest`. Required unless `image_uri`."""
    repository_url: pulumi.Input[str] | None = None
    """The service's repository URL in the stack's registry (e.g. `ContainerRegistry.repository_urls[service]`).
    Required unless `image_uri`."""
    credentials: RegistryCredentials | None = None
    """Push credentials from the registry component. Required unless `image_uri`."""
    image_uri: str | None = None
    """Pin an existing image (`repo:tag` or `repo@sha256:...`) instead of building one."""
    dockerfile: str = "services/model_server/Dockerfile"
    """Dockerfile path, relative to the project root (where Pulumi runs the program)."""
    context: str = "services/model_server"
    """Build context, relative to the project root: the service's folder, so its .dockerignore applies."""
    platform: str = "linux/amd64"
    """Target platform of the build."""
    build_args: Mapping[str, str] = field(default_factory=dict)
    """Docker build arguments."""

    def __post_init__(self) -> None:
        errors = []
        if self.image_uri is not None:
            if not _IMAGE_URI.fullmatch(self.image_uri):
                errors.append(f"image_uri {self.image_uri!r}: expected <registry>/<repository>:<tag> or "
                              "<registry>/<repository>@sha256:<digest>")
            elif self.image_uri.endswith(":latest"):
                errors.append(f"image_uri {self.image_uri!r}: `latest` moves; pin a version tag or a digest")
            if self.image_tag or self.repository_url is not None:
                errors.append("image_uri pins an existing image: leave image_tag and repository_url unset")
        else:
            if not self.image_tag:
                errors.append("image_tag is empty: set the tag to build (e.g. the git SHA), or pin image_uri")
            elif self.image_tag == "latest":
                errors.append("image_tag 'latest' is refused: repositories are IMMUTABLE and slots pin versions; "
                              "use a version tag or the git SHA")
            elif not _TAG.fullmatch(self.image_tag):
                errors.append(f"image_tag {self.image_tag!r}: Docker tags are [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")
            if self.repository_url is None or self.credentials is None:
                errors.append("repository_url and credentials are required to build and push "
                              "(from the registry component, e.g. ContainerRegistry.push_credentials())")
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def builds(self) -> bool:
        return self.image_uri is None


class ServiceImage(pulumi.ComponentResource):
    """The image a service's slots run: built and pushed here, or pinned."""

    image_uri: pulumi.Output[str]
    """Digest-pinned URI of the pushed image (or the pinned `image_uri`)."""
    image_name: pulumi.Output[str]
    """`<repository>:<tag>` as pushed (or the pinned `image_uri`)."""

    def __init__(self, name: str, args: ServiceImageArgs, opts: pulumi.ResourceOptions | None = None):
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=PREVIOUS_TYPE)])
        super().__init__("mlops:images:ServiceImage", name, None, pulumi.ResourceOptions.merge(opts, moved))
        if not args.builds:
            self.image_uri = self.image_name = pulumi.Output.from_input(str(args.image_uri))
        else:
            login = args.credentials  # ServiceImageArgs requires it when building
            image = docker.Image(
                f"{name}-image",
                image_name=pulumi.Output.concat(args.repository_url, ":", args.image_tag),
                build=docker.DockerBuildArgs(
                    context=args.context, dockerfile=args.dockerfile,
                    platform=args.platform, args=dict(args.build_args) or None),
                registry=docker.RegistryArgs(
                    server=login.server if login.server is not None else args.repository_url,  # type: ignore[union-attr]
                    username=login.username, password=pulumi.Output.secret(login.password)),  # type: ignore[union-attr]
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.image_name = image.image_name
            self.image_uri = image.repo_digest
        self.register_outputs({"image_uri": self.image_uri, "image_name": self.image_name})
