"""Region, partition and account of a stack: from the caller when it knows them, else from the provider.

The stack composition knows the region (config) and asks for the account once; components take both as
optional args so a stack does not ask the provider the same questions once per component.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-iso-", "aws-iso"), ("us-isob-", "aws-iso-b"),
               ("eusc-", "aws-eusc"))


def partition_of(region: str) -> str:
    """The AWS partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, ...)."""
    return next((partition for prefix, partition in _PARTITIONS if region.startswith(prefix)), "aws")


def region_of(region: str | None, parent: pulumi.Resource) -> pulumi.Input[str]:
    """`region`, or the provider's region (an invoke) when it is not given."""
    return region or aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=parent)).region


def partition_for(region: str | None, parent: pulumi.Resource) -> pulumi.Input[str]:
    """The partition of `region`, or the provider's partition (an invoke) when the region is not given."""
    return partition_of(region) if region else aws.get_partition_output(
        opts=pulumi.InvokeOutputOptions(parent=parent)).partition


def account_of(account_id: str | None, parent: pulumi.Resource) -> pulumi.Input[str]:
    """`account_id`, or the caller's account (an invoke) when it is not given."""
    return account_id or aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent)).account_id
