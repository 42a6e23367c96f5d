"""The deduction catalogue data file and its loader."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from judgemind.errors import JudgemindError, ValidationError
from judgemind.rules import (
    CATALOGUE_V1_IDS,
    COMPONENT_RANGES,
    LANDING_BANDS,
    Catalogue,
    DeductionItem,
    landing_cap,
    load_catalogue,
)

D = Decimal

ARCHITECTURE_IDS = {
    "takeoff": ["early_rotation", "weak_takeoff"],
    "flight": [
        "short_flight",
        "long_flight",
        "bent_knees",
        "legs_apart",
        "crossed_skis",
        "arms_flailing",
        "pike_in_layout",
        "arch_in_layout",
        "early_twist",
        "late_twist_finish",
        "uneven_twists",
        "loss_of_axis",
    ],
    "landing": [
        "landing_imbalance",
        "hard_compression",
        "turn_on_landing",
        "over_under_rotation",
        "hand_drag",
        "back_slap",
        "body_contact",
        "crash",
        "no_weight_on_skis",
    ],
}


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def test_packaged_catalogue_has_exactly_the_architecture_ids(cat):
    assert cat.version == "1"
    assert cat.ids == CATALOGUE_V1_IDS
    for stage, ids in ARCHITECTURE_IDS.items():
        assert [i.id for i in cat.by_stage(stage)] == ids
    assert load_catalogue() is cat  # cached


def test_every_item_is_complete(cat):
    for item in cat:
        assert isinstance(item, DeductionItem)
        assert item.name and item.description.endswith(".")
        assert item.source
        top = COMPONENT_RANGES[item.component][1]
        assert D(0) <= item.points_min <= item.points_max <= top
        if item.stage == "landing":
            assert item.component == "landing"
        elif item.stage == "takeoff":
            assert item.component == "air"


def test_components(cat):
    assert [i.id for i in cat.by_component("air")] == ["early_rotation", "weak_takeoff", "short_flight", "long_flight"]
    assert len(cat.by_component("form")) == 10


def test_ranges_follow_the_rules_doc(cat):
    late = cat.get("late_twist_finish")
    assert (late.points_min, late.points_max) == (D("0.0"), D("1.0")) and not late.estimate
    hand = cat.get("hand_drag")
    assert (hand.points_min, hand.points_max, hand.landing_cap) == (D("1.0"), D("1.4"), D("2.0"))
    assert cat.get("body_contact").landing_cap == D("1.5") == cat.get("back_slap").landing_cap
    assert cat.get("no_weight_on_skis").landing_cap == D("0.0")
    assert cat.get("no_weight_on_skis").points_max == D("3.0")
    for form_break in ("bent_knees", "legs_apart", "crossed_skis", "arms_flailing", "pike_in_layout"):
        assert cat.get(form_break).points_max == D("5.0")  # major break: up to 100 % of the form points
    assert cat.get("early_rotation").estimate and cat.get("short_flight").estimate


def test_landing_items_agree_with_bands_and_caps(cat):
    """3.0 - points lands in the official bands, and never above the item's cap."""
    for item in cat.by_stage("landing"):
        for pts in (item.points_min, item.points_max):
            mark = D("3.0") - pts
            assert any(b.contains(mark) for b in LANDING_BANDS)
            if item.landing_cap is not None:
                assert mark <= item.landing_cap, item.id
    assert D("3.0") - cat.get("hand_drag").points_max == D("1.6")
    assert cat.get("hand_drag").landing_cap == landing_cap(hand_contact=True)
    assert cat.get("body_contact").landing_cap == landing_cap(body_contact=True)
    assert cat.get("no_weight_on_skis").landing_cap == landing_cap(no_weight=True)


def test_get_index_unknown(cat):
    assert cat.index("early_rotation") == 0
    assert cat.index("no_weight_on_skis") == len(cat) - 1
    assert "hand_drag" in cat
    with pytest.raises(JudgemindError, match="unknown deduction item 'hand_drg'.*close ids: hand_drag"):
        cat.get("hand_drg")
    with pytest.raises(JudgemindError, match="unknown stage"):
        cat.by_stage("entry")


def test_check_points(cat):
    assert cat.get("hand_drag").check_points("1.2") is None
    assert "outside 1.0-1.4" in cat.get("hand_drag").check_points(0.5)


def test_round_trip(cat):
    d = cat.to_dict()
    json.dumps(d)
    again = Catalogue.from_dict(d)
    assert again == cat


def _base(cat):
    return copy.deepcopy(cat.to_dict())


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda d: d.pop("version"), "'version'"),
        (lambda d: d.update(items=[]), "'items'"),
        (lambda d: d["items"][0].update(stage="air"), r"item 0 \('early_rotation'\): field 'stage'"),
        (lambda d: d["items"][1].update(component="style"), r"item 1 \('weak_takeoff'\): field 'component'"),
        (lambda d: d["items"][2].pop("description"), r"item 2 \('short_flight'\): missing field 'description'"),
        (lambda d: d["items"][2].update(description=" "), "field 'description' must be a non-empty string"),
        (lambda d: d["items"][3].update(points_max="2.5"), "'points_max' 2.5 is more than the 2.0 air points"),
        (lambda d: d["items"][3].update(points_min="0.9", points_max="0.5"), "'points_min' 0.9 must be"),
        (lambda d: d["items"][3].update(points_min="0.15"), "multiple of 0.1"),
        (lambda d: d["items"][3].update(points_min="abc"), "'points_min'.*not a number"),
        (lambda d: d["items"][3].update(points_min=None), "'points_min' must be a decimal string"),
        (lambda d: d["items"][4].update(landing_cap="2.0"), "only landing items may cap"),
        (lambda d: d["items"][18].update(landing_cap="3.5"), "outside 0.0-3.0"),
        (lambda d: d["items"][4].update(colour="red"), "unknown field 'colour'"),
        (lambda d: d["items"][4].update(estimate="yes"), "'estimate' must be true or false"),
        (lambda d: d["items"][5].update(id="bent_knees"), r"item 5 \('bent_knees'\): duplicate id"),
        (lambda d: d["items"][5].update(id="Bent Knees"), "snake_case"),
        (lambda d: d["items"].append("x"), "must be an object"),
    ],
)
def test_from_dict_validation(cat, mutate, match):
    d = _base(cat)
    mutate(d)
    with pytest.raises(ValidationError, match=match) as info:
        Catalogue.from_dict(d, source="test.json")
    text = str(info.value) + "\n" + "\n".join(info.value.problems)
    assert "test.json" in text


def test_from_dict_reports_all_problems(cat):
    d = _base(cat)
    d["items"][0]["stage"] = "x"
    d["items"][5]["component"] = "y"
    with pytest.raises(ValidationError) as info:
        Catalogue.from_dict(d, source="t")
    assert len(info.value.problems) == 2


def test_load_from_path(tmp_path, cat):
    p = tmp_path / "cat.json"
    p.write_text(json.dumps(cat.to_dict()))
    assert load_catalogue(p) == cat
    p.write_text("{ not json")
    with pytest.raises(JudgemindError, match="cat.json: not valid JSON"):
        load_catalogue(p)
    with pytest.raises(JudgemindError, match="does not exist"):
        load_catalogue(tmp_path / "missing.json")
