"""Grade bands and landing caps (docs/rules.md, "Landing bands and caps")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from judgemind.errors import JudgemindError
from judgemind.rules import (
    COMPONENT_RANGES,
    GRADE_BANDS,
    LANDING_BANDS,
    apply_landing_caps,
    band_index,
    band_of,
    landing_band,
    landing_cap,
)

D = Decimal


def _grid(component):
    lo, hi = COMPONENT_RANGES[component]
    n = int((hi - lo) * 10)
    return [lo + D(k) / 10 for k in range(n + 1)]


def test_official_landing_bands():
    got = [(str(b.lo), str(b.hi), b.name) for b in LANDING_BANDS]
    assert got == [
        ("3.0", "3.0", "excellent"),
        ("2.6", "2.9", "good"),
        ("2.1", "2.5", "slight imbalance"),
        ("1.6", "2.0", "hand drag / hard compression"),
        ("1.1", "1.5", "light back slap / severe imbalance"),
        ("0.6", "1.0", "body contact / hard back slap"),
        ("0.1", "0.5", "minimal weight / crash"),
        ("0.0", "0.0", "no weight on skis"),
    ]
    assert all(b.official and b.component == "landing" and b.description for b in LANDING_BANDS)


@pytest.mark.parametrize("component", ["air", "form", "landing"])
def test_every_grid_value_is_in_exactly_one_band(component):
    bands = GRADE_BANDS[component]
    for v in _grid(component):
        holders = [i for i, b in enumerate(bands) if b.contains(v)]
        assert len(holders) == 1, (component, v, holders)
        assert band_index(component, v) == holders[0]
        assert band_of(component, v) is bands[holders[0]]


@pytest.mark.parametrize("component", ["air", "form", "landing"])
def test_bands_are_contiguous_best_first(component):
    bands = GRADE_BANDS[component]
    lo, hi = COMPONENT_RANGES[component]
    assert bands[0].hi == hi and bands[-1].lo == lo
    for upper, lower in zip(bands, bands[1:]):
        assert lower.hi + D("0.1") == upper.lo
    assert len({b.name for b in bands}) == len(bands)
    assert all(b.name and b.description for b in bands)


def test_project_bands_are_not_official():
    assert len(GRADE_BANDS["air"]) == 5 and len(GRADE_BANDS["form"]) == 6
    assert not any(b.official for c in ("air", "form") for b in GRADE_BANDS[c])


@pytest.mark.parametrize(
    "value,name",
    [
        (3.0, "excellent"),
        ("2.9", "good"),
        (2.5, "slight imbalance"),
        (1.8, "hand drag / hard compression"),
        (1.5, "light back slap / severe imbalance"),
        (0.6, "body contact / hard back slap"),
        (0.1, "minimal weight / crash"),
        (0, "no weight on skis"),
        (2.95, "good"),  # off-grid values fall into the band below them
        (0.05, "no weight on skis"),
    ],
)
def test_landing_band(value, name):
    assert landing_band(value).name == name


@pytest.mark.parametrize("component,value", [("landing", 3.1), ("air", -0.1), ("form", 5.01)])
def test_band_out_of_range(component, value):
    with pytest.raises(JudgemindError, match="outside"):
        band_of(component, value)


def test_band_unknown_component():
    with pytest.raises(JudgemindError, match="unknown component"):
        band_index("style", 1)


@pytest.mark.parametrize(
    "flags,cap",
    [
        ({}, None),
        ({"hand_contact": True}, "2.0"),
        ({"body_contact": True}, "1.5"),
        ({"no_weight": True}, "0.0"),
        ({"hand_contact": True, "body_contact": True}, "1.5"),
        ({"hand_contact": True, "no_weight": True}, "0.0"),
        ({"hand_contact": True, "body_contact": True, "no_weight": True}, "0.0"),
    ],
)
def test_landing_cap(flags, cap):
    assert landing_cap(**flags) == (None if cap is None else D(cap))


@pytest.mark.parametrize(
    "value,flags,expected",
    [
        (2.7, {}, "2.7"),
        (2.7, {"hand_contact": True}, "2.0"),
        (1.8, {"hand_contact": True}, "1.8"),
        (2.7, {"body_contact": True}, "1.5"),
        (1.2, {"body_contact": True}, "1.2"),
        (2.7, {"hand_contact": True, "body_contact": True}, "1.5"),
        (2.7, {"no_weight": True}, "0.0"),
    ],
)
def test_apply_landing_caps(value, flags, expected):
    assert apply_landing_caps(value, **flags) == D(expected)
    # the capped mark falls in the band the handbook gives for that case
    capped = apply_landing_caps(value, **flags)
    if flags.get("hand_contact") and not (flags.get("body_contact") or flags.get("no_weight")):
        assert landing_band(capped).lo <= D("2.0")
