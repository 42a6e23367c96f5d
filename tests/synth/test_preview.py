"""The contact sheet shows several jumps with stage and fault labels."""

from __future__ import annotations

import cv2
import pytest

from judgemind.errors import JudgemindError
from judgemind.synth import write_preview


def test_preview_png(small_dataset, tmp_path):
    png = write_preview(small_dataset, tmp_path / "contact.png", max_jumps=3, frames_per_jump=4, tile=96)
    img = cv2.imread(str(png))
    assert img is not None
    assert img.shape[1] == 4 * 96 and img.shape[0] > 3 * 96
    assert img.std() > 10  # not a blank image
    assert not list(tmp_path.glob(".*part*"))


def test_preview_needs_a_synth_dataset(tmp_path):
    with pytest.raises(JudgemindError, match="not a SynthAerials dataset"):
        write_preview(tmp_path, tmp_path / "c.png")
    with pytest.raises(JudgemindError, match=".png"):
        write_preview(tmp_path, tmp_path / "c.txt")
