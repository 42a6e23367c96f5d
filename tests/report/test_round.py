"""A round's plan: every bad codes file is an error before any scoring (no model, no video decoding)."""

from __future__ import annotations

import pytest

from judgemind.errors import JudgemindError
from judgemind.infer.round import plan_round, ranked, read_codes


@pytest.fixture
def folder(tmp_path):
    for n in ("a.mp4", "b.mp4"):
        (tmp_path / n).write_bytes(b"x")
    return tmp_path


def _codes(folder, text):
    p = folder / "codes.txt"
    p.write_text(text)
    return str(p)


def test_codes_file_gives_the_videos_and_codes(folder):
    jumps = plan_round([], _codes(folder, "# round 1\nvideo,code\na.mp4 bLT\nb.mp4\tbFdFF\n"))
    assert [(j.video.name, j.code, j.name) for j in jumps] == [("a.mp4", "bLT", "a"), ("b.mp4", "bFdFF", "b")]
    jumps = plan_round([str(folder)], _codes(folder, "a.mp4 bLT\nb.mp4 bFdFF\n"))
    assert len(jumps) == 2


@pytest.mark.parametrize(
    "text, words",
    [
        ("a.mp4 bLT\nmissing.mp4 bLT\n", "line 2: video .*missing.mp4 does not exist"),
        ("a.mp4 bLT\n./a.mp4 bFF\n", "line 2: .*a.mp4 is listed twice \\(also line 1\\)"),
        ("a.mp4 bXyz\n", "line 1: .*bXyz"),
        ("a.mp4\n", "line 1: expected 'VIDEO CODE'"),
        ("\n# nothing\n", "no 'VIDEO CODE' lines"),
    ],
)
def test_bad_codes_files(folder, text, words):
    with pytest.raises(JudgemindError, match=words):
        plan_round([], _codes(folder, text))


def test_a_video_without_a_code_or_given_twice(folder):
    with pytest.raises(JudgemindError, match="b.mp4: no action code"):
        plan_round([str(folder / "a.mp4"), str(folder / "b.mp4")], _codes(folder, "a.mp4 bLT\n"))
    with pytest.raises(JudgemindError, match="given twice"):
        plan_round([str(folder / "a.mp4"), str(folder / "a.mp4")], _codes(folder, "a.mp4 bLT\n"))
    with pytest.raises(JudgemindError, match="no such video"):
        plan_round([str(folder / "zzz.mp4")], None)


def test_same_stem_gets_its_own_folder_and_ranking(tmp_path):
    (tmp_path / "x").mkdir()
    for p in ("x/a.mp4", "a.avi"):
        (tmp_path / p).write_bytes(b"x")
    codes = tmp_path / "c.txt"
    codes.write_text("x/a.mp4 bLT\na.avi bLT\n")
    assert [j.name for j in plan_round([], str(codes))] == ["a", "a_2"]
    assert read_codes(codes)[1][2] == 2
    rows = [
        {"status": "failed", "name": "f"},
        {"status": "scored", "final_score": "50.1", "in_distribution": True},
        {"status": "scored", "final_score": "90.0", "in_distribution": False},
        {"status": "scored", "final_score": "70.0", "in_distribution": True},
    ]
    out = ranked(rows)
    assert [r.get("final_score") for r in out] == ["70.0", "50.1", "90.0", None]
    assert [r.get("rank") for r in out] == [1, 2, 3, None]


def test_action_code_is_the_round_default(folder, tmp_path):
    jumps = plan_round([str(folder)], _codes(folder, "a.mp4 bFdFF\n"), default_code="bLT")
    assert [(j.video.name, j.code) for j in jumps] == [("a.mp4", "bFdFF"), ("b.mp4", "bLT")]
    with pytest.raises(JudgemindError, match="--action-code: .*bQQ"):
        plan_round([str(folder)], None, default_code="bQQ")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(JudgemindError, match="is a folder with no video files"):
        plan_round([str(empty)], None)
