"""The AWS target: `aws:region`, botocore-backed preflight checks, and the SageMaker / EKS composition."""

from infra.regions import aws_regions
from infra.targets import Target, register
from infra.targets.aws.composition import compose
from infra.targets.aws.preflight import check_aws

TARGET = register(Target(cloud="aws", provider_keys=("aws:region",), region_key="aws:region", preflight=check_aws,
                         regions=aws_regions, compose=compose, default_instance_type="ml.m5.large",
                         serving_toggle=True, kubernetes=True))
