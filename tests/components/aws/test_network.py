"""Network: zones from args, NAT per environment, private endpoints, flow logs."""

from __future__ import annotations

import ipaddress
import json

import pytest

from components.aws.network import INTERFACE_ENDPOINTS, Network, NetworkArgs, subnet_cidrs
from infra.plan.engine import plan_program

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/stack"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def _args(env: str = "dev", **overrides) -> NetworkArgs:
    from components.naming import Namer

    return NetworkArgs(**{"namer": Namer("mlops", env), "kms_key_arn": KEY_ARN, **overrides})


@pytest.fixture(scope="module")
def dev():
    return plan_program(lambda: Network("net", _args()), stack="dev")


@pytest.fixture(scope="module")
def prod():
    return plan_program(lambda: Network("net", _args("prod", availability_zones=3, nat_gateways="per-zone")),
                        stack="prod")


def _subnets(plan, kind: str) -> list[dict]:
    return [r["inputs"] for r in plan.of_type("aws:ec2/subnet:Subnet") if r["name"].startswith(f"net-{kind}-")]


def test_dev_spans_two_zones(dev):
    assert sorted(s["availabilityZoneId"] for s in _subnets(dev, "private")) == ["use1-az1", "use1-az2"]


def test_prod_spans_three_zones(prod):
    assert len({s["availabilityZoneId"] for s in _subnets(prod, "private")}) == 3
    assert len(_subnets(prod, "public")) == 3


def test_dev_has_one_nat_for_all_private_route_tables(dev):
    nats = dev.of_type("aws:ec2/natGateway:NatGateway")
    routes = {r["inputs"]["routes"][0]["natGatewayId"] for r in dev.of_type("aws:ec2/routeTable:RouteTable")
              if r["name"].startswith("net-private-rt")}
    assert len(nats) == 1 and len(routes) == 1


def test_prod_has_one_nat_per_zone(prod):
    routes = {r["inputs"]["routes"][0]["natGatewayId"] for r in prod.of_type("aws:ec2/routeTable:RouteTable")
              if r["name"].startswith("net-private-rt")}
    assert len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3 and len(routes) == 3


def test_subnets_do_not_overlap_and_stay_inside_the_vpc():
    public, private = subnet_cidrs("10.20.0.0/16", 6)
    nets = [ipaddress.ip_network(c) for c in public + private]
    assert all(n.subnet_of(ipaddress.ip_network("10.20.0.0/16")) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


def test_public_subnets_do_not_hand_out_public_ips(dev):
    assert all(s["mapPublicIpOnLaunch"] is False for s in _subnets(dev, "public"))


def test_subnets_are_tagged_for_kubernetes_load_balancers(dev):
    assert all(s["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in _subnets(dev, "private"))


def test_s3_gateway_endpoint_serves_the_private_route_tables(dev):
    s3 = dev.named("net-s3")["inputs"]
    private_rts = [dev.named(f"net-private-rt-{i}") for i in range(2)]
    assert s3["vpcEndpointType"] == "Gateway" and s3["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert len(s3["routeTableIds"]) == len(private_rts)


def test_interface_endpoints_use_private_dns(dev):
    interfaces = [r["inputs"] for r in dev.of_type(ENDPOINT) if r["inputs"]["vpcEndpointType"] == "Interface"]
    assert sorted(e["serviceName"] for e in interfaces) == sorted(
        f"com.amazonaws.us-east-1.{s}" for s in INTERFACE_ENDPOINTS)
    assert all(e["privateDnsEnabled"] for e in interfaces)


def test_endpoint_security_group_allows_https_from_the_vpc_only(dev):
    sg = dev.named("net-endpoints")["inputs"]
    assert sg["ingress"] == [{"cidrBlocks": ["10.0.0.0/16"], "description": "HTTPS from the VPC", "fromPort": 443,
                              "protocol": "tcp", "toPort": 443}]


def test_default_security_group_has_no_rules(dev):
    default = dev.named("net-default-sg")["inputs"]
    assert default["ingress"] == [] and default["egress"] == []


def test_flow_logs_record_all_traffic_to_an_encrypted_log_group(dev):
    group = dev.named("net-flow-logs")["inputs"]
    flow = dev.named("net-flow-log")["inputs"]
    assert group["kmsKeyId"] == KEY_ARN and group["retentionInDays"] == 90
    assert flow["trafficType"] == "ALL" and flow["logDestination"].endswith(":log-group:/mlops/dev/vpc-flow-logs")


def test_flow_log_role_writes_only_its_log_group_and_may_list_groups(dev):
    """VPC Flow Logs' role needs logs:DescribeLogGroups besides the stream writes
    (docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html); without it delivery fails with
    DeliverLogsErrorMessage "Access error"."""
    statement = json.loads(dev.named("net-flow-logs-policy")["inputs"]["policy"])["Statement"]
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/mlops/dev/vpc-flow-logs"
    assert statement == [{"Sid": "DeliverFlowLogs", "Effect": "Allow", "Resource": [arn, f"{arn}:*"],
                          "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]},
                         {"Sid": "FindLogGroup", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"],
                          "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:*"}]


def test_flow_log_role_trusts_the_service_for_this_account_only(dev):
    trust = json.loads(dev.named("net-flow-logs-role")["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_flow_logs_can_be_turned_off():
    plan = plan_program(lambda: Network("net", _args(flow_logs=False)), stack="dev")
    assert not plan.of_type("aws:ec2/flowLog:FlowLog") and not plan.of_type("aws:iam/role:Role")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"cidr": "10.0.0.0/24"}, "expected /16 to /23"),
    ({"cidr": "8.8.0.0/16"}, "private IPv4"),
    ({"availability_zones": 7}, "expected 1-6"),
    ({"flow_log_retention_days": 10}, "flow_log_retention_days=10"),
    ({"nat_gateways": "many"}, "nat_gateways='many'"),
])
def test_invalid_args_are_rejected_with_the_field(overrides, message):
    with pytest.raises(ValueError, match=message):
        _args(**overrides)


def test_workload_security_group_only_reaches_endpoints_and_s3(dev):
    group = dev.named("net-workloads")["inputs"]
    assert group.get("ingress", []) == []
    egress = group["egress"]
    assert all(rule["fromPort"] == 443 and rule["toPort"] == 443 for rule in egress)
    assert {tuple(rule.get("cidrBlocks", [])) for rule in egress} == {("10.0.0.0/16",), ()}
    assert any(rule.get("prefixListIds") for rule in egress)


def test_subnets_are_placed_by_zone_id_never_in_a_zone_eks_refuses(dev, prod):
    """EKS refuses control-plane subnets in use1-az3 (us-east-1), usw1-az2 and cac1-az3
    (docs.aws.amazon.com/eks/latest/userguide/network-reqs.html, "Subnet requirements"). Zone *names* map to
    different zone IDs in each account, so picking zones by name can land on use1-az3; pick by ID."""
    subnets = [r["inputs"] for r in dev.of_type("aws:ec2/subnet:Subnet")]
    assert all("availabilityZone" not in s for s in subnets)
    ids = [s["availabilityZoneId"] for s in subnets]
    assert "use1-az3" not in ids and sorted(set(ids)) == ["use1-az1", "use1-az2"]
    prod_ids = {r["inputs"]["availabilityZoneId"] for r in prod.of_type("aws:ec2/subnet:Subnet")}
    assert prod_ids == {"use1-az1", "use1-az2", "use1-az4"}
