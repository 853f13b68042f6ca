"""How every local platform container is declared: hardened defaults in one place, provider behaviour encoded.

- Published ports bind to 127.0.0.1: reachable from this machine only.
- Every capability dropped, `no-new-privileges`, a restart policy, a non-root user unless the image table says
  why not (`components/local/images.py`).
- Read-only root filesystem with a tmpfs `/tmp`, except for containers that receive files (`uploads`): Docker
  refuses to copy into a read-only rootfs ("container rootfs is marked read-only",
  https://github.com/moby/moby/issues/43015), and the provider uploads before it starts the container.
- Uploads are force-new in the provider (kreuzwerker/terraform-provider-docker,
  internal/provider/resource_docker_container.go: "New configuration forces a new deployment"), as are the
  environment, image and name: a changed config file or model version replaces the container. The name is fixed
  (the DNS name peers use), so the old container must go first or the new one fails with a name conflict:
  `delete_before_replace`.
- A container that cannot run until something else exists (a model server before its model is uploaded, the
  router before the slots it resolves are running) is declared with `must_run=False`: the provider would otherwise
  delete it and fail `pulumi up` ("container failed to be in running state",
  resource_docker_container_funcs.go); Docker's restart policy brings it up once its dependency appears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from components.local.topology import LOOPBACK

RESTART = "unless-stopped"


@dataclass(frozen=True)
class ContainerSpec:
    """One long-running (or one-shot) container of the platform."""

    name: str
    """Container name, also its DNS name on the platform network."""
    image: pulumi.Input[str]
    network: pulumi.Input[str]
    user: str | None
    ports: Mapping[int, int] = field(default_factory=dict)
    """Container port -> port on 127.0.0.1."""
    envs: Sequence[pulumi.Input[str]] = ()
    command: Sequence[pulumi.Input[str]] = ()
    entrypoint: Sequence[str] = ()
    files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Path in the container -> content, uploaded before start (makes the rootfs writable, see module doc)."""
    volumes: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Path in the container -> volume name."""
    aliases: Sequence[str] = ()
    healthcheck: Sequence[str] = ()
    """`CMD ...` test; the provider waits for healthy on create (`wait`)."""
    labels: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Docker labels: the stack's tags (environment, owner, cost-center, service) plus the container's own."""
    one_shot: bool = False
    """Created, not started: run on demand with `docker start -a <name>`."""
    must_run: bool = True
    """`pulumi up` waits until the container runs (and is healthy, with a health check); False: it may restart
    until what it needs exists."""


def container(resource_name: str, spec: ContainerSpec, parent: pulumi.Resource,
              depends_on: Sequence[pulumi.Resource] = ()) -> docker.Container:
    read_only = not spec.files
    return docker.Container(
        resource_name,
        name=spec.name,
        image=spec.image,
        user=spec.user,
        restart="no" if spec.one_shot else RESTART,
        start=not spec.one_shot,
        must_run=spec.must_run and not spec.one_shot,
        read_only=read_only,
        tmpfs={"/tmp": "rw,noexec,nosuid,size=512m"} if read_only else None,
        capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
        security_opts=["no-new-privileges:true"],
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=spec.network, aliases=list(spec.aliases) or None)],
        ports=[docker.ContainerPortArgs(internal=inside, external=outside, ip=LOOPBACK)
               for inside, outside in sorted(spec.ports.items())] or None,
        envs=list(spec.envs) or None,
        command=list(spec.command) or None,
        entrypoints=list(spec.entrypoint) or None,
        uploads=[docker.ContainerUploadArgs(file=path, content=content)
                 for path, content in sorted(spec.files.items())] or None,
        volumes=[docker.ContainerVolumeArgs(container_path=path, volume_name=volume)
                 for path, volume in sorted(spec.volumes.items())] or None,
        healthcheck=docker.ContainerHealthcheckArgs(tests=list(spec.healthcheck), interval="10s", timeout="3s",
                                                    retries=3, start_period="20s") if spec.healthcheck else None,
        wait=bool(spec.healthcheck) and spec.must_run and not spec.one_shot,
        wait_timeout=180 if spec.healthcheck and spec.must_run else None,
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(
            spec.labels.items())],
        opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True, depends_on=list(depends_on)),
    )


def data_volume(resource_name: str, name: str, tags: Mapping[str, str], parent: pulumi.Resource) -> docker.Volume:
    """A named volume holding the platform's data (models, images, metrics), labelled with the stack's tags at create.

    The provider cannot update a volume: `labels` is ForceNew (kreuzwerker/terraform-provider-docker,
    internal/provider/resource_docker_volume.go, no UpdateContext). Replacing a volume under its fixed name
    re-creates nothing (Docker returns the existing volume) and then force-removes it, or fails after 30 s while a
    container mounts it ("volume is in use"). A tag change must not cost the data: later label changes are ignored.
    """
    return docker.Volume(resource_name, name=name,
                         labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in sorted(tags.items())],
                         opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["labels"]))


def pull(resource_name: str, reference: pulumi.Input[str], parent: pulumi.Resource,
         provider: pulumi.ProviderResource | None = None) -> docker.RemoteImage:
    """The image, pulled onto this machine (kept when the stack is destroyed: other stacks may share it)."""
    return docker.RemoteImage(resource_name, name=reference, keep_locally=True,
                              opts=pulumi.ResourceOptions(parent=parent, provider=provider))
