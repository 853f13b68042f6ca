"""The provider SDK class behind a type token, and the argument names it accepts."""

from __future__ import annotations

import importlib
import inspect
import re


def snake(name: str) -> str:
    """An engine (camelCase) property name as the SDK's keyword argument (`kmsKeyArn` -> `kms_key_arn`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


KUBERNETES_MANIFEST_KEYS = ("api_version", "kind")
"""pulumi_kubernetes classes set these themselves; in the engine's inputs they are the manifest's own."""


def _kubernetes_class(group_version: str, kind: str) -> type | None:
    """`apps/v1` + `Deployment` -> `pulumi_kubernetes.apps.v1.Deployment`; a CRD's kind -> `CustomResource`."""
    group, _, version = group_version.rpartition("/")
    module = "helm" if group == "helm.sh" else group.split(".")[0] if group.endswith(".k8s.io") or "." not in group \
        else None
    try:
        found = getattr(importlib.import_module(f"pulumi_kubernetes.{module}.{version}"), kind, None) if module \
            else None
    except ImportError:
        found = None
    return found or importlib.import_module("pulumi_kubernetes.apiextensions").CustomResource


def sdk_class(type_: str) -> type | None:
    """`aws:s3/bucket:Bucket` -> `pulumi_aws.s3.Bucket`; None when no installed SDK has it."""
    package, module, name = type_.split(":")
    if (package, module) == ("pulumi", "providers"):  # an explicit provider: `pulumi_<name>.Provider`
        return getattr(importlib.import_module(f"pulumi_{name.replace('-', '_')}"), "Provider", None)
    if package == "kubernetes":
        return _kubernetes_class(module, name)
    module = module.split("/")[0]
    path = f"pulumi_{package.replace('-', '_')}" + ("" if module == "index" else f".{module.replace('-', '_')}")
    try:
        return getattr(importlib.import_module(path), name, None)
    except ImportError:
        return None


def accepted_arguments(cls: type) -> set[str]:
    """Keyword arguments a provider resource class takes."""
    return set(inspect.signature(cls._internal_init).parameters)  # type: ignore[attr-defined]


def _key(name: str) -> str:
    # Acronyms break the camel -> snake mapping (`publicIPAllocationMethod`), so names compare without underscores.
    return snake(name).replace("_", "")


def keyword_arguments(cls: type, inputs: dict) -> dict:
    """`inputs` (engine names) as keyword arguments of the SDK class `cls`; raises KeyError on an unknown name."""
    # `resource_name` / `opts` are the constructor's own; an input of that name is `resource_name_` (AKS pools).
    accepted = {_key(name): name for name in accepted_arguments(cls) - {"self", "resource_name", "opts"}}
    return {accepted[_key(key)]: value for key, value in inputs.items()}


def unknown_inputs(type_: str, inputs: dict) -> list[str]:
    """Top-level input names that the type's SDK class does not accept (all of them if there is no class)."""
    if type_.startswith("pulumi-python:dynamic"):
        return []  # a dynamic resource's inputs are its own provider's; its `check` validates them
    cls = sdk_class(type_)
    names = sorted(snake(key) for key in inputs)
    if cls is None:
        return names
    accepted = {_key(name) for name in accepted_arguments(cls)}
    if type_.startswith("kubernetes:"):
        accepted |= {_key(name) for name in KUBERNETES_MANIFEST_KEYS}
    return [n for n in names if _key(n) not in accepted]


def accepts_path(type_: str, path: str) -> bool:
    """Whether the type's SDK takes the nested input `path` (`vpcConfig.subnetIds`), through its `*Args` classes."""
    cls = sdk_class(type_)
    if cls is None:
        return False
    module = importlib.import_module(cls.__module__)
    if type_.startswith("kubernetes:"):  # nested manifest paths are checked against the cluster's OpenAPI schema
        path = path.split(".")[0]        # (tests/components/k8s/test_manifest_schemas.py), not the SDK's classes
    params = inspect.signature(cls._internal_init).parameters  # type: ignore[attr-defined]
    for step in path.split("."):
        param = next((p for name, p in params.items() if _key(name) == _key(step)), None)
        if param is None:
            return False
        nested = re.search(r"ForwardRef\('(\w+Args)'\)", str(param.annotation))
        params = inspect.signature(getattr(module, nested.group(1)).__init__).parameters if nested else {}
    return True
