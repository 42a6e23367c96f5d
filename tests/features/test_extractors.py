"""Feature extractors: every registered one runs on a tiny dataset; tiny3d, pose, i3d and videomae specifics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from judgemind.data import load_dataset
from judgemind.errors import CheckpointError, JudgemindError
from judgemind.features import get_extractor, list_extractors
from judgemind.features.base import clip_frames
from judgemind.features.pipeline import extract_record
from judgemind.video.locators import get_locator

torch.set_num_threads(1)
BUILTIN = ("i3d", "pose", "tiny3d", "videomae", "pixels")


def test_registry_lists_builtins_with_their_needs():
    infos = {e.name: e for e in list_extractors()}
    assert set(BUILTIN) <= set(infos)
    assert infos["i3d"].weights == "required file" and infos["videomae"].weights == "required folder"
    assert infos["tiny3d"].weights == "optional file" and infos["pose"].weights is None
    assert "mediapipe" in infos["pose"].requires and "transformers" in infos["videomae"].requires
    assert all(e.dims and e.description for e in infos.values())


def test_unknown_extractor_and_option():
    with pytest.raises(JudgemindError, match="unknown extractor 'nope'.*tiny3d"):
        get_extractor("nope")
    with pytest.raises(JudgemindError, match="no option bogus.*in_size"):
        get_extractor("tiny3d", bogus=1)


@pytest.mark.parametrize("name", BUILTIN)
def test_every_extractor_on_a_tiny_record(name, tiny_dataset, extractor_options):
    ds = load_dataset(tiny_dataset)
    rec = ds.records[0]
    ext = get_extractor(name, **extractor_options(name))
    out = extract_record(ext, get_locator("annotation"), ds.video_path(rec), rec)
    T = len(out["frame_index"])
    dims = ext.dims()
    assert out["global"].shape == (T, dims["global"]) and out["foreground"].shape == (T, dims["foreground"])
    assert out["global"].dtype == np.float32 and np.isfinite(out["global"]).all()
    assert np.isfinite(out["foreground"]).all()
    start, end = rec.frames
    assert out["frame_index"].dtype == np.int64 and (out["frame_index"] >= start).all()
    assert (out["frame_index"] < end).all() and (np.diff(out["frame_index"]) >= 0).all()
    assert out["box"].shape == (T, 4) and (out["box"][:, 2] > out["box"][:, 0]).all()
    cfg = ext.config()
    assert cfg["extractor"] == name and "weights_sha256" in cfg
    if dims["global"] == dims["foreground"]:
        assert not np.allclose(out["global"], out["foreground"])  # the crop is not the whole frame
    ext.close()


# -- helpers -------------------------------------------------------------------------------------------------------
def test_clip_frames_are_centred_and_clamped():
    c = clip_frames(np.array([10, 11, 30]), 10, 31, 4, 2)
    assert c.tolist() == [[10, 10, 10, 12], [10, 10, 11, 13], [26, 28, 30, 30]]


# -- tiny3d --------------------------------------------------------------------------------------------------------
def test_tiny3d_module_shapes_and_seeded_init():
    from judgemind.features.tiny3d import Tiny3D, Tiny3DConfig

    cfg = Tiny3DConfig(in_size=32, clip_len=4, channels=(8, 16), dim=24)
    m = Tiny3D(cfg)
    x = torch.randn(3, 3, 4, 32, 32)
    assert m(x).shape == (3, 24)
    same = Tiny3D(cfg)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), same.state_dict().values()))
    other = Tiny3D(Tiny3DConfig(in_size=32, clip_len=4, channels=(8, 16), dim=24, seed=1))
    assert not torch.equal(m.features[0].weight, other.features[0].weight)
    rng_state = torch.random.get_rng_state()
    Tiny3D(cfg)
    assert torch.equal(rng_state, torch.random.get_rng_state())  # the global RNG is not touched


def test_record_clips_is_what_extraction_encodes(tiny_dataset):
    """The end-to-end trainer's input (record_clips) gives exactly the cached tokens through the same model."""
    from judgemind.features.tiny3d import Tiny3DConfig, Tiny3DExtractor, record_clips

    ds = load_dataset(tiny_dataset)
    rec = ds.records[1]
    ext = Tiny3DExtractor(steps=5, in_size=32, clip_len=4, channels=(8, 16, 32), dim=32)
    out = extract_record(ext, get_locator("annotation"), ds.video_path(rec), rec)
    clips = record_clips(ds.video_path(rec), rec, ext.cfg, steps=5, locator="annotation")
    assert clips["global"].shape == (5, 3, 4, 32, 32) and clips["foreground"].dtype == torch.float32
    np.testing.assert_array_equal(clips["frame_index"], out["frame_index"])
    np.testing.assert_allclose(clips["box"], out["box"], rtol=1e-5)
    with torch.inference_mode():
        np.testing.assert_allclose(ext.model(clips["foreground"]).numpy(), out["foreground"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ext.model(clips["global"]).numpy(), out["global"], rtol=1e-5, atol=1e-6)
    assert isinstance(Tiny3DConfig.from_dict(ext.cfg.to_dict()), Tiny3DConfig)


def test_tiny3d_weights_roundtrip_and_prefixes(tmp_path):
    from judgemind.features.tiny3d import Tiny3D, Tiny3DConfig, load_tiny3d, save_tiny3d

    cfg = Tiny3DConfig(in_size=32, clip_len=4, channels=(8, 16), dim=16, seed=3)
    m = Tiny3D(cfg)
    save_tiny3d(m, tmp_path / "w.safetensors")
    loaded, info = load_tiny3d(tmp_path / "w.safetensors")
    assert info["config"] == cfg and len(info["sha256"]) == 64
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.inference_mode():
        assert torch.equal(m.eval()(x), loaded(x))
    # a trainer checkpoint: {"state_dict": {"backbone.<key>": ...}, "tiny3d_config": {...}}
    torch.save(
        {
            "state_dict": {f"backbone.{k}": v for k, v in m.state_dict().items()},
            "tiny3d_config": cfg.to_dict(),
            "epoch": 3,
        },
        tmp_path / "trained.pt",
    )
    loaded2, info2 = load_tiny3d(tmp_path / "trained.pt")
    assert info2["config"] == cfg
    # extractor with those weights: config from the file, conflicting options refused
    ext = get_extractor("tiny3d", weights=str(tmp_path / "w.safetensors"))
    assert ext.config()["weights_sha256"] == info["sha256"] and ext.dims() == {"global": 16, "foreground": 16}
    with pytest.raises(CheckpointError, match="trained with in_size=32"):
        get_extractor("tiny3d", weights=str(tmp_path / "w.safetensors"), in_size=64)


def test_tiny3d_weights_of_another_architecture_name_the_keys(tmp_path):
    from judgemind.features.tiny3d import load_tiny3d

    torch.save({"conv1.weight": torch.zeros(4, 3, 3, 3), "fc.bias": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError) as e:
        load_tiny3d(tmp_path / "other.pt")
    msg = str(e.value)
    assert "missing keys: features.0.weight" in msg and "unexpected keys: conv1.weight, fc.bias" in msg
    with pytest.raises(CheckpointError, match="does not exist"):
        load_tiny3d(tmp_path / "absent.safetensors")


# -- i3d -----------------------------------------------------------------------------------------------------------
def test_i3d_needs_weights_and_keeps_its_protocol(i3d_weights, tmp_path):
    with pytest.raises(JudgemindError, match="needs --weights"):
        get_extractor("i3d")
    with pytest.raises(CheckpointError, match="does not exist"):
        get_extractor("i3d", weights=str(tmp_path / "absent.pth"))
    ext = get_extractor("i3d", weights=str(i3d_weights))
    assert ext.config()["steps"] == 9 and ext.dims() == {"global": 1024, "foreground": 1024}
    plan = ext.plan(100, 250)
    assert len(plan.steps) == 9 and len(plan.extra["sampled"]) == 96
    np.testing.assert_array_equal(plan.extra["sampled"], np.linspace(0, 149, 96).astype(int) + 100)
    np.testing.assert_array_equal(plan.steps, ext.encoder.frame_index(150, 100))
    with pytest.raises(JudgemindError, match="gives 9 steps"):
        get_extractor("i3d", weights=str(i3d_weights), steps=32)


def test_i3d_rejects_tiny3d_weights_naming_keys(tmp_path):
    from judgemind.features.tiny3d import Tiny3D, save_tiny3d

    save_tiny3d(Tiny3D(), tmp_path / "tiny3d.safetensors")
    with pytest.raises(CheckpointError) as e:
        get_extractor("i3d", weights=str(tmp_path / "tiny3d.safetensors"))
    assert "missing keys" in str(e.value) and "unexpected keys: features.0.weight" in str(e.value)


# -- videomae ------------------------------------------------------------------------------------------------------
def test_videomae_folder_errors(tmp_path, videomae_dir):
    with pytest.raises(JudgemindError, match="needs --weights DIR"):
        get_extractor("videomae")
    with pytest.raises(CheckpointError, match="not found"):
        get_extractor("videomae", weights=str(tmp_path / "absent"))
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(CheckpointError, match="'bert' model, not VideoMAE"):
        get_extractor("videomae", weights=str(tmp_path / "bert"))
    (tmp_path / "noweights").mkdir()
    (tmp_path / "noweights" / "config.json").write_text((videomae_dir / "config.json").read_text())
    with pytest.raises(CheckpointError, match="no weights"):
        get_extractor("videomae", weights=str(tmp_path / "noweights"))
    ext = get_extractor("videomae", weights=str(videomae_dir))
    assert ext.dims() == {"global": 32, "foreground": 32} and ext.config()["clip_len"] == 4


# -- pose ----------------------------------------------------------------------------------------------------------
def _standing(cx=50.0, top=10.0, h=80.0):
    """33 keypoints of an upright person with straight limbs, arms down, feet together."""
    kp = np.zeros((33, 3), np.float32)
    kp[:, 2] = 1.0
    y = lambda f: top + f * h  # noqa: E731
    for i in range(11):
        kp[i, :2] = (cx, y(0.05))
    for side, dx in ((0, -8), (1, 8)):
        kp[11 + side, :2] = (cx + dx, y(0.2))  # shoulders
        kp[13 + side, :2] = (cx + dx, y(0.35))  # elbows
        kp[15 + side, :2] = (cx + dx, y(0.5))  # wrists
        for j in (17, 19, 21):
            kp[j + side, :2] = (cx + dx, y(0.52))
        kp[23 + side, :2] = (cx + dx / 2, y(0.5))  # hips
        kp[25 + side, :2] = (cx + dx / 2, y(0.75))  # knees
        kp[27 + side, :2] = (cx + dx / 2, y(1.0))  # ankles
        kp[29 + side, :2] = (cx + dx / 2, y(1.0))
        kp[31 + side, :2] = (cx + dx / 2 + 3, y(1.0))
    return kp


def test_pose_token_geometry():
    from judgemind.features.pose import FG_DIM, pose_token

    kp = _standing()
    box = (40.0, 10.0, 60.0, 90.0)
    t = pose_token(kp, box, (100, 100), 0.9, False)
    assert t.shape == (FG_DIM,)
    np.testing.assert_allclose(t[99:101], 1.0, atol=1e-5)  # straight knees (180 degrees)
    np.testing.assert_allclose(t[109:111], [0.0, 1.0], atol=1e-5)  # upright body axis
    assert t[107] == pytest.approx(8 / 80, rel=1e-4)  # ankles 8 px apart, box 80 px
    assert t[117] == 1.0 and t[115] == pytest.approx(0.9)
    flipped = kp.copy()
    flipped[:, 1] = 100 - flipped[:, 1]  # upside down (mid-somersault)
    t2 = pose_token(flipped, (40.0, 10.0, 60.0, 90.0), (100, 100), 0.9, False)
    assert t2[110] == pytest.approx(-1.0, abs=1e-5)
    bent = kp.copy()
    bent[25:27, 0] += 15  # knees forward
    assert pose_token(bent, box, (100, 100), 0.9, False)[99] < 0.9
    missing = pose_token(None, box, (100, 100), 0.0, True)
    assert not missing[:111].any() and missing[117] == 0 and missing[116] == 1


def test_global_token_motion():
    from judgemind.features.pose import GLOBAL_DIM, global_token

    a = np.zeros((40, 60, 3), np.uint8)
    b = a.copy()
    b[:, 30:] = 255
    assert global_token(a, a).shape == (GLOBAL_DIM,) and global_token(a, a)[64:].max() == 0
    assert global_token(b, a)[-1] > 0.2 and global_token(a, None)[64:].max() == 0


# -- pixels --------------------------------------------------------------------------------------------------------
def test_pixels_tokens_are_crop_and_motion(tiny_dataset):
    ds = load_dataset(tiny_dataset)
    rec = ds.records[0]
    ext = get_extractor("pixels", steps=8, fg_size=12, global_size=8)
    assert ext.dims() == {"global": 128, "foreground": 288}
    a = extract_record(ext, get_locator("annotation"), ds.video_path(rec), rec)
    b = extract_record(ext, get_locator("annotation"), ds.video_path(rec), rec)
    assert np.array_equal(a["foreground"], b["foreground"])  # deterministic
    crop, motion = a["foreground"][:, :144], a["foreground"][:, 144:]
    assert np.abs(crop.mean(1)).max() < 1e-4  # each crop is standardised
    assert np.abs(motion).sum() > 0  # the figure moves between the step frame and the frame before it
    with pytest.raises(JudgemindError, match="steps >= 3"):
        get_extractor("pixels", steps=1)
