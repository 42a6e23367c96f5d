"""Fixtures for the video tests: tiny generated videos, including the broken ones (the real sample clips are
fixtures of tests/conftest.py, shared with tests/features)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _video_helpers import LOSSLESS, index_frames

from judgemind.video.encode import write_video


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    """Tiny generated videos, good and bad, written once per session."""
    d = tmp_path_factory.mktemp("videos")
    out: dict[str, Path] = {}

    def add(name, frames, **kw):
        write_video(d / name, frames, **kw)
        out[name.split(".")[0]] = d / name

    add("index.mp4", index_frames(30), options=LOSSLESS)
    add("gop.mp4", index_frames(30, 32, 32), options={**LOSSLESS, "g": "8", "bf": "2"})
    add("odd.mp4", index_frames(6, 33, 21), pix_fmt="yuv444p", options=LOSSLESS)
    add("gray.mkv", index_frames(6, 33, 21), codec="ffv1", pix_fmt="gray")
    add("rot90.mp4", index_frames(4), rotation=90, options=LOSSLESS)
    add("rotm90.mp4", index_frames(4), rotation=-90, options=LOSSLESS)
    add("rot180.mp4", index_frames(4), rotation=180, options=LOSSLESS)
    add("vfr.mp4", index_frames(8), timestamps=[0.0, 0.04, 0.08, 0.5, 0.52, 1.3, 1.31, 2.0], options=LOSSLESS)

    good = out["index"].read_bytes()
    (d / "empty.mp4").write_bytes(b"")
    out["empty"] = d / "empty.mp4"
    (d / "truncated.mp4").write_bytes(good[: len(good) // 2])  # moov atom at the end is cut off
    out["truncated"] = d / "truncated.mp4"
    (d / "text.mp4").write_text("this is not a video\n" * 50)
    out["text"] = d / "text.mp4"
    stsd = good.find(b"stsd")
    i = good.find(b"avc1", stsd)
    (d / "unknown_codec.mp4").write_bytes(good[:i] + b"zzzz" + good[i + 4 :])
    out["unknown_codec"] = d / "unknown_codec.mp4"
    out["audio"] = _write_audio_only(d / "audio.m4a")
    out["no_frames"] = _write_no_video_frames(d / "no_frames.mkv")
    out["missing"] = d / "does_not_exist.mp4"
    return out


def _audio_frames(n: int):
    import av

    for k in range(n):
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate = 16000
        fr.pts = k * 1024
        yield fr


def _write_audio_only(path: Path) -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=16000)
        for fr in _audio_frames(4):
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _write_no_video_frames(path: Path) -> Path:
    """A Matroska file that declares a video stream but holds no video frame (only audio)."""
    import av

    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 32, 24, "yuv420p"
        a = c.add_stream("aac", rate=16000)
        for fr in _audio_frames(3):
            for p in a.encode(fr):
                c.mux(p)
        for p in a.encode():
            c.mux(p)
    return path
