"""The one composer, ``rules.compose_official``: exact decimals for every scoring format, and the landing-cap
decision (predicted contact never caps; known contact does)."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from judgemind.errors import JudgemindError
from judgemind.rules import compose_official, contact_cap, explain_official, to_mark


@pytest.mark.parametrize(
    "value, component, mark",
    [
        (1.849, "air", "1.8"),
        (1.85, "air", "1.9"),
        (2.7, "air", "2.0"),
        (-0.3, "form", "0.0"),
        (4.95, "form", "5.0"),
        (2.449999, "landing", "2.4"),
        (3.2, "landing", "3.0"),
    ],
)
def test_to_mark_clips_and_rounds_half_up(value, component, mark):
    assert to_mark(value, component) == D(mark)


@pytest.mark.parametrize(
    "raw, dd, scoring, comps, score, J, source",
    [
        # aerials5: one consensus judge x 5 (J = 3 x total), J x DD truncated
        (0.0, "3.50", "aerials5", (1.83, 4.06, 2.94), "92.40", "26.4", "components"),
        (0.0, "4.425", "aerials5", (1.9, 4.5, 2.7), "120.80", "27.3", "components"),  # 120.8025 truncated
        # aerials7: 5 Air+Form judges (air + form, at most 7.0) and 2 landing judges (average x 3)
        (0.0, "3.50", "aerials7", (1.83, 4.06, 2.94), "92.40", "26.4", "components"),
        (0.0, "4.425", "aerials7", (2.0, 5.0, 3.0), "132.75", "30.0", "components"),
        (0.0, "3.15", "aerials7", (1.7, 4.6, 1.5), "73.71", "23.4", "components"),  # af 6.3 x 3 + 1.5 x 3
        # no (finite) components: the model's score; truncated for aerials
        (87.129, "3.0", "aerials5", None, "87.12", None, "score"),
        (87.129, "3.0", "aerials5", (1.0, math.nan, 2.0), "87.12", None, "score"),
        (-4.0, "3.0", "aerials7", None, "0.00", None, "score"),
        # diving: rounded half-up to 2 decimals, components ignored
        (87.125, "3.0", "diving", None, "87.13", None, "score"),
        (87.124, "3.0", "diving", (1.0, 2.0, 3.0), "87.12", None, "score"),
    ],
)
def test_compose_official(raw, dd, scoring, comps, score, J, source):
    off = compose_official(raw, dd, scoring, comps)
    assert off.score == D(score) and off.source == source and off.scoring == scoring
    assert off.J == (None if J is None else D(J))
    assert (off.marks is None) == (source == "score")


@pytest.mark.parametrize("comps", [(1.95, 4.96, 2.5), (2.0, 5.0, 2.0), (0.04, 0.06, 0.05), (1.23, 3.47, 2.85)])
def test_a_consensus_judge_gets_the_same_J_in_both_aerials_formats(comps):
    # air + form <= 7.0 always, so 3 x (air + form) + 3 x landing = 3 x total: the formats differ only for a real
    # panel (which judges are dropped), never for one consensus judge
    five = compose_official(0.0, "3.3", "aerials5", comps)
    seven = compose_official(0.0, "3.3", "aerials7", comps)
    assert five.J == seven.J and five.score == seven.score and five.marks == seven.marks


def test_known_contact_caps_the_landing_mark_predicted_contact_is_not_an_argument():
    comps = (1.9, 4.5, 2.7)
    plain = compose_official(0.0, "3.0", "aerials5", comps)
    capped = compose_official(0.0, "3.0", "aerials5", comps, contact=["hand_drag"])
    assert plain.marks["landing"] == D("2.7") and plain.uncapped_landing is None
    assert capped.marks["landing"] == D("2.0") and capped.uncapped_landing == D("2.7")
    assert capped.J == D("25.2") and capped.score == D("75.60")
    assert compose_official(0.0, "3.0", "aerials5", comps, contact=["crash", "hand_drag"]).marks["landing"] == D("1.5")
    # a landing mark already below the cap stays; items without a cap change nothing
    low = compose_official(0.0, "3.0", "aerials5", (1.9, 4.5, 1.2), contact=["body_contact"])
    assert low.marks["landing"] == D("1.2") and low.uncapped_landing is None
    assert compose_official(0.0, "3.0", "aerials5", comps, contact=["bent_knees"]) == plain
    assert contact_cap(["hand_drag", "no_weight_on_skis"]) == D("0.0") and contact_cap([]) is None
    with pytest.raises(JudgemindError, match="nope"):
        contact_cap(["nope"])


def test_bad_scoring_and_the_explanation():
    with pytest.raises(JudgemindError, match="unknown scoring"):
        compose_official(1.0, "3.0", "aerials6")
    assert "consensus judge" in explain_official("aerials5", "components")
    assert "7-judge" in explain_official("aerials7", "components")
    assert "half-up" in explain_official("diving", "score")
    assert all("does not cap" in explain_official(s, "score") for s in ("aerials5", "aerials7", "diving"))
