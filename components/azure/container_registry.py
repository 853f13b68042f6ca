"""ContainerRegistry (ACR): the stack's registry, one repository per service, pushed to without an admin user.

Premium in every environment: customer-managed keys (the stack's Key Vault key, through the CMK identity)
need it, and so do retention of untagged manifests and private access. The admin user and anonymous pull
are off; pushes log in with an ACR refresh token exchanged for the deployer's Entra token
(`registry_login.py`), pulls use AcrPull. Prod: public network access disabled, a private endpoint in the
VNet with the `privatelink.azurecr.io` zone, and trusted Azure services (Azure ML) allowed through; pushes
then come from a runner inside the VNet or by `az acr import` (docs/runbooks/deploy.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from components.azure.artifact_store import CustomerKey
from components.azure.naming import AzureNames, check_azure_name
from components.azure.registry_login import TOKEN_USER, exchange_refresh_token
from components.azure.roles import Scope
from components.service_image import RegistryCredentials

acr = azure.containerregistry
net = azure.network


@dataclass(frozen=True)
class ContainerRegistryArgs:
    names: AzureNames
    """The stack's physical names (the registry name is global: 5-50 letters and digits)."""
    scope: Scope
    """Subscription, tenant, resource group and location."""
    key_id: pulumi.Input[str]
    """Versionless Key Vault key id (customer-managed key)."""
    key: CustomerKey
    """The CMK identity and its access."""
    services: Sequence[str] = ()
    """Services with a repository in this registry (repositories are created by the first push)."""
    untagged_retention_days: int = 7
    """Untagged manifests are deleted after this many days."""
    private: bool = False
    """No public network access; a private endpoint in `endpoint_subnet_id` (prod)."""
    endpoint_subnet_id: pulumi.Input[str] | None = None
    """Subnet of the private endpoint (required when private)."""
    vnet_id: pulumi.Input[str] | None = None
    """VNet linked to the private DNS zone (required when private)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""
    protect: bool = False
    """Protect and retain the registry (prod)."""

    def __post_init__(self) -> None:
        errors = [check_azure_name("container-registry", self.names.container_registry())]
        if self.private and (self.endpoint_subnet_id is None or self.vnet_id is None):
            errors.append("private=True needs endpoint_subnet_id and vnet_id for the private endpoint")
        errors = [e for e in errors if e]
        if errors:
            raise ValueError("; ".join(errors))


class ContainerRegistry(pulumi.ComponentResource):
    """ACR with CMK, retention, and (prod) a private endpoint."""

    registry_id: pulumi.Output[str]
    login_server: pulumi.Output[str]
    repository_urls: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:azure:ContainerRegistry", name, None, opts)
        s, tags = args.scope, dict(args.tags)
        self._tenant_id = s.tenant_id
        registry = acr.Registry(
            f"{name}-acr", registry_name=args.names.container_registry(), resource_group_name=s.resource_group_name,
            location=s.location, sku=acr.SkuArgs(name="Premium"), admin_user_enabled=False,
            anonymous_pull_enabled=False, public_network_access="Disabled" if args.private else "Enabled",
            network_rule_bypass_options="AzureServices", zone_redundancy="Enabled" if args.protect else "Disabled",
            identity=acr.IdentityPropertiesArgs(
                type="UserAssigned", user_assigned_identities=pulumi.Output.from_input(args.key.identity_id).apply(
                    lambda identity: {identity: acr.UserIdentityPropertiesArgs()})),
            encryption=acr.EncryptionPropertyArgs(status="enabled", key_vault_properties=acr.KeyVaultPropertiesArgs(
                key_identifier=args.key_id, identity=args.key.identity_client_id)),
            policies=acr.PoliciesArgs(
                retention_policy=acr.RetentionPolicyArgs(status="enabled", days=args.untagged_retention_days),
                export_policy=acr.ExportPolicyArgs(status="disabled" if args.private else "enabled"),
                azure_ad_authentication_as_arm_policy=acr.AzureADAuthenticationAsArmPolicyArgs(status="enabled")),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect,
                                        depends_on=[args.key.access] if args.key.access else None))
        if args.private:
            self._private_endpoint(name, args, registry.id)
        self.registry_id, self.login_server = registry.id, registry.login_server
        self.repository_urls = {svc: pulumi.Output.concat(registry.login_server, "/", svc) for svc in args.services}
        self.register_outputs({"registry_id": registry.id, "login_server": registry.login_server,
                               "repository_urls": self.repository_urls})

    def _private_endpoint(self, name: str, args: ContainerRegistryArgs, registry_id: pulumi.Output[str]) -> None:
        s, child, tags = args.scope, pulumi.ResourceOptions(parent=self), dict(args.tags)
        zone = azure.privatedns.PrivateZone(f"{name}-dns", private_zone_name="privatelink.azurecr.io",
                                            resource_group_name=s.resource_group_name, location="global", tags=tags,
                                            opts=child)
        azure.privatedns.VirtualNetworkLink(
            f"{name}-dns-link", private_zone_name=zone.name, resource_group_name=s.resource_group_name,
            location="global", registration_enabled=False, tags=tags, virtual_network=azure.privatedns.SubResourceArgs(
                id=args.vnet_id), opts=child)
        endpoint = net.PrivateEndpoint(
            f"{name}-pe", private_endpoint_name=args.names.name("acr-pe"), resource_group_name=s.resource_group_name,
            location=s.location, subnet=net.SubnetArgs(id=args.endpoint_subnet_id),
            private_link_service_connections=[net.PrivateLinkServiceConnectionArgs(
                name="registry", private_link_service_id=registry_id, group_ids=["registry"])], tags=tags,
            opts=child)
        net.PrivateDnsZoneGroup(
            f"{name}-pe-dns", private_endpoint_name=endpoint.name, resource_group_name=s.resource_group_name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[net.PrivateDnsZoneConfigArgs(name="acr", private_dns_zone_id=zone.id)],
            opts=child)

    def push_credentials(self) -> RegistryCredentials:
        """Docker login for `ServiceImageArgs.credentials`: an ACR refresh token for the deployer (secret)."""
        token = azure.authorization.get_client_token_output(opts=pulumi.InvokeOutputOptions(parent=self)).token
        password = pulumi.Output.all(self.login_server, self._tenant_id, token).apply(
            lambda v: exchange_refresh_token(v[0], v[1], v[2]) if not pulumi.runtime.is_dry_run() else "preview")
        return RegistryCredentials(username=TOKEN_USER, password=pulumi.Output.secret(password),
                                   server=self.login_server)
