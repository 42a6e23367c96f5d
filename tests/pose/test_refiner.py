"""The temporal refiner: it learns to clean a noisy track, its weights file is checked, and the ``refined``
extractor turns any cache's tracks into the skeleton tokens."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from judgemind.cli.main import main
from judgemind.data.track import SkeletonTrack
from judgemind.errors import JudgemindError
from judgemind.features.cache import FeatureCache
from judgemind.features.skeleton import FG_DIM, GLOBAL_DIM
from judgemind.pose.refiner import RefinerConfig, RefinerNet, load_refiner, save_refiner


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    """30 SynthAerials jumps whose 'estimate' is the annotated skeleton with 8 % jitter (no video decoded)."""
    from judgemind.synth import generate

    root = generate(
        tmp_path_factory.mktemp("refiner") / "ds", n=30, seed=21, size=64, fps=25, workers=1, progress=False
    )
    assert (
        main(
            [
                "extract",
                str(root),
                "--extractor",
                "skeleton",
                "--set",
                "jitter=8",
                "--set",
                "noise_seed=4",
                "--name",
                "noisy",
                "--no-progress",
            ]
        )
        == 0
    )
    return root


@pytest.fixture(scope="module")
def trained(noisy, tmp_path_factory):
    from judgemind.pose.refine_train import train_refiner

    out = tmp_path_factory.mktemp("ref")
    torch.manual_seed(0)
    card = train_refiner(
        noisy,
        out,
        FeatureCache(noisy, "noisy"),
        steps=200,
        batch=8,
        lr=3e-3,
        width=32,
        seed=0,
        threads=1,
        simulated=0.0,
        eval_every=50,
        progress=False,
        log=lambda *a: None,
    )
    return out / "refiner.safetensors", card


def test_the_refiner_lowers_the_error_of_a_noisy_track(trained):
    _, card = trained
    before, after = card["val_before"], card["val_after"]
    # what a judge reads from the points (joint angles, leg and ski separation) and the 3D pose get better
    assert after["angle_error_deg"] < 0.97 * before["angle_error_deg"]
    assert after["error_3d_cm"] < 0.9 * before["error_3d_cm"]
    assert after["trajectory_error_m_median"] is not None


def test_weights_round_trip_and_an_untrained_refiner_is_the_identity(trained, noisy, tmp_path):
    path, card = trained
    ref = load_refiner(path)
    assert ref.card["steps"] == 200 and ref.net.cfg.width == 32
    raw = SkeletonTrack.from_tensors(FeatureCache(noisy, "noisy").load("synth_00000"), "x")
    ident = load_refiner(save_refiner(RefinerNet(RefinerConfig(width=16)), tmp_path / "id.safetensors"))(raw)
    assert np.allclose(ident.uv[raw.in_picture], raw.uv[raw.in_picture], atol=1e-3)
    assert np.array_equal(ident.visibility, raw.visibility)
    assert ident.source == "refined(" + raw.source + ")"


def test_refined_extractor_writes_skeleton_tokens_from_another_cache(trained, noisy):
    path, _ = trained
    assert (
        main(
            [
                "extract",
                str(noisy),
                "--extractor",
                "refined",
                "--set",
                "source=noisy",
                "--set",
                f"refiner={path}",
                "--name",
                "noisy_refined",
                "--no-progress",
            ]
        )
        == 0
    )
    cache = FeatureCache(noisy, "noisy_refined")
    t = cache.load("synth_00003")
    assert t["global"].shape == (48, GLOBAL_DIM) and t["foreground"].shape == (48, FG_DIM)
    tr = SkeletonTrack.from_tensors(t, "x")
    assert tr.source.startswith("refined(annotated + simulated noise") and tr.trajectory is not None
    assert cache.config["source"] == "noisy" and cache.config["refiner_sha256"]


def test_bad_refiner_files_are_refused_naming_the_file(trained, tmp_path):
    path, _ = trained
    data = path.read_bytes()
    cases = {
        "truncated.safetensors": data[: len(data) // 2],
        "garbage.safetensors": b"\x00" * 64,
        "empty.safetensors": b"",
    }
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(JudgemindError, match=name):
            load_refiner(tmp_path / name)
    # another layout in the header than the tensors hold
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"]["layout"] = json.dumps(dict(json.loads(header["__metadata__"]["layout"]), width=64))
    h = json.dumps(header).encode()
    (tmp_path / "layout.safetensors").write_bytes(len(h).to_bytes(8, "little") + h + data[8 + n :])
    with pytest.raises(JudgemindError, match="do not match the refiner layout"):
        load_refiner(tmp_path / "layout.safetensors")
    header["__metadata__"]["format"] = "judgemind-aerialspose-1"
    h = json.dumps(header).encode()
    (tmp_path / "format.safetensors").write_bytes(len(h).to_bytes(8, "little") + h + data[8 + n :])
    with pytest.raises(JudgemindError, match="not a refiner weights file"):
        load_refiner(tmp_path / "format.safetensors")
    with pytest.raises(JudgemindError, match="not a regular file"):
        load_refiner(tmp_path)
    net = RefinerNet(RefinerConfig(width=16))
    with torch.no_grad():
        next(net.parameters()).fill_(float("nan"))
    with pytest.raises(JudgemindError, match="NaN"):
        load_refiner(save_refiner(net, tmp_path / "nan.safetensors"))


def test_cli_train_refiner_and_its_bad_input(noisy, tmp_path, capsys):
    assert (
        main(
            [
                "pose",
                "train-refiner",
                "--data",
                str(noisy),
                "--source",
                "noisy",
                "--out",
                str(tmp_path / "r"),
                "--steps",
                "3",
                "--batch",
                "2",
                "--width",
                "16",
                "--threads",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "val PCK@0.1" in capsys.readouterr().out and (tmp_path / "r" / "model_card.json").is_file()
    assert (
        main(
            [
                "pose",
                "train-refiner",
                "--data",
                str(noisy),
                "--source",
                "nothere",
                "--out",
                str(tmp_path / "q"),
                "--steps",
                "3",
            ]
        )
        == 2
    )
    assert "nothere" in capsys.readouterr().err
    assert main(["pose", "train-refiner", "--data", str(noisy), "--out", str(tmp_path / "q"), "--width", "12"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["extract", str(noisy), "--perception", "nope"])
    assert e.value.code == 2 and "aerialspose, mediapipe" in capsys.readouterr().err.replace("'", "")
