"""What AWS computes for the resources and invokes the AWS components use (ARNs, ids, URLs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.plan.fakes import ACCOUNT_ID, Cloud, Ctx, digest, provider


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


def _node_group_name(ctx: Ctx) -> str:
    """The given name, or the prefix plus Terraform's 26-character unique suffix (id.PrefixedUniqueId)."""
    if ctx.inputs.get("nodeGroupName"):
        return str(ctx.inputs["nodeGroupName"])
    return f"{ctx.inputs.get('nodeGroupNamePrefix', '')}{digest(ctx.type, ctx.name, length=26)}"


def _zones(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    excluded = set(args.get("excludeZoneIds") or ())
    zones = [(f"{cloud.region}{z}", f"use1-az{i}") for i, z in enumerate("abcdef", 1)]
    kept = [(name, zone_id) for name, zone_id in zones if zone_id not in excluded]
    return {"id": cloud.region, "names": [n for n, _ in kept], "zoneIds": [z for _, z in kept],
            "state": "available", "groupNames": [cloud.region]}


provider(
    "aws:",
    resources={
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
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda ctx: dict.fromkeys(("id", "arn"), ctx.arn(
            "iam", "oidc-provider/" + str(ctx.inputs.get("url", "")).removeprefix("https://"), regional=False)),
        "aws:ec2/launchTemplate:LaunchTemplate": lambda ctx: {
            "id": f"lt-0{digest(ctx.type, ctx.name, length=16)}", "latestVersion": 1, "defaultVersion": 1,
            "arn": ctx.arn("ec2", f"launch-template/lt-0{digest(ctx.type, ctx.name, length=16)}")},
        "aws:eks/nodeGroup:NodeGroup": lambda ctx: {
            "arn": ctx.arn("eks", f"nodegroup/{ctx.inputs.get('clusterName')}/{_node_group_name(ctx)}/"
                                  f"{digest(ctx.name, length=8)}-{digest(ctx.name, 'n', length=4)}"),
            "id": f"{ctx.inputs.get('clusterName')}:{_node_group_name(ctx)}", "nodeGroupName": _node_group_name(ctx),
            "status": "ACTIVE"},
        "aws:eks/addon:Addon": lambda ctx: {
            "arn": ctx.arn("eks", f"addon/{ctx.inputs.get('clusterName')}/{ctx.inputs.get('addonName')}/"
                                  f"{digest(ctx.name, length=8)}"),
            "id": f"{ctx.inputs.get('clusterName')}:{ctx.inputs.get('addonName')}"},
    },
    invokes={
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
    },
    default=_aws_default,
)
