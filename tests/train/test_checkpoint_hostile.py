"""Issue 14, classes 8 and 12: checkpoint contents are type-checked, and a refusal never tells the user to load
the file with weights_only=False."""

from __future__ import annotations

import fractions

import pytest
import torch

from judgemind.errors import CheckpointError
from judgemind.runs.checkpoint import FORMAT, load_checkpoint


def test_refusal_never_suggests_weights_only_false(tmp_path):
    p = tmp_path / "best.pt"
    torch.save({"format": FORMAT, "x": fractions.Fraction(1, 3)}, p)  # a global outside torch's allow-list
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(p)
    msg = str(e.value)
    assert "weights_only" not in msg and "fractions.Fraction" in msg and len(msg.splitlines()) == 1


GOOD = {"format": FORMAT, "model_name": "mlp", "config": {}, "data_info": {}, "model": {}, "epoch": 0}


@pytest.mark.parametrize(
    "change, key",
    [
        ({"model_name": None}, "model_name"),
        ({"config": [1]}, "config"),
        ({"model": {"w": 1}}, "model"),
        ({"epoch": "3"}, "epoch"),
        ({"epoch": True}, "epoch"),
        ({"features_manifest": [1]}, "features_manifest"),
    ],
)
def test_payload_types(tmp_path, change, key):
    p = tmp_path / "best.pt"
    torch.save({**GOOD, **change}, p)
    with pytest.raises(CheckpointError, match=key):
        load_checkpoint(p)


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_checkpoint_that_is_not_a_file(tmp_path, kind):
    import os

    p = tmp_path / "best.pt"
    p.mkdir() if kind == "folder" else os.mkfifo(p)
    with pytest.raises(CheckpointError, match="folder|FIFO"):
        load_checkpoint(p)
