"""A generated dataset is a valid FineSkiing dataset whose records say what the generator did."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np

from judgemind.data import load_dataset, validate_dataset
from judgemind.rules import load_catalogue, score_aerials
from judgemind.synth.writer import FRAGMENT_DIR, SYNTH_DIR, split_ids
from judgemind.video.probe import probe_video


def test_validates_with_videos(small_dataset):
    ds, problems = validate_dataset(small_dataset, check_videos=True)
    errors = [str(p) for p in problems if p.level == "error"]
    assert errors == []
    assert len(ds) == 6
    assert ds.meta.synthetic is True
    assert ds.meta.scoring == "aerials5"
    assert "SYNTHETIC" in ds.meta.description
    for rec in ds:
        info = probe_video(small_dataset / rec.video, count=True)
        assert info.n_frames == rec.frames[1]
        assert (info.width, info.height) == (64, 64)
        assert info.codec == "h264"


def test_splits_are_seeded_70_15_15():
    s = split_ids(100, seed=0)
    assert [len(s[k]) for k in ("train", "val", "test")] == [70, 15, 15]
    assert len(set(s["train"]) | set(s["val"]) | set(s["test"])) == 100
    assert s == split_ids(100, seed=0)
    assert s != split_ids(100, seed=1)
    assert all(len(v) == 1 for k, v in split_ids(3, 0).items())


def test_records_content(small_dataset):
    ds = load_dataset(small_dataset, check_videos=False)
    cat = load_catalogue()
    for rec in ds:
        n = rec.frames[1]
        assert rec.frames[0] == 0
        (a0, a1), (b0, b1), (c0, c1) = (rec.stages[s] for s in ("takeoff", "flight", "landing"))
        assert a0 == 0 and a1 == b0 and b1 == c0 and c1 == n  # contiguous, covering the clip
        assert len(rec.judges) == 5
        assert score_aerials([(j.air, j.form, j.landing) for j in rec.judges], rec.dd).score == rec.final_score
        for d in rec.deductions:
            item = cat.get(d.item)
            assert item.points_min <= d.points <= item.points_max
            assert d.points % Decimal("0.1") == 0
            assert d.stage == item.stage
            s0, s1 = rec.stages[d.stage]
            assert s0 <= d.frames[0] < d.frames[1] <= s1
            assert d.severity is None or 0.0 <= d.severity <= 1.0
            measured = rec.extra["measured"][d.item]  # a deduction is something drawn and visible
            assert measured["visible"] and measured["value"] > 0
            if item.landing_cap is not None:
                assert all(j.landing <= item.landing_cap for j in rec.judges)
        assert rec.cuts and all(0 < c < n for c in rec.cuts)
        assert rec.boxes and len(rec.boxes) >= 0.8 * n
        for k, (x0, y0, x1, y1) in rec.boxes.items():
            assert 0 <= k < n and 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
        true = rec.extra["true"]
        assert 0 <= true["air"] <= 2 and 0 <= true["form"] <= 5 and 0 <= true["landing"] <= 3
        assert rec.extra["synthetic"] is True
        assert len(rec.extra["camera"]["shots"]) == len(rec.cuts) + 1


def test_annotations_are_the_fragments(small_dataset):
    lines = (small_dataset / "annotations.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    frags = sorted((small_dataset / SYNTH_DIR / FRAGMENT_DIR).glob("*.json"))
    assert [f.read_text(encoding="utf-8") for f in frags] == lines
    meta = json.loads((small_dataset / "dataset.json").read_text())
    assert meta["synthetic"] is True and meta["extra"]["generator"]["seed"] == 3


def test_two_workers_give_the_same_bytes(small_dataset, small_kwargs, tmp_path):
    from judgemind.synth import generate

    other = generate(tmp_path / "w", workers=2, **small_kwargs)
    for name in ("annotations.jsonl", "dataset.json"):
        assert (other / name).read_bytes() == (small_dataset / name).read_bytes()
    for v in sorted((small_dataset / "videos").iterdir()):
        assert (other / "videos" / v.name).read_bytes() == v.read_bytes()


def test_skeletons_are_exported_and_match_the_boxes(small_dataset):
    """Every record carries a skeleton array (schema v2): its visible points lie inside the athlete box, the
    3D points are finite, and the layout names the 15 joints and the skis' tips and tails."""
    from judgemind.data.skeleton import OUT_OF_FRAME, SKELETON_POINTS, VISIBLE, load_skeleton

    ds = load_dataset(small_dataset, check_videos=False)
    assert ds.meta.schema_version == 2 and ds.meta.skeleton.points == SKELETON_POINTS
    assert ds.meta.skeleton.frame_size == (64, 64)
    shown = 0
    for rec in ds:
        sk = load_skeleton(small_dataset, rec, ds.meta.skeleton)
        assert sk.uv.shape == (rec.n_frames, 19, 2) and sk.world.shape == (rec.n_frames, 19, 3)
        assert np.isfinite(sk.world).all()
        for k, (x0, y0, x1, y1) in rec.boxes.items():
            vis = sk.visibility[k] == VISIBLE
            u, v = sk.uv[k, vis, 0], sk.uv[k, vis, 1]
            assert ((u >= x0 - 0.6) & (u <= x1 + 0.6) & (v >= y0 - 0.6) & (v <= y1 + 0.6)).all()
            shown += int(vis.sum())
        assert set(np.unique(sk.visibility)) <= {0, 1, 2}
        assert (sk.visibility != OUT_OF_FRAME).mean() > 0.5
    assert shown > 0
