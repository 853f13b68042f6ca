"""Render the Args / Outputs / Methods tables of docs/composing.md from the components' code.

Each table sits between `<!-- generated:<Name> -->` and `<!-- /generated:<Name> -->` markers, so the prose
around it stays hand-written. Args rows come from `dataclasses.fields()` (type as annotated, default as
constructed) and the attribute docstrings under each field; Outputs rows from the component's annotated
attributes; Methods from its public methods. A field without a docstring takes its description from
`composing_descriptions.DESCRIPTIONS` (better: give it a docstring in the component).

    python -m tests.examples.render_composing_docs           # exit 1 when docs/composing.md is stale
    python -m tests.examples.render_composing_docs --write   # regenerate the tables in place
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import json
import re
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Any

from components.aws.alert_topic import AlertTopic, AlertTopicArgs
from components.aws.artifact_store import ArtifactStore, ArtifactStoreArgs
from components.aws.container_registry import ContainerRegistry, ContainerRegistryArgs
from components.aws.encryption import Encryption, EncryptionArgs
from components.aws.endpoint_autoscaling import AutoscalingArgs
from components.aws.gpu_cluster import GpuCluster, GpuClusterArgs
from components.aws.model_endpoint import DataCaptureArgs, ModelEndpoint, ModelEndpointArgs, VpcArgs
from components.aws.monitoring import AlarmThresholds, MonitoredEndpoint, MonitoredVariant, Monitoring, MonitoringArgs
from components.aws.network import Network, NetworkArgs
from components.monitoring import AlertThresholds, DriftSpec
from components.service_image import ServiceImage, ServiceImageArgs
from components.serving import RolloutSpec, SlotSpec
from infra.stackfile import PROJECT_ROOT
from tests.examples.composing_descriptions import DESCRIPTIONS

DOC = PROJECT_ROOT / "docs" / "composing.md"
COMMAND = "python -m tests.examples.render_composing_docs --write"

# Block name -> (args dataclass, component or None). Order is the order of composition.
BLOCKS: dict[str, tuple[type, type | None]] = {
    "Encryption": (EncryptionArgs, Encryption),
    "Network": (NetworkArgs, Network),
    "ArtifactStore": (ArtifactStoreArgs, ArtifactStore),
    "ContainerRegistry": (ContainerRegistryArgs, ContainerRegistry),
    "ServiceImage": (ServiceImageArgs, ServiceImage),
    "GpuCluster": (GpuClusterArgs, GpuCluster),
    "ModelEndpoint": (ModelEndpointArgs, ModelEndpoint),
    "SlotSpec": (SlotSpec, None),
    "DataCaptureArgs": (DataCaptureArgs, None),
    "RolloutSpec": (RolloutSpec, None),
    "AutoscalingArgs": (AutoscalingArgs, None),
    "AlertThresholds": (AlertThresholds, None),
    "VpcArgs": (VpcArgs, None),
    "AlertTopic": (AlertTopicArgs, AlertTopic),
    "Monitoring": (MonitoringArgs, Monitoring),
    "MonitoredEndpoint": (MonitoredEndpoint, None),
    "DriftSpec": (DriftSpec, None),
    "MonitoredVariant": (MonitoredVariant, None),
    "AlarmThresholds": (AlarmThresholds, None),
}
_MARKER = re.compile(r"<!-- generated:(?P<name>\w+) -->\n.*?<!-- /generated:(?P=name) -->", re.S)


@functools.cache
def attribute_docs(cls: type) -> dict[str, tuple[str, str | None]]:
    """Annotated class attributes in source order: name -> (annotation as written, docstring or None).

    Attributes a dataclass inherits from this project's classes (e.g. the shared `AlertThresholds`) come first,
    as `dataclasses.fields()` orders them.
    """
    found = {}
    for base in reversed(cls.__mro__[1:]):
        if base.__module__.split(".")[0] == "components" and dataclasses.is_dataclass(base):
            found.update(attribute_docs(base))
    body = ast.parse(inspect.getsource(cls)).body[0].body  # type: ignore[attr-defined]
    for stmt, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            doc = None
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(
                    after.value.value, str):
                doc = " ".join(after.value.value.split())
            found[stmt.target.id] = (ast.unparse(stmt.annotation), doc)
    return found


def description(cls: type, name: str) -> str | None:
    """The attribute's docstring, else the fallback description, else None."""
    return attribute_docs(cls)[name][1] or DESCRIPTIONS.get(f"{cls.__name__}.{name}")


def type_text(annotation: str, cls: type | None = None) -> str:
    """`pulumi.Input[str]` -> `Input[str]`; `Literal['a', 'b']` (or an alias of one) -> `"a" | "b"`."""
    alias = getattr(sys.modules[cls.__module__], annotation, None) if cls is not None else None
    if typing.get_origin(alias) is typing.Literal:
        return " | ".join(json.dumps(v) for v in typing.get_args(alias))
    text = annotation.replace("pulumi.", "")
    return re.sub(r"Literal\[([^\]]*)\]", lambda m: " | ".join(
        json.dumps(ast.literal_eval(p.strip())) for p in m.group(1).split(",")), text)


def default_text(f: dataclasses.Field[Any]) -> str:
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return f"`{type(value).__name__}()`" if dataclasses.is_dataclass(value) else f"`{value!r}`"
    if f.default is dataclasses.MISSING:
        return "required"
    return f"`{json.dumps(f.default)}`" if isinstance(f.default, str) else f"`{f.default!r}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def args_table(cls: type) -> list[str]:
    rows = ["| field | type | default | description |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        annotation = attribute_docs(cls)[f.name][0]
        rows.append(f"| `{f.name}` | `{cell(type_text(annotation, cls))}` | {cell(default_text(f))} | "
                    f"{cell(description(cls, f.name) or '')} |")
    return rows


def outputs_table(component: type) -> list[str]:
    rows = ["| output | type | description |", "|---|---|---|"]
    for name, (annotation, _) in attribute_docs(component).items():
        about = description(component, name) or ""
        rows.append(f"| `{name}` | `{cell(type_text(annotation, component))}` | {cell(about)} |")
    return rows


def public_methods(component: type) -> list[tuple[str, Callable[..., Any]]]:
    return [(n, m) for n, m in vars(component).items() if inspect.isfunction(m) and not n.startswith("_")]


def methods_table(component: type) -> list[str]:
    rows = ["| method | returns | description |", "|---|---|---|"]
    for name, method in public_methods(component):
        sig = inspect.signature(method)
        params = ", ".join(p.name if p.default is inspect.Parameter.empty else f"{p.name}={json.dumps(p.default)}"
                           for p in list(sig.parameters.values())[1:])
        doc = " ".join((inspect.getdoc(method) or "").split())
        rows.append(f"| `{name}({params})` | `{cell(type_text(str(sig.return_annotation)))}` | {cell(doc)} |")
    return rows


def render_block(name: str) -> str:
    args, component = BLOCKS[name]
    lines = [f"<!-- generated:{name} -->"]
    if component is None:
        lines += args_table(args)
    else:
        lines += [f"**Args** (`{args.__name__}`)", "", *args_table(args), "", "**Outputs**", "",
                  *outputs_table(component)]
        if public_methods(component):
            lines += ["", "**Methods**", "",
                      *methods_table(component)]
    return "\n".join([*lines, f"<!-- /generated:{name} -->"])


def undocumented() -> list[str]:
    """`Class.attribute` entries with neither a docstring nor a fallback description."""
    missing = []
    for args, component in BLOCKS.values():
        for cls in (args, component):
            if cls is not None:
                missing += [f"{cls.__name__}.{n}" for n in attribute_docs(cls) if not description(cls, n)]
    return missing


def stale_fallbacks() -> list[str]:
    """Fallback descriptions no longer needed (the attribute has a docstring now) or naming nothing."""
    classes = {cls.__name__: cls for pair in BLOCKS.values() for cls in pair if cls is not None}
    stale = []
    for key in DESCRIPTIONS:
        cls_name, attr = key.split(".", 1)
        cls = classes.get(cls_name)
        if cls is None or attr not in attribute_docs(cls) or attribute_docs(cls)[attr][1]:
            stale.append(key)
    return stale


def update(doc: str) -> str:
    """`doc` with every generated block re-rendered. KeyError for a marker naming no known block."""
    return _MARKER.sub(lambda m: render_block(m.group("name")), doc)


def missing_blocks(doc: str) -> list[str]:
    present = {m.group("name") for m in _MARKER.finditer(doc)}
    return [name for name in BLOCKS if name not in present]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.examples.render_composing_docs",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOC.relative_to(PROJECT_ROOT)} in place")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    if missing_blocks(current):
        print(f"error: {DOC.name} lacks markers for {', '.join(missing_blocks(current))}", file=sys.stderr)
        return 2
    fresh = update(current)
    if args.write:
        DOC.write_text(fresh, encoding="utf-8")
        return 0
    if fresh != current:
        print(f"{DOC.relative_to(PROJECT_ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
