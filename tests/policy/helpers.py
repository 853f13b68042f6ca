"""Build small plan documents (format version 1) for policy tests."""

from __future__ import annotations

import json
from typing import Any

PROJECT = "mlops-platform"
TAGS = {"environment": "dev", "service": "platform", "owner": "ml-platform", "cost-center": "cc-1234"}
PROD_TAGS = {**TAGS, "environment": "prod"}

SSE_ALLOW = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})


def urn(stack: str, type_: str, name: str, parent_type: str | None = None) -> str:
    """A resource URN as the engine builds it."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{PROJECT}::{qualified}::{name}"


def resource(type_: str, name: str, inputs: dict[str, Any] | None = None, *, stack: str = "dev",
             custom: bool = True, parent: str | None = None, dependencies: list[str] | None = None,
             protect: bool = False, provider: str | None = None) -> dict[str, Any]:
    """One plan resource entry."""
    return {
        "urn": urn(stack, type_, name), "type": type_, "name": name, "custom": custom, "parent": parent,
        "provider": provider, "inputs": inputs or {}, "dependencies": sorted(dependencies or []),
        "protect": protect, "retainOnDelete": False, "deleteBeforeReplace": False, "replaceOnChanges": [],
        "ignoreChanges": [], "aliases": [], "additionalSecretOutputs": [], "customTimeouts": None,
    }


def plan(*resources: dict[str, Any], stack: str = "dev") -> dict[str, Any]:
    """A plan document holding the stack resource and ``resources``."""
    root = resource("pulumi:pulumi:Stack", f"{PROJECT}-{stack}", stack=stack, custom=False)
    return {"version": 1, "project": PROJECT, "stack": stack, "outputs": {},
            "resources": sorted([root, *resources], key=lambda r: r["urn"])}
