"""Cheap facts about a video file (frame count, fps, size) without decoding it all when the container knows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from judgemind.errors import VideoError


@dataclass(frozen=True)
class VideoInfo:
    path: str
    n_frames: int
    fps: float
    width: int
    height: int
    codec: str
    rotation: int = 0


def probe_video(path: str | os.PathLike, count: bool = False) -> VideoInfo:
    """Open ``path`` with PyAV and read its first video stream's metadata.

    ``n_frames`` comes from the container when it records it; otherwise (or with ``count=True``) the packets
    are demuxed and counted, which is cheap compared with decoding.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes)")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: has no video stream (audio only or not a video)")
            s = container.streams.video[0]
            fps = float(s.average_rate or s.guessed_rate or 0) or 25.0
            n = int(s.frames or 0)
            if n <= 0 or count:
                n = sum(1 for p in container.demux(s) if p.size)
            rot = 0
            try:
                rot = int(float(s.metadata.get("rotate", 0)))
            except (TypeError, ValueError):
                rot = 0
            info = VideoInfo(str(path), n, fps, s.codec_context.width, s.codec_context.height,
                             s.codec_context.name, rot)
    except VideoError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise VideoError(f"{path}: cannot be opened as a video ({e})") from e
    if info.n_frames <= 0:
        raise VideoError(f"{path}: the video has no frames")
    return info
