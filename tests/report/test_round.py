"""A round's plan: every bad codes file is an error before any scoring (no model, no video decoding)."""

from __future__ import annotations

from pathlib import Path

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


# -- issue 24: codes files as people write them, safe folder names, round keys ------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbfa.mp4 bLT\nb.mp4 bFdFF\n",  # UTF-8 with a byte-order mark (Excel)
        b"\xef\xbb\xbfvideo,code\r\na.mp4,bLT\r\nb.mp4,bFdFF\r\n",  # a header after the mark, CRLF
        b'video,action_code\na.mp4, bLT\n"b.mp4",bFdFF,\n',  # the record's field name; CSV quoting
        "VIDEO\tCODE\na.mp4\tbLT\nb.mp4\tbFdFF\n".encode("utf-16"),  # UTF-16 with its mark
        b"# round\na.mp4 bLT # first\n\nb.mp4 bFdFF\n",
    ],
)
def test_codes_files_as_people_write_them(folder, raw):
    """Class 10: a UTF-8 byte-order mark became part of the first name; `video,code` after it and
    `video,action_code` were read as videos."""
    p = folder / "codes.csv"
    p.write_bytes(raw)
    jumps = plan_round([], str(p))
    assert [(j.video.name, j.code) for j in jumps] == [("a.mp4", "bLT"), ("b.mp4", "bFdFF")]


def test_codes_file_names_relative_to_the_file_or_to_the_folder_given(tmp_path):
    """Class 10: names are looked up beside the codes file and in the DIR given; both existing as different
    files is an error naming both."""
    vids, other = tmp_path / "round", tmp_path / "elsewhere"
    vids.mkdir()
    other.mkdir()
    (vids / "a.mp4").write_bytes(b"x")
    (vids / "jump #1.mp4").write_bytes(b"x")
    codes = other / "codes.txt"
    codes.write_text("a.mp4 bLT\njump #1.mp4, bFdFF\n")
    jumps = plan_round([str(vids)], str(codes))
    assert [(j.video, j.name) for j in jumps] == [(vids / "a.mp4", "a"), (vids / "jump #1.mp4", "jump #1")]
    with pytest.raises(JudgemindError, match="line 1: video a.mp4 does not exist \\(looked in .*elsewhere\\)"):
        plan_round([], str(codes))
    (other / "a.mp4").write_bytes(b"y")
    with pytest.raises(JudgemindError, match="line 1: 'a.mp4' is both .*elsewhere/a.mp4 and .*round/a.mp4"):
        plan_round([str(vids)], str(codes))


@pytest.mark.parametrize(
    "entry, words",
    [
        ("folder", "is a folder, not a file"),
        ("fifo", "is a FIFO \\(named pipe\\), not a regular file"),
        ("nul", "holds a NUL byte"),
        ("latin1", "line 1: not UTF-8 text"),
    ],
)
def test_codes_file_entries_that_are_not_videos(tmp_path, entry, words):
    """Classes 9, 12: a NUL byte in a name ended in exit 70; a folder or FIFO was reported "not found"."""
    import os

    (tmp_path / "folder.mp4").mkdir()
    os.mkfifo(tmp_path / "fifo.mp4")
    codes = tmp_path / "codes.txt"
    codes.write_bytes(
        {
            "folder": b"folder.mp4 bLT\n",
            "fifo": b"fifo.mp4 bLT\n",
            "nul": b"a\x00b.mp4 bLT\n",
            "latin1": b"caf\xe9.mp4 bLT\n",
        }[entry]
    )
    with pytest.raises(JudgemindError, match=words):
        plan_round([], str(codes))
    os.mkfifo(tmp_path / "codes_fifo.txt")
    with pytest.raises(JudgemindError, match="codes_fifo.txt: --codes file is a FIFO"):
        plan_round([], str(tmp_path / "codes_fifo.txt"))


def test_folder_names_stay_inside_out_and_never_collide():
    """Class 1: `...mp4` has the stem `..` (the round wrote beside OUT), `..mp4` wrote at OUT's top level,
    `index.html.mp4` made OUT/index.html a folder."""
    from judgemind.infer.round import folder_names

    stems = [
        "..",
        ".",
        "",
        ".hidden",
        "index.html",
        "INDEX.HTML",
        "round.json",
        "a/b",
        "con",
        "x\u202ey",
        "jump#1",
        "A",
        "a",
        "a_2",
        "é" * 80,
        "\udcff\udcfe",
        " . ",
    ]
    names = folder_names(stems)
    assert names[:4] == ["video", "video_2", "video_3", "hidden"]
    assert names[4:9] == ["index.html_2", "INDEX.HTML_3", "round.json_2", "a_b", "con_2"]
    assert names[9:12] == ["x_y", "jump#1", "A"] and names[12] == "a_2" and names[13] == "a_2_2"
    assert len(names[14].encode()) <= 100 and names[15] == "__" and names[16] == "video_4"
    assert len({n.casefold() for n in names}) == len(names)
    for n in names:
        assert n not in (".", "..") and not n.startswith(".") and "/" not in n and n == n.strip()
    assert folder_names(stems) == names  # deterministic


def test_round_key_changes_with_every_input(tmp_path):
    """Class 2: a replaced clip, another checkpoint at the same path, --threshold/--locator/--no-dataset were
    "kept from an earlier run" with the old score."""
    from types import SimpleNamespace

    from judgemind.infer.round import Jump, jump_inputs, key_of, round_inputs

    (tmp_path / "best.pt").write_bytes(b"checkpoint 1")
    (tmp_path / "v.mp4").write_bytes(b"clip 1")
    run = SimpleNamespace(run_dir=tmp_path, checkpoint="best", calibration=(None, None))
    opts = {"threshold": 0.3, "locator": None, "weights": None, "use_dataset": True}
    jump = Jump(tmp_path / "v.mp4", "bLT", "v")

    def key(**changes):
        return key_of(jump_inputs(changes.pop("jump", jump), round_inputs(run, {**opts, **changes}), True))

    first = key()
    assert key() == first
    others = [
        key(threshold=0.99),
        key(locator="motion"),
        key(use_dataset=False),
        key(jump=Jump(jump.video, "bFdFF", "v")),
    ]
    (tmp_path / "v.mp4").write_bytes(b"clip 2")
    others.append(key())
    (tmp_path / "best.pt").write_bytes(b"checkpoint 2")
    others.append(key())
    assert first not in others and len(set(others)) == len(others)


@pytest.mark.not_a_result("the folder swap is tested with placeholder bytes")
def test_a_jump_folder_is_replaced_as_one_unit(tmp_path, monkeypatch):
    """Class 4: files were written one by one, so a kill between them paired a new result.json with an old
    sheet; a folder that holds other files is never replaced."""
    import os

    from judgemind.utils import atomic

    dest = tmp_path / "jump"
    atomic.write_dir(dest, {"result.json": b"old", "sheet.html": b"old"})
    (dest / ".sheet.html.part.abc").write_bytes(b"stale")
    real = os.replace

    def killed(src, dst):
        if Path(dst) == dest:
            raise KeyboardInterrupt  # after the old folder moved away, before the new one moved in
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_dir(dest, {"result.json": b"new", "sheet.html": b"new"})
    monkeypatch.setattr(atomic.os, "replace", real)
    assert not dest.exists()  # no folder, never a mix: the jump is scored again
    atomic.write_dir(dest, {"result.json": b"new", "sheet.html": b"new"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jump"]  # the hidden folders are gone
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == {"result.json": b"new", "sheet.html": b"new"}
    (dest / "mine.txt").write_text("a user's file")
    with pytest.raises(FileExistsError, match="mine.txt"):
        atomic.write_dir(dest, {"result.json": b"x", "sheet.html": b"x"})
    assert (dest / "result.json").read_bytes() == b"new"
