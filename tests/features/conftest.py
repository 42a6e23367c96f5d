"""Fixtures for extractor / cache / ``judgemind extract`` tests: tiny FineSkiing datasets written on the fly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _feature_helpers import write_tiny_dataset


@pytest.fixture(scope="session")
def _tiny_template(tmp_path_factory) -> Path:
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny_template") / "ds")


@pytest.fixture
def tiny_dataset(_tiny_template, tmp_path) -> Path:
    """A fresh copy (tests write caches into it) of a 2-record dataset: 96x96, 40 frames, records [2, 38)."""
    dst = tmp_path / "ds"
    shutil.copytree(_tiny_template, dst)
    return dst


@pytest.fixture(scope="session")
def i3d_weights(tmp_path_factory) -> Path:
    """A randomly initialised I3D state_dict in family B naming (no real checkpoint can be downloaded)."""
    import torch

    from judgemind.features.i3d import InceptionI3d

    torch.manual_seed(0)
    p = tmp_path_factory.mktemp("i3d") / "i3d_random.pt"
    torch.save(InceptionI3d(num_classes=400).state_dict(), p)
    return p


@pytest.fixture(scope="session")
def videomae_dir(tmp_path_factory) -> Path:
    """A tiny randomly initialised VideoMAE saved with save_pretrained (no download)."""
    import torch
    from transformers import VideoMAEConfig, VideoMAEModel

    torch.manual_seed(0)
    cfg = VideoMAEConfig(
        image_size=32,
        patch_size=16,
        num_frames=4,
        tubelet_size=2,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    d = tmp_path_factory.mktemp("videomae") / "tiny_videomae"
    VideoMAEModel(cfg).save_pretrained(d)
    return d


# cheap settings per extractor, so that the registry-wide tests stay fast on 2 shared cores
SMALL_OPTIONS = {
    "tiny3d": {"steps": 6},
    "pose": {"steps": 4},
    "i3d": {"n_frames": 16, "clip_len": 8, "stride": 8, "size": 32},
    "videomae": {"steps": 3},
}


@pytest.fixture
def extractor_options(i3d_weights, videomae_dir):
    """``name -> options`` that build each built-in extractor cheaply (with weights where it needs them)."""
    weights = {"i3d": str(i3d_weights), "videomae": str(videomae_dir)}

    def options(name: str) -> dict:
        o = dict(SMALL_OPTIONS.get(name, {}))
        if name in weights:
            o["weights"] = weights[name]
        return o

    return options
