"""`mlops:local:ContainerRegistry`: registry:2 on a volume, with htpasswd auth, published on 127.0.0.1.

The push password is generated (`random.RandomPassword`, kept secret in the stack's state) and handed to
`ServiceImage` through `push_credentials()`; registry:2 checks it against the password's bcrypt hash (its
htpasswd backend accepts bcrypt only). `pull_provider` is a Docker provider that logs in with the same
credentials, so the platform's containers can pull the images the stack pushed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.local.containers import ContainerSpec, container, data_volume, pull
from components.local.images import PLATFORM_IMAGES
from components.local.topology import LOOPBACK
from components.service_image import RegistryCredentials

USER = "mlops-push"
PORT = 5000
HTPASSWD = "/auth/htpasswd"


@dataclass(frozen=True)
class ContainerRegistryArgs:
    prefix: str
    """Prefix of the container and volume names."""
    network: pulumi.Input[str]
    host_port: int
    """Port on 127.0.0.1 (`127.0.0.1:<port>/<repository>` is the image path)."""
    repositories: Sequence[str]
    tags: Mapping[str, str] = field(default_factory=dict)
    """Docker labels on the container and volume (the stack's tags)."""


class ContainerRegistry(pulumi.ComponentResource):
    url: str
    """`127.0.0.1:<port>`: the registry as this machine's Docker daemon sees it (loopback is implicitly insecure-ok)."""
    repository_urls: dict[str, pulumi.Output[str]]
    """Repository -> `127.0.0.1:<port>/<repository>`, an output of the registry container: an image pushed there
    waits until the registry answers (its health check) instead of racing its start."""
    password: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:local:ContainerRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.url = f"{LOOPBACK}:{args.host_port}"
        secret = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        self.password = secret.result
        volume = data_volume(f"{name}-data", f"{args.prefix}-registry-data", args.tags, self)
        image = PLATFORM_IMAGES["registry"]
        self.container = container(f"{name}-server", ContainerSpec(
            name=f"{args.prefix}-registry", image=pull(f"{name}-image", image.reference, self).image_id,
            network=args.network, user=image.user, ports={PORT: args.host_port}, aliases=["registry"],
            envs=["REGISTRY_AUTH=htpasswd", "REGISTRY_AUTH_HTPASSWD_REALM=mlops-platform",
                  f"REGISTRY_AUTH_HTPASSWD_PATH={HTPASSWD}", "REGISTRY_STORAGE_DELETE_ENABLED=true"],
            files={HTPASSWD: pulumi.Output.concat(USER, ":", secret.bcrypt_hash, "\n")},
            volumes={"/var/lib/registry": volume.name}, labels=args.tags,
            # answering at all is healthy: /v2/ asks for credentials (401) once the registry serves
            healthcheck=("CMD", "sh", "-c",
                         f"wget -q -S -O /dev/null http://127.0.0.1:{PORT}/v2/ 2>&1 | grep -q ' 401 '")),
            self)
        self.repository_urls = {repo: self.container.name.apply(lambda _, repo=repo: f"{self.url}/{repo}")
                                for repo in args.repositories}
        self.pull_provider = docker.Provider(f"{name}-pull", registry_auth=[docker.ProviderRegistryAuthArgs(
            address=self.url, username=USER, password=self.password)], opts=child)
        self.register_outputs({"url": self.url, "repository_urls": self.repository_urls})

    def push_credentials(self) -> RegistryCredentials:
        return RegistryCredentials(username=USER, password=self.password, server=self.url)
