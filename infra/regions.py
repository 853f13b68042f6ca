"""Regions each cloud has, from the cloud's own SDK data where it ships one.

AWS: botocore's endpoints data (`endpoints.json`, the partitions boto3 resolves endpoints from, kept in the
compact components/aws/catalog.json), limited to regions with a SageMaker endpoint, since every AWS stack
serves through SageMaker. Azure: the Python SDKs ship no location list (locations are a runtime ARM call,
`az account list-locations`), so `AZURE_LOCATIONS` is a checked copy of that list's physical regions
(public, US Government and China clouds).
"""

from __future__ import annotations

from components.aws import catalog

AZURE_LOCATIONS = frozenset({
    "australiacentral", "australiacentral2", "australiaeast", "australiasoutheast", "austriaeast",
    "belgiumcentral", "brazilsouth", "brazilsoutheast", "canadacentral", "canadaeast", "centralindia", "centralus",
    "chilecentral", "eastasia", "eastus", "eastus2", "francecentral", "francesouth", "germanynorth",
    "germanywestcentral", "indonesiacentral", "israelcentral", "italynorth", "japaneast", "japanwest",
    "jioindiacentral", "jioindiawest", "koreacentral", "koreasouth", "malaysiawest", "mexicocentral",
    "newzealandnorth", "northcentralus", "northeurope", "norwayeast", "norwaywest", "polandcentral", "qatarcentral",
    "southafricanorth", "southafricawest", "southcentralus", "southeastasia", "southindia", "spaincentral",
    "swedencentral", "swedensouth", "switzerlandnorth", "switzerlandwest", "uaecentral", "uaenorth", "uksouth",
    "ukwest", "westcentralus", "westeurope", "westindia", "westus", "westus2", "westus3",
    "usgovarizona", "usgovtexas", "usgovvirginia", "chinaeast", "chinaeast2", "chinaeast3", "chinanorth",
    "chinanorth2", "chinanorth3",
})
"""Physical Azure locations (`az account list-locations --query "[?metadata.regionType=='Physical'].name"`)."""


def aws_regions() -> frozenset[str]:
    """Regions of every AWS partition where botocore knows a SageMaker endpoint (from components/aws/catalog.json)."""
    return catalog.regions("sagemaker")


def azure_locations() -> frozenset[str]:
    return AZURE_LOCATIONS
