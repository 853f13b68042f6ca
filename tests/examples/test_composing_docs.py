"""docs/composing.md documents every component's args and outputs, as the code defines them."""

from __future__ import annotations

import re

from infra.stackfile import PROJECT_ROOT
from tests.examples import render_composing_docs as docs

DOC = (PROJECT_ROOT / "docs" / "composing.md").read_text(encoding="utf-8")


def test_tables_are_generated_from_the_current_code():
    assert docs.missing_blocks(DOC) == [], "add the markers for these blocks to docs/composing.md"
    assert docs.update(DOC) == DOC, f"docs/composing.md is stale: run `{docs.COMMAND}`"


def test_every_component_has_args_and_outputs_tables():
    for name in ("Encryption", "Network", "ArtifactStore", "ContainerRegistry", "ServiceImage", "GpuCluster",
                 "ModelEndpoint", "Monitoring"):
        block = docs.render_block(name)
        assert f"**Args** (`{name}Args`)" in block and "**Outputs**" in block, name


def test_every_field_and_output_has_a_description():
    assert docs.undocumented() == [], "give these a docstring in the component (or a line in composing_descriptions)"


def test_no_fallback_description_is_stale():
    assert docs.stale_fallbacks() == [], "these now have docstrings (or are gone): delete them from DESCRIPTIONS"


def test_grant_methods_are_documented():
    assert "`grant_read(prefix)`" in DOC and "`grant_write(prefix)`" in DOC
    assert "`grant_pull(service)`" in DOC and '`grant_decrypt(sid="DecryptWithStackKey")`' in DOC


def test_relative_links_resolve():
    for target in re.findall(r"\]\((?!https?://|#)([^)#]+)", DOC):
        assert (PROJECT_ROOT / "docs" / target.replace("\\_", "_")).exists(), target
