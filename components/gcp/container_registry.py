"""ContainerRegistry (Artifact Registry, DOCKER): one repository per stack, one image per service.

Immutable tags (a slot's tag always names the same image), CMEK with the `registry` key (`kms_key_name` is
create-only: changing it replaces the repository and its images), cleanup policies (untagged images go after
`untagged_expiry_days`, the newest `keep_tagged` versions are kept) applied for real, not dry-run. Images are
`<region>-docker.pkg.dev/<project>/<repository>/<service>`. Pushes log in as `oauth2accesstoken` with the
deployer's short-lived access token (cloud.google.com/artifact-registry/docs/docker/authentication#token).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.service_image import RegistryCredentials

TOKEN_USER = "oauth2accesstoken"


@dataclass(frozen=True)
class ContainerRegistryArgs:
    repository_id: str
    project: str
    region: str
    kms_key_id: pulumi.Input[str]
    services: Sequence[str]
    untagged_expiry_days: int = 7
    keep_tagged: int = 30
    labels: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False
    depends_on: Sequence[pulumi.Resource] = ()


def cleanup_policies(untagged_days: int, keep: int) -> list[gcp.artifactregistry.RepositoryCleanupPolicyArgs]:
    return [
        gcp.artifactregistry.RepositoryCleanupPolicyArgs(
            id="delete-untagged", action="DELETE", condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                tag_state="UNTAGGED", older_than=f"{untagged_days * 86400}s")),
        gcp.artifactregistry.RepositoryCleanupPolicyArgs(
            id="keep-recent", action="KEEP",
            most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(keep_count=keep)),
    ]


class ContainerRegistry(pulumi.ComponentResource):
    repository_name: pulumi.Output[str]
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:gcp:ContainerRegistry", name, None, opts)
        repo = gcp.artifactregistry.Repository(
            f"{name}-repository", repository_id=args.repository_id, project=args.project, location=args.region,
            format="DOCKER", kms_key_name=args.kms_key_id,
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            cleanup_policies=cleanup_policies(args.untagged_expiry_days, args.keep_tagged),
            cleanup_policy_dry_run=False, labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=list(args.depends_on)))
        host = f"{args.region}-docker.pkg.dev"
        self._host = host
        self.repository_name = repo.name
        self.repository_urls = {svc: pulumi.Output.concat(host, "/", args.project, "/", repo.repository_id, "/", svc)
                                for svc in args.services}
        self.register_outputs({"repository_name": repo.name, "repository_urls": self.repository_urls})

    def push_credentials(self) -> RegistryCredentials:
        """Docker login for `ServiceImageArgs.credentials`: the deployer's access token (secret)."""
        token = gcp.organizations.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self)).access_token
        return RegistryCredentials(username=TOKEN_USER, password=pulumi.Output.secret(token), server=self._host)
