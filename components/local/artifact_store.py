"""`mlops:local:ArtifactStore`: MinIO on a volume, the S3-compatible store every service uses unchanged.

The trainer's `--upload s3://<bucket>` and the model server's `MODEL_URI=s3://<bucket>/...` talk to it through
boto3's standard `AWS_ENDPOINT_URL` (`env()` hands a container everything it needs). The root credentials come
from the stack's secret config (`mlops-platform:artifactStorePassword`), else a generated password kept secret in
the state. The bucket is created at start by a one-shot `mc` container that waits for MinIO to answer
(`mc mb --ignore-existing`: an existing bucket, e.g. after `pulumi up` replaced the container, is kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.local.containers import ContainerSpec, container, data_volume, pull
from components.local.images import PLATFORM_IMAGES
from components.local.topology import LOOPBACK

API_PORT = 9000
CONSOLE_PORT = 9001
ALIAS = "minio"
INTERNAL_ENDPOINT = f"http://{ALIAS}:{API_PORT}"
REGION = "us-east-1"


@dataclass(frozen=True)
class ArtifactStoreArgs:
    prefix: str
    network: pulumi.Input[str]
    bucket: str
    host_port: int
    console_port: int
    user: str = "mlops-admin"
    password: pulumi.Input[str] | None = None
    """Root password from the stack's secret config; None: generated."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Docker labels on the containers and volume (the stack's tags)."""


class ArtifactStore(pulumi.ComponentResource):
    bucket_name: str
    endpoint: str
    """The S3 endpoint as this machine sees it (`http://127.0.0.1:<port>`)."""
    console_url: str
    user: str
    password: pulumi.Output[str]

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:local:ArtifactStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket_name, self.user = args.bucket, args.user
        self.endpoint = f"http://{LOOPBACK}:{args.host_port}"
        self.console_url = f"http://{LOOPBACK}:{args.console_port}"
        if args.password is None:
            self.password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child).result
        else:
            self.password = pulumi.Output.secret(args.password)
        volume = data_volume(f"{name}-data", f"{args.prefix}-artifacts-data", args.tags, self)
        minio = PLATFORM_IMAGES["minio"]
        credentials = [f"MINIO_ROOT_USER={args.user}", pulumi.Output.concat("MINIO_ROOT_PASSWORD=", self.password)]
        self.container = container(f"{name}-server", ContainerSpec(
            name=f"{args.prefix}-minio", image=pull(f"{name}-image", minio.reference, self).image_id,
            network=args.network, user=minio.user, ports={API_PORT: args.host_port, CONSOLE_PORT: args.console_port},
            aliases=[ALIAS], envs=credentials, command=["server", "/data", "--console-address", f":{CONSOLE_PORT}"],
            volumes={"/data": volume.name}, labels=args.tags), self)
        mc = PLATFORM_IMAGES["mc"]
        # MinIO has no health check to wait on: try for two minutes, then give up (the container's exit code shows)
        create = (f"i=0; until mc alias set store {INTERNAL_ENDPOINT} \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\"; "
                  f"do i=$((i+1)); [ $i -ge 120 ] && exit 1; sleep 1; done && "
                  f"mc mb --ignore-existing store/{args.bucket}")
        self.buckets = docker.Container(
            f"{name}-buckets", name=f"{args.prefix}-minio-buckets",
            image=pull(f"{name}-mc-image", mc.reference, self).image_id, user=mc.user,
            entrypoints=["/bin/sh", "-c"], command=[create], envs=[*credentials, "MC_CONFIG_DIR=/tmp/mc"],
            read_only=True, tmpfs={"/tmp": "rw,noexec,nosuid,size=16m"},
            capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]), security_opts=["no-new-privileges:true"],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=args.network)],
            must_run=False, attach=True, logs=True, restart="no",
            labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(args.tags.items())],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.container], delete_before_replace=True))
        self.register_outputs({"bucket_name": self.bucket_name, "endpoint": self.endpoint})

    def env(self) -> list[pulumi.Input[str]]:
        """What a container on the platform network needs for boto3 to reach the store."""
        return [f"AWS_ENDPOINT_URL={INTERNAL_ENDPOINT}", f"AWS_REGION={REGION}", f"AWS_ACCESS_KEY_ID={self.user}",
                pulumi.Output.concat("AWS_SECRET_ACCESS_KEY=", self.password)]

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket_name}/{key}"
