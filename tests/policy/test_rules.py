"""Every rule of the pack: a plan it passes and a plan where it reports the offending resource."""

from __future__ import annotations

import pytest

from policy.check import run_pack
from policy.policies import POLICIES, RULES
from tests.policy.cases import CASES, Case


def _ids(case: Case) -> str:
    return f"{case.policy}:{next(r['type'] for r in case.bad['resources'] if r['name'] == case.culprit)}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_rule_passes_good_and_reports_bad(case: Case) -> None:
    good = [v for v in run_pack(case.good) if v.policy == case.policy]
    assert good == []
    bad = [v for v in run_pack(case.bad) if v.policy == case.policy]
    assert bad, f"{case.policy} did not report the violating plan"
    assert all(v.urn.endswith(f"::{case.culprit}") for v in bad)


def test_every_rule_has_a_case() -> None:
    assert {r.name for r in RULES} <= {c.policy for c in CASES}


def test_policy_names_are_unique_and_match_rules() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    assert names == [r.name for r in RULES]
