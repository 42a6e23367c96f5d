"""Cheap facts about a video file (frame count, fps, size, rotation) without decoding it all.

``width`` / ``height`` are the *coded* size; ``display_width`` / ``display_height`` apply the rotation metadata
(a phone video stored landscape with a 90 degree display matrix is shown portrait, and
:mod:`judgemind.video.decode` returns it portrait).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from judgemind.errors import VideoError
from judgemind.limits import max_frames, max_video_pixels
from judgemind.rules.names import DEFAULT_FPS
from judgemind.utils import display_text, not_a_file_reason
from judgemind.utils.optional import load_av


@dataclass(frozen=True)
class VideoInfo:
    path: str
    n_frames: int
    fps: float
    width: int
    height: int
    codec: str
    rotation: int = 0  # counter-clockwise degrees to turn a decoded frame to display it (0, 90, 180, -90)

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, -90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, -90, 270) else self.height


def check_file(path: Path) -> None:
    """The failures that need no decoder: absent, not a regular file (folder, FIFO, link loop), unreadable, empty."""

    why = not_a_file_reason(path)
    if why == "does not exist":
        raise VideoError(
            f"{display_text(path)}: no such video file (check the record's `video` path and the dataset folder)"
        )
    if why:
        raise VideoError(f"{display_text(path)}: {why}")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes); re-copy or re-encode it")


def _rotation(container, stream) -> int:
    """Display rotation, read from the first decoded frame's display matrix (FFmpeg >= 6 no longer exposes the
    old ``rotate`` tag); falls back to that tag for old files. Normalised to 0, 90, 180 or -90."""
    av = load_av()

    rot = 0
    try:
        frame = next(container.decode(stream), None)
        if frame is not None:
            rot = int(round(getattr(frame, "rotation", 0) or 0))
    except av.error.FFmpegError:
        rot = 0  # the decode itself is checked (and reported) where the frames are read
    if not rot:
        try:
            # the legacy tag is clockwise; the display matrix angle is counter-clockwise
            rot = -int(float(stream.metadata.get("rotate", 0)))
        except (TypeError, ValueError):
            rot = 0
    rot = (int(round(rot / 90.0)) * 90) % 360
    return -90 if rot == 270 else rot


def probe_video(path: str | os.PathLike, count: bool = False) -> VideoInfo:
    """Open ``path`` with PyAV and read its first video stream's metadata.

    ``n_frames`` comes from the container when it records it; otherwise (or with ``count=True``) the packets
    are demuxed and counted, which is cheap compared with decoding. The rotation is read from the first decoded
    frame (one frame is decoded).

    Raises:
        VideoError: missing or empty file, not a video, no video stream (audio only), a codec this FFmpeg cannot
            decode, or a video stream without frames.
    """
    av = load_av()

    path = Path(path)
    check_file(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                kinds = sorted({s.type for s in container.streams}) or ["no streams"]
                raise VideoError(f"{path}: has no video stream (found: {', '.join(kinds)}); is it an audio file?")
            s = container.streams.video[0]
            if s.codec_context is None:
                raise VideoError(
                    f"{path}: the video codec is unknown to or not supported by this FFmpeg build; "
                    f"re-encode it, e.g. `ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4`"
                )
            fps = float(s.average_rate or s.guessed_rate or 0) or DEFAULT_FPS
            n = int(s.frames or 0)
            if n <= 0 or count:
                n = sum(1 for p in container.demux(s) if p.size)
                if n > 0:
                    container.seek(0)
            rot = _rotation(container, s) if n > 0 else 0
            info = VideoInfo(
                str(path), n, fps, s.codec_context.width, s.codec_context.height, s.codec_context.name, rot
            )
    except VideoError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise VideoError(f"{path}: cannot be opened as a video: {_diagnose(path)} (FFmpeg: {e})") from e
    if info.n_frames <= 0:
        raise VideoError(f"{path}: the video stream has no frames")
    if info.width <= 0 or info.height <= 0:  # e.g. a GIF header and nothing after it
        raise VideoError(f"{path}: the video stream has no picture ({info.width}x{info.height} pixels); not a video")

    if info.width * info.height > max_video_pixels():
        raise VideoError(
            f"{path}: {info.width}x{info.height} pixels is larger than judgemind decodes "
            f"({max_video_pixels()} pixels; set JUDGEMIND_MAX_VIDEO_PIXELS to allow more, or scale the "
            f"video down, e.g. `ffmpeg -i IN -vf scale=-2:1080 OUT.mp4`)"
        )
    if info.n_frames > max_frames():
        raise VideoError(
            f"{path}: {info.n_frames} frames is more than judgemind reads ({max_frames()}; set "
            f"JUDGEMIND_MAX_FRAMES to allow more)"
        )
    return info


def _diagnose(path: Path) -> str:
    """A guess at why FFmpeg refused a file, from its first bytes."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head[4:8] == b"ftyp":
        return (
            "it starts like an MP4/MOV file but its index cannot be read, so it is probably truncated (an "
            "incomplete copy, download or recording); re-copy it or repair it with `ffmpeg -i IN -c copy OUT.mp4`"
        )
    if head[:4] == b"RIFF" or head[:4] == b"\x1aE\xdf\xa3":
        return "it starts like an AVI/Matroska file but cannot be read: truncated or damaged; re-copy it"
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if head and printable / len(head) > 0.95:
        return "it is a text file, not a video; check the record's `video` path"
    return "not a video, or a damaged one"
