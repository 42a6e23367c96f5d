"""Jump codes and the DD table (docs/rules.md, "Jump codes and DD")."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from judgemind.errors import JudgemindError, UnknownJumpCode
from judgemind.rules import (
    DD_TABLE,
    dd_entries,
    dd_entry,
    dd_for,
    describe_code,
    known_codes,
    parse_jump_code,
)

D = Decimal


@pytest.mark.parametrize(
    "code,n,twists,shape,twisting",
    [
        ("bL", 1, (0,), "layout", False),
        ("bT", 1, (0,), "tuck", False),
        ("bF", 1, (1,), "layout", True),
        ("bdF", 1, (2,), "layout", True),
        ("bLT", 2, (0, 0), "mixed", False),
        ("bLL", 2, (0, 0), "layout", False),
        ("bFT", 2, (1, 0), "mixed", True),
        ("bFP", 2, (1, 0), "mixed", True),
        ("bFdF", 2, (1, 2), "layout", True),
        ("bLLL", 3, (0, 0, 0), "layout", False),
        ("bFTF", 3, (1, 0, 1), "mixed", True),
        ("bFdFF", 3, (1, 2, 1), "layout", True),
        ("bFFdF", 3, (1, 1, 2), "layout", True),
        ("bdFFdF", 3, (2, 1, 2), "layout", True),
        ("bHRaF", 3, (0.5, 2.5, 1), "layout", True),
        ("bRuTtF", 3, (1.5, 0, 3), "mixed", True),
        ("bPPP", 3, (0, 0, 0), "pike", False),
        ("fL", 1, (0,), "layout", False),
        ("sT", 1, (0,), "tuck", False),
        ("lH", 1, (0.5,), "layout", True),
    ],
)
def test_parse_jump_code(code, n, twists, shape, twisting):
    jc = parse_jump_code(code)
    assert jc.code == code and jc.direction == code[0]
    assert jc.n_somersaults == n
    assert jc.twists_per_somersault == tuple(float(t) for t in twists)
    assert jc.total_twists == sum(Fraction(t).limit_denominator(2) for t in twists)
    assert isinstance(jc.total_twists, Fraction)
    assert jc.shape == shape
    assert jc.is_twisting is twisting
    assert "".join(s.symbol for s in jc.somersaults) == code[1:]


def test_parse_somersault_details():
    jc = parse_jump_code("bLT")
    assert [s.shape for s in jc.somersaults] == ["layout", "tuck"]
    assert jc.somersaults[0].twists == 0
    assert parse_jump_code("bHRaF").total_twists == Fraction(4)


@pytest.mark.parametrize(
    "code,match",
    [
        ("", "empty"),
        ("b", "no somersault"),
        ("xL", "position 0, 'x' is not a direction letter"),
        ("BL", "directions are lower case"),
        ("bX", "position 1, 'X' is not a somersault symbol"),
        ("bLx", "position 2, 'x' is not a somersault symbol"),
        ("bR", "position 1, 'R' must be followed by 'u'"),
        ("bRx", "position 1, 'R' must be followed by 'u'"),
        ("bd", "position 1, 'd' must be followed by 'F'"),
        ("bFt", "position 2, 't' must be followed by 'F'"),
        ("bLLLL", "position 4.*more than 3 somersaults"),
        ("bFdFFF", "position 5.*more than 3 somersaults"),
        ("bf", "position 1, 'f' is not a somersault symbol"),
        ("b L", "position 1"),
    ],
)
def test_parse_bad_codes(code, match):
    with pytest.raises(UnknownJumpCode, match=match):
        parse_jump_code(code)
    assert issubclass(UnknownJumpCode, JudgemindError)


def test_parse_rejects_non_string():
    with pytest.raises(UnknownJumpCode, match="string"):
        parse_jump_code(None)


@pytest.mark.parametrize(
    "code,text",
    [
        ("bFdFF", "full - double full - full: 3 somersaults, 4 twists"),
        ("bL", "layout: 1 somersault, 0 twists"),
        ("bF", "full: 1 somersault, 1 twist"),
        ("bLT", "layout - tuck: 2 somersaults, 0 twists"),
        ("bHRaF", "half - randy - full: 3 somersaults, 4 twists"),
        ("bH", "half: 1 somersault, 0.5 twists"),
        ("bRuF", "rudy - full: 2 somersaults, 2.5 twists"),
        ("fT", "front tuck: 1 somersault, 0 twists"),
    ],
)
def test_describe_code(code, text):
    assert describe_code(code) == text


# every code of the DD table (docs/rules.md, "Jump codes and DD") with the value dd_for returns (sex None / "M" / "W")
DD_CASES = [
    ("bL", None, "2.05"),
    ("bF", None, "2.30"),
    ("bdF", None, "2.70"),
    ("bLT", None, "2.60"),
    ("bLL", None, "2.65"),
    ("bFT", None, "2.85"),
    ("bFP", None, "2.85"),
    ("bFdF", None, "3.55"),
    ("bLLL", None, "3.3"),
    ("bFTF", None, "3.75"),
    ("bFFF", "W", "4.293"),
    ("bLFF", "W", "3.800"),
    ("bFdFF", None, "4.425"),
    ("bFdFF", "M", "4.425"),
    ("bFFdF", None, "4.525"),
    ("bdFFF", None, "4.525"),
    ("bHRaF", None, "4.525"),
    ("bFdFdF", None, "4.900"),
    ("bdFFdF", None, "5.000"),
    ("bdFFdF", "M", "5.000"),
    ("bFdFF", "W", "4.425"),  # no women's value known: the men's one
    ("bL", "W", "2.05"),
    ("bL", "m", "2.05"),
    ("bFFF", None, "4.293"),  # sex not known and only a women's value exists
]


@pytest.mark.parametrize("code,sex,dd", DD_CASES)
def test_dd_for(code, sex, dd):
    out = dd_for(code, sex)
    assert out == D(dd) and str(out) == dd


def test_every_doc_code_is_known_and_parses():
    doc_codes = {
        "bL", "bF", "bdF", "bLT", "bLL", "bFT", "bFP", "bFdF", "bLLL", "bFTF", "bFFF", "bLFF", "bFdFF", "bFFdF",
        "bdFFF", "bHRaF", "bFdFdF", "bdFFdF",
    }  # fmt: skip
    assert set(known_codes()) == doc_codes
    for e in DD_TABLE:
        parse_jump_code(e.code)
        assert e.value > 0 and e.sex in (None, "M", "W") and e.era and e.source and e.confidence
    for code in known_codes():
        dd_for(code)


def test_one_current_value_per_code_and_sex():
    keys = [(e.code, e.sex) for e in DD_TABLE if e.current]
    assert len(keys) == len(set(keys))


def test_history_is_kept_as_metadata():
    bdf = dd_entries("bdF")
    assert {str(e.value) for e in bdf} == {"2.70", "2.65"}
    assert [str(e.value) for e in bdf if e.current] == ["2.70"]
    blff = {str(e.value): e.current for e in dd_entries("bLFF")}
    assert blff == {"3.800": True, "4.028": False}
    assert dd_entry("bFFF", "W").source == "S19"


def test_men_only_lookup_never_returns_a_womens_value():
    assert "bFFF" not in known_codes("M")
    with pytest.raises(UnknownJumpCode, match="no men's or generic DD.*--dd"):
        dd_for("bFFF", "M")


def test_unknown_code_lists_close_codes():
    with pytest.raises(UnknownJumpCode) as info:
        dd_for("bFdFFF")
    msg = str(info.value)
    assert msg.startswith("unknown jump code 'bFdFFF'; close known codes: ")
    close = msg.split("close known codes: ")[1].split(";")[0].split(", ")
    assert "bFdFF" in close and 1 <= len(close) <= 5
    assert "pass --dd to give the DD yourself" in msg


def test_unknown_code_with_nothing_close_lists_known_codes():
    with pytest.raises(UnknownJumpCode, match="known codes: bL, bF"):
        dd_for("fTTT")


def test_bad_sex():
    with pytest.raises(JudgemindError, match="sex must be"):
        dd_for("bL", "X")
