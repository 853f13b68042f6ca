"""The Azure target: `azure-native:location`, preflight against Azure's name rules and size lists, and the
AKS / storage / ACR / Azure ML composition."""

from components.azure.instance_types import DEFAULT_SERVING_TYPE
from infra.regions import azure_locations
from infra.targets import Target, register
from infra.targets.azure.composition import compose
from infra.targets.azure.preflight import check_azure

TARGET = register(Target(cloud="azure", provider_keys=("azure-native:location",), region_key="azure-native:location",
                         preflight=check_azure, regions=azure_locations, compose=compose,
                         default_instance_type=DEFAULT_SERVING_TYPE, mirrors=True,
                         kubernetes=True))
