"""Entry point the Pulumi CLI runs: ``pulumi preview --policy-pack policy``.

The CLI runs this directory as a program, so ``policy`` is not yet an importable package; register it
from this directory (no sys.path change) and serve ``POLICIES`` over gRPC.
"""

import importlib.util
import sys
from pathlib import Path

if "policy" not in sys.modules:
    _here = Path(__file__).resolve().parent
    _spec = importlib.util.spec_from_file_location("policy", _here / "__init__.py",
                                                   submodule_search_locations=[str(_here)])
    assert _spec is not None and _spec.loader is not None
    sys.modules["policy"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["policy"])

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
