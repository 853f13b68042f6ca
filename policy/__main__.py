"""Entry point the Pulumi CLI runs: ``pulumi preview --policy-pack policy``.

The CLI runs this directory as a program, so ``policy`` is not yet an importable package; register it
from this directory (no sys.path change) and serve ``POLICIES`` over gRPC. The rules read the platform's
shared serving rules (``components/serving.py``, standard library only) instead of restating them; the
pack's own venv has only ``policy/requirements.txt``, so ``components`` is registered the same way from the
checkout the pack runs in.
"""

import importlib.util
import sys
from pathlib import Path

if "policy" not in sys.modules:
    for _name, _folder in (("policy", Path(__file__).resolve().parent),
                           ("components", Path(__file__).resolve().parent.parent / "components")):
        _spec = importlib.util.spec_from_file_location(_name, _folder / "__init__.py",
                                                       submodule_search_locations=[str(_folder)])
        assert _spec is not None and _spec.loader is not None
        sys.modules[_name] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules[_name])

from pulumi_policy import PolicyPack

from policy.policies import (
    PACK_DESCRIPTION,
    PACK_ENFORCEMENT_LEVEL,
    PACK_NAME,
    POLICIES,
)

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
    description=PACK_DESCRIPTION,
)
