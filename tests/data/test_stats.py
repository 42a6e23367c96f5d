"""data.stats takes the panel's J from the rules engine (no J of its own)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from judgemind.data import record_from_dict
from judgemind.data.stats import panel_j


def test_panel_j_is_the_rules_engines_j(record_dict):
    rec, probs = record_from_dict(record_dict(), "test", 1)
    assert not probs
    assert panel_j(rec, "aerials5") == pytest.approx(26.7)  # totals 8.9 x 3 counted; 9.7 and 7.8 dropped
    diving = record_dict(
        action_code="107B",
        dd=3.0,
        final_score=66.0,
        deductions=[],
        judges=[{"score": s} for s in (7.5, 7.5, 7.0, 8.0, 6.0, 7.5, 7.0)],
    )
    rec, probs = record_from_dict(diving, "test", 1)
    assert not probs
    # diving, 7 judges: the 2 highest and 2 lowest are dropped -> 7.5 + 7.5 + 7.0 = 22.0 (not the middle 5)
    assert panel_j(rec, "diving") == pytest.approx(float(Decimal("22.0")))
