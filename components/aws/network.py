"""Network (VPC): public and private subnets over N zones, NAT, private endpoints, flow logs.

Model traffic stays private: S3 through a gateway endpoint, ECR, SageMaker (API and runtime),
CloudWatch Logs and STS through interface endpoints with private DNS, reachable on 443 from the VPC
only. Workloads run in the private subnets; the public subnets hold only the NAT gateways (and
internet-facing load balancers, if any). The default security group is emptied (no rules).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.aws import scope
from components.aws.iam import Statement, assume_role_policy, policy_document
from components.aws.naming import check_aws_name
from components.naming import Namer

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sagemaker.api", "sagemaker.runtime", "logs", "sts")
"""Services reached through interface endpoints: `com.amazonaws.<region>.<service>`."""
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)
"""Values CloudWatch Logs accepts for a log group's retention."""
FLOW_LOG_DELIVERY = ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
EKS_UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")
"""Zone IDs where EKS refuses control-plane subnets (docs.aws.amazon.com/eks/latest/userguide/network-reqs.html,
"Subnet requirements"). Zone names map to different IDs per account, so zones are chosen by ID."""


@dataclass(frozen=True)
class NetworkArgs:
    namer: Namer
    """Builds the flow-log group and role names."""
    kms_key_arn: pulumi.Input[str]
    """The stack key (Encryption.key_arn); encrypts the flow-log group."""
    availability_zones: int = 2
    """Zones to spread subnets over (2 in dev, 3 in prod; 1-6)."""
    cidr: str = "10.0.0.0/16"
    """VPC address space (private IPv4, /16 to /23)."""
    nat_gateways: Literal["single", "per-zone"] = "single"
    """One NAT for the VPC (cheap) or one per zone (a zone outage keeps the others' egress)."""
    flow_logs: bool = True
    """Record VPC flow logs (all traffic) to a KMS-encrypted CloudWatch log group."""
    flow_log_retention_days: int = 90
    """Days flow logs are kept (a CloudWatch Logs retention value)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every taggable child."""
    region: str | None = None
    """Region of the stack. Default: the provider's (asked with an invoke)."""
    account_id: str | None = None
    """AWS account of the stack. Default: the caller's (asked with an invoke)."""

    def __post_init__(self) -> None:
        errors = [check_aws_name("log-group", self.flow_log_group_name),
                  check_aws_name("iam-role", self.namer.name("flow-logs", limit=64))]
        if self.nat_gateways not in ("single", "per-zone"):
            errors.append(f"nat_gateways={self.nat_gateways!r}: expected 'single' or 'per-zone'")
        if self.flow_log_retention_days not in LOG_RETENTION_DAYS:
            errors.append(f"flow_log_retention_days={self.flow_log_retention_days}: CloudWatch Logs accepts "
                          f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
        try:
            subnet_cidrs(self.cidr, self.availability_zones)
        except ValueError as exc:
            errors.append(str(exc))
        errors = [e for e in errors if e]
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def flow_log_group_name(self) -> str:
        return f"/{self.namer.prefix}/{self.namer.stack}/vpc-flow-logs"


def subnet_cidrs(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(public, private) CIDRs per zone. Private subnets take an eighth of the VPC each (pods need
    addresses: the VPC CNI gives every pod a VPC IP); public ones a thirty-second, from the top quarter."""
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise ValueError(f"cidr {cidr!r} is not a network address ({exc})") from None
    if net.version != 4 or not net.is_private:
        raise ValueError(f"cidr {cidr!r}: expected a private IPv4 range such as 10.0.0.0/16")
    if not 1 <= zones <= 6:
        raise ValueError(f"availability_zones={zones}: expected 1-6")
    if not 16 <= net.prefixlen <= 23:
        raise ValueError(f"cidr {cidr!r}: expected /16 to /23 (public subnets must stay /28 or larger)")
    private = list(net.subnets(prefixlen_diff=3))[:zones]
    public = list(net.subnets(prefixlen_diff=5))[24:24 + zones]
    return [str(s) for s in public], [str(s) for s in private]


def flow_log_role_statements(log_group_arn: str) -> list[Statement]:
    """The flow-log role writes streams of its own log group only, and may list the account's log groups.

    VPC Flow Logs calls DescribeLogGroups before delivering (docs.aws.amazon.com/vpc/latest/userguide/
    flow-logs-iam-role.html lists it); the action is scoped to log groups, not to one of them.
    """
    groups = log_group_arn.split(":log-group:", 1)[0] + ":log-group:*"
    return [Statement("DeliverFlowLogs", FLOW_LOG_DELIVERY, [log_group_arn, f"{log_group_arn}:*"]),
            Statement("FindLogGroup", ("logs:DescribeLogGroups",), [groups])]


class Network(pulumi.ComponentResource):
    """A VPC with public/private subnets per zone, NAT, private service endpoints and flow logs."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    endpoint_security_group_id: pulumi.Output[str]
    workload_security_group_id: pulumi.Output[str]
    """For SageMaker endpoints and jobs: no ingress, egress 443 to the VPC endpoints and S3 only."""
    flow_log_group_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:aws:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        tags = dict(args.tags)
        region = scope.region_of(args.region, self)
        # By zone ID, skipping EKS's unsupported IDs and Local/Wavelength zones (which need opting in).
        zones = aws.get_availability_zones_output(
            state="available", exclude_zone_ids=list(EKS_UNSUPPORTED_ZONE_IDS), opts=invoke,
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        ).zone_ids
        public_cidrs, private_cidrs = subnet_cidrs(args.cidr, args.availability_zones)

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr, enable_dns_support=True, enable_dns_hostnames=True,
                          tags={**tags, "Name": args.namer.name("vpc")}, opts=child)
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[],
                                     tags={**tags, "Name": args.namer.name("default-unused")}, opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": args.namer.name("igw")},
                                      opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0",
                                                                                   gateway_id=igw.id)],
            tags={**tags, "Name": args.namer.name("public")}, opts=child)

        self.public_subnet_ids, self.private_subnet_ids, self.private_route_table_ids = [], [], []
        nats: list[aws.ec2.NatGateway] = []
        for i, (public_cidr, private_cidr) in enumerate(zip(public_cidrs, private_cidrs, strict=True)):
            zone = zones.apply(lambda names, i=i: names[i])
            public = aws.ec2.Subnet(
                f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=public_cidr, availability_zone_id=zone,
                map_public_ip_on_launch=False,
                tags={**tags, "Name": args.namer.name("public", str(i)), "kubernetes.io/role/elb": "1"}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-rta-{i}", subnet_id=public.id, route_table_id=public_rt.id,
                                          opts=child)
            if args.nat_gateways == "per-zone" or i == 0:
                eip = aws.ec2.Eip(f"{name}-nat-eip-{i}", domain="vpc",
                                  tags={**tags, "Name": args.namer.name("nat", str(i))}, opts=child)
                nats.append(aws.ec2.NatGateway(
                    f"{name}-nat-{i}", allocation_id=eip.id, subnet_id=public.id,
                    tags={**tags, "Name": args.namer.name("nat", str(i))},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
            private = aws.ec2.Subnet(
                f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=private_cidr, availability_zone_id=zone,
                tags={**tags, "Name": args.namer.name("private", str(i)), "kubernetes.io/role/internal-elb": "1"},
                opts=child)
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}", vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nats[-1].id)],
                tags={**tags, "Name": args.namer.name("private", str(i))}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-rta-{i}", subnet_id=private.id,
                                          route_table_id=private_rt.id, opts=child)
            self.public_subnet_ids.append(public.id)
            self.private_subnet_ids.append(private.id)
            self.private_route_table_ids.append(private_rt.id)

        s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3", vpc_id=vpc.id, vpc_endpoint_type="Gateway",
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            route_table_ids=self.private_route_table_ids, tags={**tags, "Name": args.namer.name("s3")}, opts=child)
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints", vpc_id=vpc.id, description="HTTPS from inside the VPC to AWS service endpoints",
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443,
                                                      cidr_blocks=[args.cidr], description="HTTPS from the VPC")],
            egress=[], tags={**tags, "Name": args.namer.name("endpoints")}, opts=child)
        for service in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}", vpc_id=vpc.id, vpc_endpoint_type="Interface",
                service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
                private_dns_enabled=True, subnet_ids=self.private_subnet_ids, security_group_ids=[endpoint_sg.id],
                tags={**tags, "Name": args.namer.name(service.replace(".", "-"))}, opts=child)

        # Workloads (SageMaker endpoints, monitoring jobs) reach AWS only through the private endpoints.
        workload_sg = aws.ec2.SecurityGroup(
            f"{name}-workloads", vpc_id=vpc.id, description="Model workloads: HTTPS to VPC endpoints and S3 only",
            ingress=[],
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=[args.cidr],
                                                    description="HTTPS to interface endpoints"),
                    aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443,
                                                    prefix_list_ids=[s3_endpoint.prefix_list_id],
                                                    description="HTTPS to S3 through the gateway endpoint")],
            tags={**tags, "Name": args.namer.name("workloads")}, opts=child)

        self.flow_log_group_name = None
        if args.flow_logs:
            self.flow_log_group_name = self._flow_logs(name, args, vpc, tags)

        self.vpc_id, self.vpc_cidr = vpc.id, args.cidr
        self.endpoint_security_group_id = endpoint_sg.id
        self.workload_security_group_id = workload_sg.id
        self.register_outputs({"vpc_id": self.vpc_id, "public_subnet_ids": self.public_subnet_ids,
                               "private_subnet_ids": self.private_subnet_ids,
                               "endpoint_security_group_id": self.endpoint_security_group_id,
                               "workload_security_group_id": self.workload_security_group_id,
                               "flow_log_group_name": self.flow_log_group_name})

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc, tags: dict[str, str]) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(scope.account_of(args.account_id, self))
        group = aws.cloudwatch.LogGroup(f"{name}-flow-logs", name=args.flow_log_group_name,
                                        retention_in_days=args.flow_log_retention_days, kms_key_id=args.kms_key_arn,
                                        tags=tags, opts=child)
        role = aws.iam.Role(
            f"{name}-flow-logs-role", name=args.namer.name("flow-logs", limit=64),
            assume_role_policy=account.apply(lambda acct: assume_role_policy(
                "vpc-flow-logs.amazonaws.com", {"StringEquals": {"aws:SourceAccount": acct}})),
            tags=tags, opts=child)
        policy = aws.iam.RolePolicy(f"{name}-flow-logs-policy", role=role.id, opts=child,
                                    policy=group.arn.apply(lambda arn: policy_document(flow_log_role_statements(arn))))
        aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                        log_destination=group.arn, iam_role_arn=role.arn, tags=tags,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        return group.name
