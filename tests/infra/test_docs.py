"""Generated documentation stays current with the code and the stack files."""

from __future__ import annotations

from infra.config_reference import readme_with_reference, render_reference
from infra.stackfile import PROJECT_ROOT


def test_config_reference_is_current():
    current = (PROJECT_ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert current == render_reference(), "run `python3 tasks.py docs` and commit docs/config.md"


def test_readme_config_reference_is_current():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == readme_with_reference(readme, render_reference()), "run `python3 tasks.py docs`"


def test_reference_documents_every_key_of_the_model():
    from infra.config import DERIVED_KEYS, PlatformConfig

    reference = render_reference()
    for field in PlatformConfig.model_fields.values():
        if field.alias not in DERIVED_KEYS:  # filled from provider keys / the stack name, never written
            assert f"| `{field.alias}` |" in reference
