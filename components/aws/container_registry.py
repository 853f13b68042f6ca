"""ContainerRegistry (ECR): one private repository per service.

Scan on push, IMMUTABLE tags (a tag names one image forever, so a slot's tag pins what it runs),
KMS encryption with the stack key, and a lifecycle policy: every tag the stack runs (`kept_tags`: the
slots' image tags and the build tag) never expires, untagged images expire after N days and only the newest
N tagged images are kept among the rest.

Why the kept tags need their own rules: SageMaker pulls the image on every new instance (scale-out,
replacement, a rollout's new fleet); a count rule alone expires prod blue's old `1.4.0` once N newer tags
exist, and those instances then fail with CannotPullContainerError. ECR evaluates rules by priority and
"an image that matches the tagging requirements of a higher priority rule cannot be expired by a rule with
a lower priority" (docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html, lifecycle policy
evaluation rules). A `tagPatternList` with several patterns selects images carrying *all* of them
(lifecycle_policy_parameters.html), so each kept tag gets its own rule: priorities 1..k, exact pattern (no
wildcard; ECR allows four per pattern), `imageCountMoreThan` 1 (an IMMUTABLE tag names one image, so the
rule never expires it). The lower-priority count rule still counts the kept images among its N.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.iam import ECR_AUTH, ECR_PULL, Statement
from components.aws.naming import check_aws_name
from components.naming import Namer
from components.service_image import RegistryCredentials

POLICY_MAX_CHARS = 30_720
"""ECR quota "Lifecycle policy length" (not adjustable): docs.aws.amazon.com/AmazonECR/latest/userguide/
service-quotas.html."""
_DOCKER_TAG = re.compile(r"[\w][\w.-]{0,127}")


@dataclass(frozen=True)
class ContainerRegistryArgs:
    namer: Namer
    """Builds the repository names: `<prefix>-<env>-<service>`."""
    services: Sequence[str]
    """Services that get a repository (e.g. `("fraud", "churn")`)."""
    kms_key_arn: pulumi.Input[str]
    """The stack key (Encryption.key_arn); ECR encrypts layers with it."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every repository."""
    protect: bool = False
    """Protect and retain the repositories (prod)."""
    untagged_expiry_days: int = 7
    """Untagged images expire after this many days."""
    keep_tagged_images: int = 30
    """Tagged images kept per repository (newest first); older ones expire."""
    allow_force_delete: bool = False
    """Let `pulumi destroy` delete repositories that still hold images (dev only; never with `protect`)."""
    kept_tags: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Service -> tags that never expire: what the stack's slots pin and the build tag (`pinned_tags`)."""

    def __post_init__(self) -> None:
        errors = [check_aws_name("ecr-repository", self.repository_name(s)) for s in self.services]
        if not self.services:
            errors.append("services is empty: list at least one service")
        if len(set(self.services)) != len(self.services):
            errors.append(f"services {list(self.services)} has duplicates")
        if self.untagged_expiry_days < 1:
            errors.append(f"untagged_expiry_days={self.untagged_expiry_days}: must be at least 1")
        if self.keep_tagged_images < 1:
            errors.append(f"keep_tagged_images={self.keep_tagged_images}: must be at least 1")
        errors += [f"kept_tags names {service!r}, which has no repository; services: {list(self.services)}"
                   for service in self.kept_tags if service not in self.services]
        errors += [f"kept_tags[{service!r}] has {tag!r}: not a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-], at most "
                   "128 characters)" for service, tags in self.kept_tags.items() for tag in tags
                   if not _DOCKER_TAG.fullmatch(tag)]
        if not any(errors):  # the policy is built only from valid tags
            errors += [f"the lifecycle policy of {service!r} keeps {len(tags)} tags and exceeds ECR's "
                       f"{POLICY_MAX_CHARS} characters; pin fewer distinct tags"
                       for service, tags in self.kept_tags.items()
                       if len(self.lifecycle_policy(service)) > POLICY_MAX_CHARS]
        if self.allow_force_delete and self.protect:
            errors.append("allow_force_delete=True with protect=True: a protected repository keeps its images; "
                          "set allow_force_delete=False")
        errors = [e for e in errors if e]
        if errors:
            raise ValueError("; ".join(errors))

    def repository_name(self, service: str) -> str:
        return self.namer.name(service)

    def lifecycle_policy(self, service: str) -> str:
        return lifecycle_policy(self.untagged_expiry_days, self.keep_tagged_images, self.kept_tags.get(service, ()))


def lifecycle_policy(untagged_expiry_days: int, keep_tagged_images: int, kept_tags: Sequence[str] = ()) -> str:
    """ECR lifecycle policy JSON: one never-expiring rule per kept tag first, then untagged and count expiry.

    `tagStatus: tagged` requires a tag pattern; `*` matches every tag, a pattern without `*` one tag exactly.
    """
    kept = sorted(set(kept_tags))
    rules = [{"rulePriority": priority, "description": f"Never expire {tag}: the stack runs it",
              "selection": {"tagStatus": "tagged", "tagPatternList": [tag], "countType": "imageCountMoreThan",
                            "countNumber": 1},
              "action": {"type": "expire"}} for priority, tag in enumerate(kept, start=1)]
    rules += [
        {"rulePriority": len(kept) + 1, "description": f"Expire untagged images after {untagged_expiry_days} days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": untagged_expiry_days},
         "action": {"type": "expire"}},
        {"rulePriority": len(kept) + 2, "description": f"Keep the newest {keep_tagged_images} tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                       "countNumber": keep_tagged_images},
         "action": {"type": "expire"}},
    ]
    return json.dumps({"rules": rules}, sort_keys=True)


class ContainerRegistry(pulumi.ComponentResource):
    """One ECR repository per service, each with its lifecycle policy."""

    repository_urls: dict[str, pulumi.Output[str]]
    repository_arns: dict[str, pulumi.Output[str]]
    repository_names: dict[str, pulumi.Output[str]]
    registry_id: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:ContainerRegistry", name, None, opts)
        self.repository_urls, self.repository_arns, self.repository_names = {}, {}, {}
        registry_ids = []
        for service in args.services:
            repo = aws.ecr.Repository(
                f"{name}-{service}",
                name=args.repository_name(service),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                    encryption_type="KMS", kms_key=args.kms_key_arn)],
                force_delete=args.allow_force_delete,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
            )
            aws.ecr.LifecyclePolicy(f"{name}-{service}-lifecycle", repository=repo.name,
                                    policy=args.lifecycle_policy(service),
                                    opts=pulumi.ResourceOptions(parent=self))
            self.repository_urls[service] = repo.repository_url
            self.repository_arns[service] = repo.arn
            self.repository_names[service] = repo.name
            registry_ids.append(repo.registry_id)
        self.registry_id = registry_ids[0]
        self.register_outputs({"repository_urls": self.repository_urls, "repository_arns": self.repository_arns,
                               "registry_id": self.registry_id})

    def push_credentials(self) -> RegistryCredentials:
        """Docker login for `ServiceImageArgs.credentials`: the registry's short-lived ECR token (secret)."""
        token = aws.ecr.get_authorization_token_output(registry_id=self.registry_id,
                                                       opts=pulumi.InvokeOutputOptions(parent=self))
        return RegistryCredentials(username=token.user_name, password=pulumi.Output.secret(token.password))

    def grant_pull(self, service: str) -> list[Statement]:
        """IAM: pull `service`'s images (the auth token call cannot be scoped; the pulls are)."""
        if service not in self.repository_arns:
            raise KeyError(f"no repository for service {service!r}; known: {', '.join(self.repository_arns)}")
        # ECR decrypts layers through its own KMS grant on the repository, so pullers need no KMS permission.
        return [Statement("EcrAuthorizationToken", ECR_AUTH, ["*"]),
                Statement("Pull" + "".join(p.capitalize() for p in service.replace("_", "-").split("-")),
                          ECR_PULL, [self.repository_arns[service]])]


_ECR_IMAGE = re.compile(r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
                        r"(?P<repo>[a-z0-9._/-]+?)(?::[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})?")


def ecr_repository_arn(image: str) -> str:
    """ARN of the ECR repository of `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@sha256:digest]`.

    Raises ValueError for anything else: SageMaker pulls from ECR only.
    """
    match = _ECR_IMAGE.fullmatch(image)
    if not match:
        raise ValueError(f"{image!r} is not an ECR image: expected <account>.dkr.ecr.<region>.amazonaws.com/<repo>"
                         " with an optional :<tag> or @sha256:<digest> (SageMaker pulls from ECR only)")
    return f"arn:aws:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"

