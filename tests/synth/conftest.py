"""Small SynthAerials datasets shared by the synth tests (tiny frames, low frame rate: fast on 2 cores)."""

from __future__ import annotations

import pytest

from judgemind.synth import generate

SMALL = dict(n=6, seed=3, size=64, fps=10, progress=False)


@pytest.fixture(scope="session")
def small_kwargs() -> dict:
    """Settings of ``small_dataset`` (without the worker count)."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    """A rendered 6-jump dataset (64 px, 10 fps), written with one worker."""
    root = tmp_path_factory.mktemp("synth") / "small"
    return generate(root, workers=1, **SMALL)
