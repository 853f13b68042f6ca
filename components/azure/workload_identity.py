"""WorkloadIdentity (AKS): one user-assigned managed identity for one Kubernetes service account, federated with the
cluster's OIDC issuer, with blob access on the artifact store restricted to key prefixes by ABAC conditions.

- Federation: a FederatedIdentityCredential on the identity trusts tokens of the cluster's issuer whose subject is
  `system:serviceaccount:<namespace>:<name>` and audience `api://AzureADTokenExchange`; the service account carries
  `azure.workload.identity/client-id` and its pods the label `azure.workload.identity/use: "true"`, without which
  the workload-identity webhook injects no token (learn.microsoft.com/azure/aks/workload-identity-overview).
- Grants: Storage Blob Data Reader (reads) and Storage Blob Data Contributor (writes) on the one container the
  prefix lives in, each with an ABAC condition (`conditionVersion` 2.0) that allows the role's blob data actions
  only where the blob path starts with the prefix, and list calls only where the request's prefix does
  (learn.microsoft.com/azure/storage/blobs/storage-auth-abac-attributes: `containers/blobs:path`,
  `containers/blobs:prefix` with the `Blob.List` suboperation). Azure has no resource narrower than a container
  to assign on; the condition is what narrows it to the prefix.
- The service account's client-id annotation resolves only after `RbacPropagation` has waited for the new
  grants and the federated credential (role assignments take effect minutes after they are accepted): until the
  service account exists no pod of the workload is created, so the model server's first download does not meet a
  403.
- Assignment names are derived from (scope, principal, role) (`components.azure.roles.grant`), so a re-run after a
  half-way failure PUTs the same assignment instead of failing with `RoleAssignmentExists`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from components.azure.rbac_propagation import RbacPropagation
from components.azure.roles import Scope, assignment_name, role_definition_id

CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
USE_LABEL = "azure.workload.identity/use"
TOKEN_AUDIENCE = "api://AzureADTokenExchange"
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
READ_ACTIONS = (f"{BLOBS}/read",)
WRITE_ACTIONS = (f"{BLOBS}/read", f"{BLOBS}/write", f"{BLOBS}/add/action", f"{BLOBS}/delete")
"""The blob data actions of Storage Blob Data Reader / Contributor that the condition narrows (Contributor's
`move/action` applies to hierarchical-namespace accounts only; the store has none)."""


def split_key(key: str) -> tuple[str, str]:
    """A store key (`models/fraud-detector/...`) -> (container, blob path prefix), as `ArtifactStore.blob_url`."""
    container, _, path = key.strip("/").partition("/")
    return container, path


def blob_prefix_condition(prefix: str, actions: tuple[str, ...]) -> str:
    """ABAC condition: `actions` only on blobs whose path starts with `prefix/`; listing only under it."""
    prefix = prefix.strip("/") + "/"
    read = f"{BLOBS}/read"
    clauses = []
    for action in actions:
        matches = f"ActionMatches{{'{action}'}}"
        if action == read:  # Blob.List is a read suboperation with no blob path: match its request prefix instead
            clauses.append(f"(!({matches} AND NOT SubOperationMatches{{'Blob.List'}}) OR "
                           f"@Resource[{BLOBS}:path] StringStartsWith '{prefix}')")
            clauses.append(f"(!({matches} AND SubOperationMatches{{'Blob.List'}}) OR "
                           f"@Request[{BLOBS}:prefix] StringStartsWith '{prefix}')")
        else:
            clauses.append(f"(!({matches}) OR @Resource[{BLOBS}:path] StringStartsWith '{prefix}')")
    return " AND ".join(clauses)


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    scope: Scope
    identity_name: str
    """The managed identity's name (`AzureNames.name(...)`)."""
    namespace: str
    service_account: str
    oidc_issuer_url: pulumi.Input[str]
    storage_account_id: pulumi.Input[str]
    reads_prefixes: tuple[str, ...] = ()
    """Store keys (`<container>/<path>`) the identity may read under."""
    writes_prefix: str | None = None
    """Store key the identity may write under."""
    tags: dict[str, str] | None = None


class WorkloadIdentity(pulumi.ComponentResource):
    client_id: pulumi.Output[str]
    annotations: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:WorkloadIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ksa = f"{args.namespace}/{args.service_account}"
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-msi", resource_name_=args.identity_name, location=args.scope.location,
            resource_group_name=args.scope.resource_group_name, tags=dict(args.tags or {}),
            opts=child)
        federated = azure.managedidentity.FederatedIdentityCredential(
            f"{name}-federated", federated_identity_credential_resource_name=f"{args.namespace}-{args.service_account}",
            resource_name_=identity.name, resource_group_name=args.scope.resource_group_name,
            issuer=args.oidc_issuer_url, subject=f"system:serviceaccount:{args.namespace}:{args.service_account}",
            audiences=[TOKEN_AUDIENCE], opts=child)
        grants = [("read", "Storage Blob Data Reader", p, READ_ACTIONS) for p in args.reads_prefixes]
        if args.writes_prefix:
            grants.append(("write", "Storage Blob Data Contributor", args.writes_prefix, WRITE_ACTIONS))
        assignments = []
        for index, (verb, role, key, actions) in enumerate(grants):
            container, path = split_key(key)
            scope = pulumi.Output.concat(args.storage_account_id, "/blobServices/default/containers/", container)
            assignments.append(azure.authorization.RoleAssignment(
                f"{name}-{verb}" if verb == "write" or len(args.reads_prefixes) == 1 else f"{name}-{verb}-{index}",
                # One assignment per (container, role, prefix): two prefixes in one container get two names.
                role_assignment_name=pulumi.Output.all(scope, identity.principal_id).apply(
                    lambda v, r=role, p=path: assignment_name(f"{v[0]}|{p}", str(v[1]), r)),
                scope=scope, principal_id=identity.principal_id, principal_type="ServicePrincipal",
                role_definition_id=role_definition_id(args.scope.subscription_id, role),
                condition=blob_prefix_condition(path, actions), condition_version="2.0",
                description=f"{verb} under {key.strip('/')}/ only ({ksa})", opts=child))
        # The wait follows the federated credential too: a token exchange right after it is added can fail until
        # Entra's cache refreshes (learn.microsoft.com/azure/aks/workload-identity-deploy-cluster, "It takes a few
        # seconds for the federated identity credential to be propagated").
        propagated = RbacPropagation(f"{name}-rbac-propagation", assignments,
                                     opts=pulumi.ResourceOptions(parent=self, depends_on=[federated]))
        self.client_id = identity.client_id
        self.annotations = {CLIENT_ID_ANNOTATION: pulumi.Output.all(identity.client_id, propagated.id).apply(
            lambda values: values[0])}
        self.register_outputs({"client_id": identity.client_id, "principal_id": identity.principal_id})
