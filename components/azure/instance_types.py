"""Checked lists of Azure sizes: Azure ML managed online endpoint instance types and GPU VM sizes.

`ONLINE_INSTANCE_TYPES` is the "Managed online endpoints SKU list" of the Azure ML docs (general purpose,
compute optimized, memory optimized and GPU sizes a managed online deployment accepts; one deployment
instance needs the size's quota in the region). `GPU_VM_SIZES` are the N-series sizes an AKS GPU pool or an
AmlCompute cluster may use: every size the GPU catalog maps to, plus the other current N-series sizes.
A size outside these lists is a config error naming the closest match.
"""

from __future__ import annotations

from components.gpu_catalog import ACCELERATORS, GpuCatalogError, resolve_gpu

DEFAULT_SERVING_TYPE = "Standard_DS3_v2"
"""A slot's instance type when the stack names none (4 vCPU, 14 GiB)."""

_GENERAL = ("Standard_DS1_v2", "Standard_DS2_v2", "Standard_DS3_v2", "Standard_DS4_v2", "Standard_DS5_v2",
            "Standard_D2as_v4", "Standard_D4as_v4", "Standard_D8as_v4", "Standard_D16as_v4", "Standard_D32as_v4",
            "Standard_D48as_v4", "Standard_D64as_v4", "Standard_D96as_v4")
_COMPUTE = ("Standard_F2s_v2", "Standard_F4s_v2", "Standard_F8s_v2", "Standard_F16s_v2", "Standard_F32s_v2",
            "Standard_F48s_v2", "Standard_F64s_v2", "Standard_F72s_v2", "Standard_FX24mds", "Standard_FX36mds",
            "Standard_FX48mds")
_MEMORY = ("Standard_E2s_v3", "Standard_E4s_v3", "Standard_E8s_v3", "Standard_E16s_v3", "Standard_E32s_v3",
           "Standard_E48s_v3", "Standard_E64s_v3")
_GPU_SERVING = ("Standard_NC4as_T4_v3", "Standard_NC8as_T4_v3", "Standard_NC16as_T4_v3", "Standard_NC64as_T4_v3",
                "Standard_NC6s_v3", "Standard_NC12s_v3", "Standard_NC24s_v3", "Standard_NC24ads_A100_v4",
                "Standard_NC48ads_A100_v4", "Standard_NC96ads_A100_v4", "Standard_ND96asr_v4",
                "Standard_ND96amsr_A100_v4", "Standard_ND40rs_v2", "Standard_NC40ads_H100_v5",
                "Standard_NC80adis_H100_v5", "Standard_ND96isr_H100_v5")
ONLINE_INSTANCE_TYPES: tuple[str, ...] = _GENERAL + _COMPUTE + _MEMORY + _GPU_SERVING



def _catalog_sizes() -> set[str]:
    sizes = set()
    for accelerator in ACCELERATORS:
        for count in range(1, 9):
            try:
                sizes.add(resolve_gpu(accelerator, count, "azure").instance_type)
            except GpuCatalogError:
                continue
    return sizes


GPU_VM_SIZES: tuple[str, ...] = tuple(sorted({*_catalog_sizes(), *_GPU_SERVING, "Standard_NV6ads_A10_v5",
                                              "Standard_NV12ads_A10_v5", "Standard_NV18ads_A10_v5"}))
