"""Interrupted runs leave nothing half-written and resume to the same result as a clean run."""

from __future__ import annotations

import pytest

from judgemind.errors import JudgemindError
from judgemind.synth import generate
from judgemind.synth import writer as writer_mod
from judgemind.synth.writer import FRAGMENT_DIR, SYNTH_DIR

KW = dict(n=4, seed=5, size=64, fps=8, workers=1, progress=False)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("clean") / "ds", **KW)


def _same(a, b) -> None:
    for name in ("annotations.jsonl", "dataset.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    va, vb = sorted((a / "videos").iterdir()), sorted((b / "videos").iterdir())
    assert [p.name for p in va] == [p.name for p in vb]  # no leftover temporary files either
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(va, vb))
    assert not [p for p in b.rglob("*") if ".part" in p.name]


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_resume_after_deleting_a_jump(clean_run, tmp_path):
    ds = _copy(clean_run, tmp_path / "ds")
    (ds / "videos" / "synth_00001.mp4").unlink()
    (ds / SYNTH_DIR / FRAGMENT_DIR / "synth_00001.json").unlink()
    (ds / SYNTH_DIR / FRAGMENT_DIR / "synth_00003.json").unlink()  # video kept, record lost: redone
    generate(ds, **KW)
    _same(clean_run, ds)


def test_resume_after_a_crash(clean_run, tmp_path, monkeypatch):
    ds = tmp_path / "ds"
    real = writer_mod.encode_video
    calls = []

    def dying(frames, path, fps):
        calls.append(path)
        if len(calls) == 3:  # the third video dies half-way through
            it = iter(frames)
            next(it)
            raise KeyboardInterrupt
        return real(frames, path, fps)

    monkeypatch.setattr(writer_mod, "encode_video", dying)
    with pytest.raises(KeyboardInterrupt):
        generate(ds, **KW)
    monkeypatch.setattr(writer_mod, "encode_video", real)
    assert not (ds / "annotations.jsonl").exists() and not (ds / "dataset.json").exists()
    assert sorted(p.name for p in (ds / "videos").iterdir()) == ["synth_00000.mp4", "synth_00001.mp4"]
    # a hard kill would also leave temporary files behind
    (ds / "videos" / ".synth_00002.mp4.part.abc123.mp4").write_bytes(b"\x00" * 100)
    (ds / SYNTH_DIR / FRAGMENT_DIR / ".synth_00002.json.part.xyz.json").write_text("{")
    generate(ds, **KW)
    _same(clean_run, ds)


def test_refuses_other_settings_and_non_empty_folders(clean_run, tmp_path):
    ds = _copy(clean_run, tmp_path / "ds")
    with pytest.raises(JudgemindError, match="other settings: n 4"):
        generate(ds, **dict(KW, n=5))
    with pytest.raises(JudgemindError, match="seed"):
        generate(ds, **dict(KW, seed=6))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(JudgemindError, match="not empty"):
        generate(junk, **KW)
    # --overwrite starts again and leaves files that are not the dataset's alone
    (ds / "notes.txt").write_text("mine")
    generate(ds, **dict(KW, n=2, overwrite=True))
    assert (ds / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (ds / "videos").iterdir()) == ["synth_00000.mp4", "synth_00001.mp4"]
    assert len((ds / "annotations.jsonl").read_text().splitlines()) == 2


def test_annotation_only_run_writes_the_same_annotations(clean_run, tmp_path):
    ds = generate(tmp_path / "ann", **dict(KW, render=False))
    assert (ds / "annotations.jsonl").read_bytes() == (clean_run / "annotations.jsonl").read_bytes()
    assert not (ds / "videos").exists()
