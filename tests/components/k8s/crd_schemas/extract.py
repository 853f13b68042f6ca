"""Pin one CRD version's published OpenAPI schema as JSON: `python -m tests.components.k8s.crd_schemas.extract
CRD.yaml VERSION` writes `<group>_<kind>_<version>.json` here (SOURCES.md says where each CRD was read)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent


def extract(crd_text: str, version: str) -> tuple[str, dict]:
    """(file name, openAPIV3Schema) of `version` in the CRD document(s) of `crd_text` (one CRD per file)."""
    for crd in yaml.safe_load_all(crd_text):
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd["spec"]
        for served in spec["versions"]:
            if served["name"] == version:
                name = f"{spec['group']}_{spec['names']['kind']}_{version}.json"
                return name, served["schema"]["openAPIV3Schema"]
    raise SystemExit(f"no CRD version {version!r} in the input")


if __name__ == "__main__":
    source, wanted = sys.argv[1], sys.argv[2]
    text = Path(source).read_text(encoding="utf-8")
    for document in text.split("\n---\n") if "kind: CustomResourceDefinition" in text else [text]:
        try:
            file_name, schema = extract(document, wanted)
        except SystemExit:
            continue
        (HERE / file_name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(file_name)
