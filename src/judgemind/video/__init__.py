"""Video input: streaming, frame-accurate decoding (PyAV), athlete locators (registry) and the one crop geometry
(:mod:`judgemind.video.crop`).

from judgemind.video import open_video, read_frames, iter_frames, sample_indices, get_locator
"""

from judgemind.video.decode import VideoReader, iter_frames, open_video, output_size, read_frames, sample_indices
from judgemind.video.locators import Detection, get_locator, list_locators, register_locator
from judgemind.video.probe import VideoInfo, probe_video

__all__ = [
    "VideoReader",
    "iter_frames",
    "open_video",
    "output_size",
    "read_frames",
    "sample_indices",
    "Detection",
    "get_locator",
    "list_locators",
    "register_locator",
    "VideoInfo",
    "probe_video",
]
