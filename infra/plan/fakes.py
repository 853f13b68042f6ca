"""Realistic, deterministic values for what the clouds compute: ids, ARNs, URLs, invoke results.

This is the one place that says what a planned resource "would" get back from its cloud, so wiring
(an ARN in a policy, a repository URL in an image name) is visible in the plan. Values derive from
the resource's type and name only, so the same program always yields the same plan.
Add an entry to `_RESOURCES` / `_INVOKES` when a component starts using a new type or invoke.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"


def digest(*parts: str, length: int = 8) -> str:
    """Stable hex string from parts (stands in for random suffixes and cloud-assigned ids)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Cloud:
    """Where the fake resources live."""

    region: str = "us-east-1"
    project: str = "mlops-demo"
    location: str = "westeurope"
    resource_group: str = "mlops-rg"


@dataclass(frozen=True)
class Ctx:
    cloud: Cloud
    type: str
    name: str
    inputs: dict[str, Any]

    @property
    def physical(self) -> str:
        """The name a cloud would show: an explicit name input, else Pulumi's autoname (name + 7 hex)."""
        return str(self.inputs.get("name") or f"{self.name}-{digest(self.type, self.name, length=7)}")

    def arn(self, service: str, resource: str, regional: bool = True, account: bool = True) -> str:
        region = self.cloud.region if regional else ""
        acct = ACCOUNT_ID if account else ""
        return f"arn:aws:{service}:{region}:{acct}:{resource}"


def _aws_default(ctx: Ctx) -> dict[str, Any]:
    module = ctx.type.split(":")[1].split("/")[0]
    return {"arn": ctx.arn(module, f"{ctx.type.rsplit(':', 1)[-1].lower()}/{ctx.physical}")}


def _bucket(ctx: Ctx) -> dict[str, Any]:
    bucket = str(ctx.inputs.get("bucket") or f"{ctx.name}-{digest(ctx.type, ctx.name, length=7)}")
    return {
        "id": bucket,
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{ctx.cloud.region}.amazonaws.com",
        "region": ctx.cloud.region,
    }


def _kms_key(ctx: Ctx) -> dict[str, Any]:
    key_id = f"{digest(ctx.name, length=8)}-{digest(ctx.name, 'a', length=4)}-4{digest(ctx.name, 'b', length=3)}" \
             f"-8{digest(ctx.name, 'c', length=3)}-{digest(ctx.name, 'd', length=12)}"
    return {"id": key_id, "keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


def _ecr_repository(ctx: Ctx) -> dict[str, Any]:
    name = ctx.physical
    return {
        "id": name,
        "name": name,
        "arn": ctx.arn("ecr", f"repository/{name}"),
        "registryId": ACCOUNT_ID,
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{ctx.cloud.region}.amazonaws.com/{name}",
    }


def _iam(kind: str) -> Callable[[Ctx], dict[str, Any]]:
    def fake(ctx: Ctx) -> dict[str, Any]:
        name = ctx.physical
        path = str(ctx.inputs.get("path") or "/")
        return {"id": name, "name": name, "arn": ctx.arn("iam", f"{kind}{path}{name}", regional=False),
                "uniqueId": f"AROA{digest(ctx.name, length=16).upper()}"}
    return fake


def _prefixed_id(prefix: str) -> Callable[[Ctx], dict[str, Any]]:
    def fake(ctx: Ctx) -> dict[str, Any]:
        resource_id = f"{prefix}-0{digest(ctx.type, ctx.name, length=16)}"
        kind = {"vpc": "vpc", "subnet": "subnet", "sg": "security-group", "nat": "natgateway", "igw":
                "internet-gateway", "rtb": "route-table", "eipalloc": "elastic-ip", "vpce": "vpc-endpoint",
                "fl": "vpc-flow-log"}.get(prefix, prefix)
        return {"id": resource_id, "arn": ctx.arn("ec2", f"{kind}/{resource_id}")}
    return fake


def _named_arn(service: str, kind: str, sep: str = "/") -> Callable[[Ctx], dict[str, Any]]:
    def fake(ctx: Ctx) -> dict[str, Any]:
        name = ctx.physical
        return {"id": name, "name": name, "arn": ctx.arn(service, f"{kind}{sep}{name}" if kind else name)}
    return fake


def _sns_topic(ctx: Ctx) -> dict[str, Any]:
    arn = ctx.arn("sns", ctx.physical)
    return {"id": arn, "arn": arn, "name": ctx.physical}


def _eks_cluster(ctx: Ctx) -> dict[str, Any]:
    name = ctx.physical
    oidc = f"https://oidc.eks.{ctx.cloud.region}.amazonaws.com/id/{digest(name, length=32).upper()}"
    return {
        "id": name,
        "name": name,
        "arn": ctx.arn("eks", f"cluster/{name}"),
        "endpoint": f"https://{digest(name, 'ep', length=32).upper()}.gr7.{ctx.cloud.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},
        "identities": [{"oidcs": [{"issuer": oidc}]}],
        "version": ctx.inputs.get("version") or "1.33",
        "status": "ACTIVE",
    }


def _docker_image(ctx: Ctx) -> dict[str, Any]:
    image = str(ctx.inputs.get("imageName") or ctx.name)
    return {"id": image, "imageName": image, "repoDigest": f"{image.split(':')[0]}@sha256:{digest(image, length=64)}"}


def _gcp_default(ctx: Ctx) -> dict[str, Any]:
    name = ctx.physical
    collection = ctx.type.rsplit(":", 1)[-1][0].lower() + ctx.type.rsplit(":", 1)[-1][1:] + "s"
    path = f"projects/{ctx.cloud.project}/locations/{ctx.cloud.region}/{collection}/{name}"
    return {"id": path, "name": name, "selfLink": f"https://www.googleapis.com/{path}"}


def _azure_default(ctx: Ctx) -> dict[str, Any]:
    name = ctx.physical
    provider = ctx.type.split(":")[1].split("/")[0]
    resource_type = ctx.type.rsplit(":", 1)[-1]
    rid = (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{ctx.cloud.resource_group}/providers/"
           f"Microsoft.{provider[0].upper()}{provider[1:]}/{resource_type[0].lower()}{resource_type[1:]}s/{name}")
    return {"id": rid, "name": name}


_RESOURCES: dict[str, Callable[[Ctx], dict[str, Any]]] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _named_arn("kms", ""),
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/policy:Policy": _iam("policy"),
    "aws:iam/instanceProfile:InstanceProfile": _iam("instance-profile"),
    "aws:ec2/vpc:Vpc": _prefixed_id("vpc"),
    "aws:ec2/subnet:Subnet": _prefixed_id("subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _prefixed_id("sg"),
    "aws:ec2/natGateway:NatGateway": _prefixed_id("nat"),
    "aws:ec2/internetGateway:InternetGateway": _prefixed_id("igw"),
    "aws:ec2/routeTable:RouteTable": _prefixed_id("rtb"),
    "aws:ec2/eip:Eip": _prefixed_id("eipalloc"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _prefixed_id("vpce"),
    "aws:ec2/flowLog:FlowLog": _prefixed_id("fl"),
    "aws:cloudwatch/logGroup:LogGroup": _named_arn("logs", "log-group", sep=":"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named_arn("cloudwatch", "alarm", sep=":"),
    "aws:sns/topic:Topic": _sns_topic,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:sagemaker/model:Model": _named_arn("sagemaker", "model"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _named_arn("sagemaker", "endpoint-config"),
    "aws:sagemaker/endpoint:Endpoint": _named_arn("sagemaker", "endpoint"),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": _named_arn(
        "sagemaker", "data-quality-job-definition"),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _named_arn("sagemaker", "monitoring-schedule"),
    "aws:appautoscaling/target:Target": lambda ctx: {
        "id": str(ctx.inputs.get("resourceId") or ctx.physical),
        "arn": ctx.arn("application-autoscaling", f"scalable-target/{digest(ctx.type, ctx.name, length=28)}")},
    "aws:cloudwatch/dashboard:Dashboard": lambda ctx: {
        "id": str(ctx.inputs.get("dashboardName") or ctx.physical),
        "dashboardArn": ctx.arn("cloudwatch", f"dashboard/{ctx.inputs.get('dashboardName') or ctx.physical}",
                                regional=False)},
    "docker:index/image:Image": _docker_image,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda ctx: dict.fromkeys(("id", "arn"), ctx.arn(
        "iam", "oidc-provider/" + str(ctx.inputs.get("url", "")).removeprefix("https://"), regional=False)),
    "aws:ec2/launchTemplate:LaunchTemplate": lambda ctx: {
        "id": f"lt-0{digest(ctx.type, ctx.name, length=16)}", "latestVersion": 1, "defaultVersion": 1,
        "arn": ctx.arn("ec2", f"launch-template/lt-0{digest(ctx.type, ctx.name, length=16)}")},
    "aws:eks/nodeGroup:NodeGroup": lambda ctx: {
        "arn": ctx.arn("eks", f"nodegroup/{ctx.inputs.get('clusterName')}/{ctx.inputs.get('nodeGroupName')}/"
                              f"{digest(ctx.name, length=8)}-{digest(ctx.name, 'n', length=4)}"),
        "id": f"{ctx.inputs.get('clusterName')}:{ctx.inputs.get('nodeGroupName')}", "status": "ACTIVE"},
    "aws:eks/addon:Addon": lambda ctx: {
        "arn": ctx.arn("eks", f"addon/{ctx.inputs.get('clusterName')}/{ctx.inputs.get('addonName')}/"
                              f"{digest(ctx.name, length=8)}"),
        "id": f"{ctx.inputs.get('clusterName')}:{ctx.inputs.get('addonName')}"},
}


def resource_outputs(cloud: Cloud, type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(id, outputs) a cloud would return for a new resource: its inputs plus computed attributes."""
    ctx = Ctx(cloud, type_, name, inputs)
    if type_ in _RESOURCES:
        computed = _RESOURCES[type_](ctx)
    elif type_.startswith("aws:"):
        computed = _aws_default(ctx)
    elif type_.startswith("gcp:"):
        computed = _gcp_default(ctx)
    elif type_.startswith("azure-native:"):
        computed = _azure_default(ctx)
    else:
        computed = {}
    resource_id = str(computed.get("id") or ctx.physical)
    outputs = {**inputs, **computed}
    if not type_.startswith(("kubernetes:", "pulumi:")):
        outputs.setdefault("name", ctx.physical)
    return resource_id, outputs


def _zones(cloud: Cloud, _: dict[str, Any]) -> dict[str, Any]:
    names = [f"{cloud.region}{z}" for z in "abcdef"]
    return {"id": cloud.region, "names": names, "zoneIds": [f"use1-az{i}" for i in range(1, 7)],
            "state": "available", "groupNames": [cloud.region]}


_INVOKES: dict[str, Callable[[Cloud, dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda c, _: {
        "accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/deployer", "id": ACCOUNT_ID,
        "userId": "AROAEXAMPLEDEPLOYER:pulumi"},
    "aws:index/getRegion:getRegion": lambda c, _: {
        "id": c.region, "name": c.region, "region": c.region, "endpoint": f"ec2.{c.region}.amazonaws.com",
        "description": c.region},
    "aws:index/getPartition:getPartition": lambda c, _: {
        "id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda c, args: {
        "id": c.region, "authorizationToken": "QVdTOnBsYW4tdG9rZW4=", "userName": "AWS", "password": "plan-token",
        "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{c.region}.amazonaws.com",
        "expiresAt": "2030-01-01T00:00:00Z", "registryId": args.get("registryId", ACCOUNT_ID)},
    "gcp:organizations/getProject:getProject": lambda c, _: {
        "id": f"projects/{c.project}", "projectId": c.project, "number": "123456789012", "name": c.project},
    "gcp:organizations/getClientConfig:getClientConfig": lambda c, _: {
        "id": c.project, "project": c.project, "region": c.region, "zone": f"{c.region}-a",
        "accessToken": "plan-token"},
    "azure-native:authorization:getClientConfig": lambda c, _: {
        "clientId": "22222222-2222-2222-2222-222222222222", "objectId": "33333333-3333-3333-3333-333333333333",
        "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID},
}


class UnknownInvokeError(LookupError):
    """A program called an invoke the plan has no fake result for."""


def invoke_result(cloud: Cloud, token: str, args: dict[str, Any]) -> dict[str, Any]:
    """What the provider would answer for an invoke (data source)."""
    if token not in _INVOKES:
        raise UnknownInvokeError(f"no planned result for invoke {token!r}; add one to infra/plan/fakes.py")
    return _INVOKES[token](cloud, args)
