"""No public storage or registries, TLS only, least-privilege IAM."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel

from policy.model import Resource, ResourceRule
from policy.values import UNKNOWN, as_list, get, is_true, parse_json_document

_PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
_PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
_PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM/resource policy document (string or object)."""
    doc = parse_json_document(document)
    if not isinstance(doc, Mapping):
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in as_list(v) for v in principal.values())
    return False


def public_statements(document: Any) -> list[int]:
    """Indexes of Allow statements that grant to everyone (``Principal: *``) without a condition."""
    return [i for i, s in enumerate(statements(document))
            if s.get("Effect") == "Allow" and _is_everyone(s.get("Principal")) and not s.get("Condition")]


def s3_public_access_block(r: Resource) -> Iterator[str]:
    """All four S3 public access block settings are on."""
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        if not is_true(r.props.get(flag)):
            yield f"{flag} is not true"


def s3_acl(r: Resource) -> Iterator[str]:
    """No canned or explicit ACL opens an S3 bucket to everyone."""
    if r.props.get("acl") in _PUBLIC_ACLS:
        yield f"acl {r.props['acl']!r} makes the bucket public"
    for grant in as_list(get(r.props, "accessControlPolicy", "grants")):
        if get(grant, "grantee", "uri") in _PUBLIC_GRANTEES:
            yield f"a grant to {get(grant, 'grantee', 'uri')} makes the bucket public"


def s3_bucket_policy_not_public(r: Resource) -> Iterator[str]:
    """S3 bucket policies grant nothing to ``*`` without a condition."""
    for i in public_statements(r.props.get("policy")):
        yield f"policy statement {i} allows Principal '*' without a Condition"


def gcs_bucket_not_public(r: Resource) -> Iterator[str]:
    """GCS buckets enforce public access prevention and uniform bucket-level access."""
    if r.props.get("publicAccessPrevention") not in ("enforced", UNKNOWN):
        yield "publicAccessPrevention is not 'enforced'"
    if not is_true(r.props.get("uniformBucketLevelAccess")):
        yield "uniformBucketLevelAccess is not true"


def gcp_iam_not_public(r: Resource) -> Iterator[str]:
    """No GCP IAM member/binding grants to allUsers or allAuthenticatedUsers."""
    members = as_list(r.props.get("member")) + as_list(r.props.get("members"))
    for member in members:
        if member in _PUBLIC_MEMBERS:
            yield f"member {member!r} makes the resource public"


def azure_storage_not_public(r: Resource) -> Iterator[str]:
    """Azure storage accounts disallow anonymous blob access (set explicitly)."""
    if r.props.get("allowBlobPublicAccess") not in (False, UNKNOWN):
        yield "allowBlobPublicAccess must be set to false"


def azure_container_not_public(r: Resource) -> Iterator[str]:
    """Azure blob containers have no anonymous access level."""
    level = r.props.get("publicAccess")
    if level not in (None, "None", UNKNOWN):
        yield f"publicAccess is {level!r}; use 'None'"


PUBLIC_BUCKETS = ResourceRule(
    name="no-public-buckets",
    description="Buckets, storage accounts and blob containers are never public.",
    checks={
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": s3_public_access_block,
        "aws:s3/bucket:Bucket": s3_acl,
        "aws:s3/bucketAcl:BucketAcl": s3_acl,
        "aws:s3/bucketAclV2:BucketAclV2": s3_acl,
        "aws:s3/bucketPolicy:BucketPolicy": s3_bucket_policy_not_public,
        "gcp:storage/bucket:Bucket": gcs_bucket_not_public,
        "gcp:storage/bucketIAMMember:BucketIAMMember": gcp_iam_not_public,
        "gcp:storage/bucketIAMBinding:BucketIAMBinding": gcp_iam_not_public,
        "azure-native:storage:StorageAccount": azure_storage_not_public,
        "azure-native:storage:BlobContainer": azure_container_not_public,
    },
)


def ecr_policy_not_public(r: Resource) -> Iterator[str]:
    """ECR repository policies grant nothing to ``*`` without a condition."""
    for i in public_statements(r.props.get("policy")):
        yield f"policy statement {i} allows Principal '*' without a Condition (anyone could pull)"


def ecr_public_repository(r: Resource) -> Iterator[str]:
    """Public ECR galleries are not used for model images."""
    yield "ECR Public repositories are world-readable; use a private aws:ecr/repository:Repository"


def acr_not_public(r: Resource) -> Iterator[str]:
    """Azure container registries allow no anonymous pull."""
    if r.props.get("anonymousPullEnabled") is True:
        yield "anonymousPullEnabled is true"


PUBLIC_REGISTRIES = ResourceRule(
    name="no-public-registries",
    description="Container registries never allow anonymous pulls.",
    checks={
        "aws:ecr/repositoryPolicy:RepositoryPolicy": ecr_policy_not_public,
        "aws:ecrpublic/repository:Repository": ecr_public_repository,
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": gcp_iam_not_public,
        "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding": gcp_iam_not_public,
        "azure-native:containerregistry:Registry": acr_not_public,
    },
)


def azure_storage_tls(r: Resource) -> Iterator[str]:
    """Azure storage accepts HTTPS only, TLS 1.2 or newer."""
    if r.props.get("enableHttpsTrafficOnly") is False:
        yield "enableHttpsTrafficOnly is false"
    if r.props.get("minimumTlsVersion") not in ("TLS1_2", "TLS1_3", UNKNOWN):
        yield "minimumTlsVersion must be set to 'TLS1_2' or newer"


def lb_listener_tls(r: Resource) -> Iterator[str]:
    """Load balancer listeners serve HTTPS/TLS, or only redirect plain HTTP to HTTPS."""
    if r.props.get("protocol") not in ("HTTP", "TCP"):
        return
    actions = as_list(r.props.get("defaultActions"))
    if not actions or any(get(a, "type") != "redirect" or get(a, "redirect", "protocol") != "HTTPS"
                          for a in actions):
        yield f"listener protocol {r.props.get('protocol')} without an HTTPS redirect"


TLS_ONLY = ResourceRule(
    name="tls-only",
    description="Data in transit uses TLS only (no plain HTTP endpoints, storage requires HTTPS).",
    checks={
        "azure-native:storage:StorageAccount": azure_storage_tls,
        "aws:lb/listener:Listener": lb_listener_tls,
        "aws:alb/listener:Listener": lb_listener_tls,
    },
)

_ADMIN_POLICY_SUFFIXES = (":policy/AdministratorAccess", ":policy/PowerUserAccess", ":policy/IAMFullAccess")
_BROAD_GCP_ROLES = ("roles/owner", "roles/editor")
# Built-in Azure role definition GUIDs: Owner, Contributor, User Access Administrator.
_BROAD_AZURE_ROLES = {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
                      "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
                      "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator"}


def wildcard_grants(document: Any) -> Iterator[str]:
    """Messages for Allow statements with action ``*`` or ``service:*`` on resource ``*``."""
    for i, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
        resources = as_list(statement.get("Resource"))
        if "*" in actions or "*:*" in actions:
            yield f"statement {i} allows every action ('*')"
        elif "*" in resources and (wild := [a for a in actions if a.endswith(":*")]):
            yield f"statement {i} allows {', '.join(wild)} on every resource ('*')"


def aws_policy_document(r: Resource) -> Iterator[str]:
    """IAM policies grant no wildcard action on every resource."""
    yield from wildcard_grants(r.props.get("policy"))


def aws_role(r: Resource) -> Iterator[str]:
    """Roles carry no admin managed policy and no wildcard inline policy."""
    for arn in as_list(r.props.get("managedPolicyArns")):
        if isinstance(arn, str) and arn.endswith(_ADMIN_POLICY_SUFFIXES):
            yield f"managed policy {arn} is far broader than a model workload needs"
    for inline in as_list(r.props.get("inlinePolicies")):
        for message in wildcard_grants(get(inline, "policy")):
            yield f"inline policy {get(inline, 'name', default='?')}: {message}"


def aws_policy_attachment(r: Resource) -> Iterator[str]:
    """No admin-level AWS managed policy is attached."""
    arn = r.props.get("policyArn")
    if isinstance(arn, str) and arn.endswith(_ADMIN_POLICY_SUFFIXES):
        yield f"attaches {arn}"


def gcp_iam_role(r: Resource) -> Iterator[str]:
    """No GCP IAM grant of the basic owner/editor roles."""
    if r.props.get("role") in _BROAD_GCP_ROLES:
        yield f"grants basic role {r.props['role']}; use predefined or custom roles"
    for binding in as_list(get(parse_json_document(r.props.get("policyData")), "bindings")):
        if get(binding, "role") in _BROAD_GCP_ROLES:
            yield f"policyData binds basic role {get(binding, 'role')}"


def azure_role_assignment(r: Resource) -> Iterator[str]:
    """No Azure role assignment of Owner, Contributor or User Access Administrator."""
    role = str(r.props.get("roleDefinitionId") or "").rstrip("/").rsplit("/", 1)[-1].lower()
    if role in _BROAD_AZURE_ROLES:
        yield f"assigns the built-in {_BROAD_AZURE_ROLES[role]} role"


def _gcp_iam_fallback(r: Resource) -> Iterator[str]:
    if r.type.startswith("gcp:") and "iam" in r.type.lower():
        yield from gcp_iam_role(r)


LEAST_PRIVILEGE = ResourceRule(
    name="least-privilege-iam",
    description="IAM grants no '*' actions on '*' resources and no owner/editor/admin roles.",
    checks={
        "aws:iam/policy:Policy": aws_policy_document,
        "aws:iam/rolePolicy:RolePolicy": aws_policy_document,
        "aws:iam/userPolicy:UserPolicy": aws_policy_document,
        "aws:iam/groupPolicy:GroupPolicy": aws_policy_document,
        "aws:iam/role:Role": aws_role,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": aws_policy_attachment,
        "aws:iam/policyAttachment:PolicyAttachment": aws_policy_attachment,
        "aws:iam/userPolicyAttachment:UserPolicyAttachment": aws_policy_attachment,
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": aws_policy_attachment,
        "azure-native:authorization:RoleAssignment": azure_role_assignment,
    },
    fallback=_gcp_iam_fallback,
    remediation="Use the components' grant_* helpers, which scope actions to named resources.",
)


def allow_not_action(r: Resource) -> Iterator[str]:
    """Allow statements do not use NotAction (it grants everything not listed)."""
    for i, statement in enumerate(statements(r.props.get("policy"))):
        if statement.get("Effect") == "Allow" and "NotAction" in statement:
            yield f"statement {i} uses Allow with NotAction"


IAM_NOT_ACTION = ResourceRule(
    name="iam-no-allow-not-action",
    description="IAM policies avoid Allow + NotAction, which grants every action not listed.",
    checks={t: allow_not_action for t in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy")},
    level=EnforcementLevel.ADVISORY,
)

RULES = [PUBLIC_BUCKETS, PUBLIC_REGISTRIES, TLS_ONLY, LEAST_PRIVILEGE, IAM_NOT_ACTION]
