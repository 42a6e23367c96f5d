"""A round's rank ranges (judgemind.infer.round.rank_ranges / ranked): the best and worst rank consistent with the
jumps' 90 % intervals."""

from __future__ import annotations

import pytest

from judgemind.infer.round import rank_ranges, ranked

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)

# a jump: its score (2 decimals, as result.json holds it) and how far its interval reaches below and above
_jump = st.tuples(
    st.integers(0, 15000).map(lambda c: c / 100),
    st.integers(0, 3000).map(lambda c: c / 100),
    st.integers(0, 3000).map(lambda c: c / 100),
    st.booleans(),  # False: the jump has no interval (an uncalibrated run)
)


def _rows(jumps):
    return [
        {
            "name": f"j{i}",
            "status": "scored",
            "final_score": f"{s:.2f}",
            "interval": [round(s - lo, 2), round(s + hi, 2)] if has else None,
            "in_distribution": True,
        }
        for i, (s, lo, hi, has) in enumerate(jumps)
    ]


@PROPS
@given(st.lists(_jump, min_size=1, max_size=25))
def test_rank_is_inside_its_range_and_ranges_inside_1_to_n(jumps):
    out = ranked(_rows(jumps))
    n = len(out)
    for r in out:
        best, worst = r["rank_range"]
        assert 1 <= best <= r["rank"] <= worst <= n
    # a jump without an interval could be anywhere
    for r in out:
        if r["interval"] is None:
            assert r["rank_range"] == [1, n]


@PROPS
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=25, unique=True))
def test_disjoint_intervals_give_exact_ranks(starts):
    """Intervals [10 k, 10 k + 9] for distinct k never overlap: every rank is known."""
    rows = _rows([(10 * k + 4.5, 4.5, 4.5, True) for k in starts])
    for r in ranked(rows):
        assert r["rank_range"] == [r["rank"], r["rank"]]


def test_rank_ranges_by_hand():
    #        A [90, 100]    B [85, 95]    C [50, 60]    D none
    assert rank_ranges([[90, 100], [85, 95], [50, 60], None]) == [(1, 3), (1, 3), (3, 4), (1, 4)]
    assert rank_ranges([[90, 100], [85, 95], [50, 60]]) == [(1, 2), (1, 2), (3, 3)]
    assert rank_ranges([[1, 2], [1, 2]]) == [(1, 2), (1, 2)]  # touching bounds overlap
    assert rank_ranges([]) == []


def test_flagged_jumps_rank_after_the_others_within_their_own_ranges():
    rows = [
        {"name": "a", "status": "scored", "final_score": "95.00", "interval": [90.0, 100.0], "in_distribution": False},
        {"name": "b", "status": "scored", "final_score": "60.00", "interval": [55.0, 65.0], "in_distribution": True},
        {"name": "c", "status": "scored", "final_score": "58.00", "interval": [50.0, 62.0], "in_distribution": True},
        {"name": "f", "status": "failed", "reason": "x"},
    ]
    out = ranked(rows)
    assert [(r["name"], r.get("rank"), r.get("rank_range")) for r in out] == [
        ("b", 1, [1, 2]),
        ("c", 2, [1, 2]),
        ("a", 3, [3, 3]),
        ("f", None, None),
    ]
