"""`judgemind extract` / `judgemind extractors` end to end on tiny datasets: cache format, resume, stale-cache
detection, shards, workers, and failures that do not stop the other videos."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from _feature_helpers import figure_boxes, record, write_tiny_dataset

from judgemind.cli.main import main
from judgemind.features import FeatureCache
from judgemind.features.pipeline import parse_shard
from judgemind.video.encode import moving_figure, write_video

TINY = [
    "--extractor",
    "tiny3d",
    "--steps",
    "4",
    "--set",
    "in_size=32",
    "--set",
    "clip_len=2",
    "--set",
    "channels=[8,16]",
    "--set",
    "dim=16",
    "--no-progress",
    "--threads",
    "1",
]


def test_extract_writes_the_cache_and_resumes(tiny_dataset, capsys):
    assert main(["extract", str(tiny_dataset), *TINY]) == 0
    cache = FeatureCache(tiny_dataset, "tiny3d")
    m = cache.manifest
    assert m["extractor"] == "tiny3d" and m["dims"] == {"global": 16, "foreground": 16}
    cfg = m["config"]
    assert cfg["steps"] == 4 and cfg["locator"] == "annotation" and cfg["fps"] == 25.0
    assert cfg["in_size"] == 32 and cfg["weights_sha256"] is None and "clip_len" in cfg and "short_side" in cfg
    t = cache.load("r0")
    assert t["global"].shape == (4, 16) and t["frame_index"].tolist() == np.linspace(2, 37, 4).astype(int).tolist()
    assert t["box"].shape == (4, 4) and t["box_filled"].dtype == np.uint8
    assert "2 extracted, 0 already cached, 0 failed" in capsys.readouterr().out
    mtime = os.path.getmtime(cache.path("r0"))
    assert main(["extract", str(tiny_dataset), *TINY]) == 0  # resume: nothing left to do
    assert "0 extracted, 2 already cached" in capsys.readouterr().out
    assert os.path.getmtime(cache.path("r0")) == mtime
    cache.path("r1").unlink()
    assert main(["extract", str(tiny_dataset), *TINY]) == 0
    assert "1 extracted, 1 already cached" in capsys.readouterr().out


def test_other_settings_are_not_reused_silently(tiny_dataset, capsys):
    assert main(["extract", str(tiny_dataset), *TINY]) == 0
    capsys.readouterr()
    other = [a if a != "4" else "5" for a in TINY]
    assert main(["extract", str(tiny_dataset), *other]) == 2
    err = capsys.readouterr().err
    assert "other settings" in err and "steps: cached 4 vs now 5" in err
    assert main(["extract", str(tiny_dataset), *other, "--name", "tiny3d_T5"]) == 0
    assert FeatureCache(tiny_dataset, "tiny3d_T5").load("r0")["global"].shape == (5, 16)


def test_shards_split_the_records(tmp_path, capsys):
    root = write_tiny_dataset(tmp_path / "ds", n_records=3, n_frames=24)
    for i in range(2):
        assert main(["extract", str(root), *TINY, "--shard", f"{i}/2"]) == 0
    cache = FeatureCache(root, "tiny3d")
    assert all(cache.has(r) for r in ("r0", "r1", "r2"))
    out = capsys.readouterr().out
    assert "2 record(s) selected" in out and "1 record(s) selected" in out
    assert parse_shard("1/3") == (1, 3)
    for bad in ("3/3", "a/b", "1"):
        with pytest.raises(Exception, match="shard"):
            parse_shard(bad)


def test_split_option(tiny_dataset, capsys):
    assert main(["extract", str(tiny_dataset), *TINY, "--split", "test"]) == 0
    cache = FeatureCache(tiny_dataset, "tiny3d")
    assert cache.has("r1") and not cache.has("r0")


def test_failures_are_listed_and_leave_no_file(tmp_path, capsys):
    root = tmp_path / "ds"
    (root / "videos").mkdir(parents=True)
    write_video(root / "videos/short.mp4", moving_figure(10, 64, 64), fps=25)
    good = (root / "videos/short.mp4").read_bytes()
    (root / "videos/broken.mp4").write_bytes(good[: len(good) // 2])
    (root / "videos/empty.mp4").write_bytes(b"")
    extra = [
        record("too_long", "videos/short.mp4", 0, 30),  # frames beyond the video's end
        record("broken", "videos/broken.mp4", 0, 8),
        record("empty", "videos/empty.mp4", 0, 8),
        record("gone", "videos/missing.mp4", 0, 8),
    ]
    write_tiny_dataset(root, n_records=1, n_frames=20, extra=extra)
    code = main(["extract", str(root), *TINY, "--locator", "motion"])
    cap = capsys.readouterr()
    assert code == 1
    assert "1 extracted, 0 already cached, 4 failed" in cap.out
    for rid, words in [
        ("too_long", "outside"),
        ("broken", "truncated"),
        ("empty", "0 bytes"),
        ("gone", "no such video file"),
    ]:
        line = next(x for x in cap.err.splitlines() if x.strip().startswith(f"- {rid}:"))
        assert words in line
    cache = FeatureCache(root, "tiny3d")
    assert cache.has("r0") and not any(cache.has(r["id"]) for r in extra)
    assert cache.partial_files() == []
    # (the hidden .lock files of the cache lock stay; they hold no data)
    assert sorted(p.name for p in cache.dir.iterdir() if not p.name.endswith(".lock")) == [
        "manifest.json",
        "r0.safetensors",
    ]


def test_missing_or_wrong_weights_stop_before_any_video(tiny_dataset, tmp_path, capsys):
    assert main(["extract", str(tiny_dataset), "--extractor", "i3d", "--no-progress"]) == 2
    assert "needs --weights" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert (
        main(
            [
                "extract",
                str(tiny_dataset),
                "--extractor",
                "tiny3d",
                "--weights",
                str(tmp_path / "junk.pt"),
                "--no-progress",
            ]
        )
        == 2
    )
    assert "cannot read tiny3d weights" in capsys.readouterr().err
    assert not (tiny_dataset / "features" / "tiny3d").exists()


@pytest.mark.slow
def test_workers_give_the_same_numbers(tiny_dataset):
    assert main(["extract", str(tiny_dataset), *TINY, "--workers", "2", "--name", "par"]) == 0
    assert main(["extract", str(tiny_dataset), *TINY, "--name", "seq"]) == 0
    par, seq = FeatureCache(tiny_dataset, "par"), FeatureCache(tiny_dataset, "seq")
    for rid in ("r0", "r1"):
        a, b = par.load(rid), seq.load(rid)
        for k in ("global", "foreground", "frame_index", "box"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6)


def test_extractors_command(capsys):
    assert main(["extractors"]) == 0
    out = capsys.readouterr().out
    for name in ("tiny3d", "pose", "i3d", "videomae", "annotation", "mediapipe", "hog", "motion"):
        assert name in out
    assert "required file" in out and "1024 / 1024" in out
    assert main(["extractors", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {e["name"] for e in d["extractors"]} >= {"tiny3d", "pose", "i3d", "videomae"}


def test_bad_set_option(tiny_dataset, capsys):
    assert main(["extract", str(tiny_dataset), "--extractor", "tiny3d", "--set", "in_size"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["extract", str(tiny_dataset), "--extractor", "tiny3d", "--set", "nope=1", "--no-progress"]) == 2
    assert "no option nope" in capsys.readouterr().err


def test_auto_locator_without_boxes_is_mediapipe(tmp_path):
    from judgemind.data import load_dataset
    from judgemind.features.pipeline import resolve_locator

    root = tmp_path / "ds"
    (root / "videos").mkdir(parents=True)
    write_video(root / "videos/a.mp4", moving_figure(12, 48, 48), fps=25)
    write_tiny_dataset(root, n_records=1, n_frames=16, extra=[record("nobox", "videos/a.mp4", 0, 12)])
    ds = load_dataset(root)
    assert resolve_locator("auto", ds.records) == "mediapipe"
    assert resolve_locator("auto", ds.records[:1]) == "annotation"
    assert resolve_locator("hog", ds.records) == "hog"
    assert figure_boxes(8, 48)  # helper sanity
