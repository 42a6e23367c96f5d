"""Size limits on untrusted input, so that one number in a file cannot make judgemind hang or exhaust memory.

Every limit has a default that real aerials / diving data stay far below, and an environment variable to raise it
when a user's data really needs more (docs/reliability.md lists them):

=========================  ==========================  ========================================================
limit                      default                     environment variable
=========================  ==========================  ========================================================
frame index / count        10_000_000 frames           ``JUDGEMIND_MAX_FRAMES`` (about 3.8 days at 30 fps)
time steps per record      4096                        ``JUDGEMIND_MAX_STEPS`` (extractor ``steps``)
video size                 4096 x 4096 pixels          ``JUDGEMIND_MAX_VIDEO_PIXELS`` (width x height)
pickle file size           1 GiB                       ``JUDGEMIND_MAX_PICKLE_BYTES``
one pickled object         256 MiB                     ``JUDGEMIND_MAX_PICKLE_OBJECT_BYTES`` (bytes, arrays, ...)
one .npy array             256 MiB                     ``JUDGEMIND_MAX_ARRAY_BYTES`` (skeletons, score vectors)
record id                  200 characters              (fixed: cache file names must stay portable)
=========================  ==========================  ========================================================
"""

from __future__ import annotations

import os

from judgemind.errors import JudgemindError


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise JudgemindError(f"environment variable {name}={text!r} must be a positive integer") from None
    if value < 1:
        raise JudgemindError(f"environment variable {name}={text!r} must be a positive integer")
    return value


def max_frames() -> int:
    """Largest frame index (exclusive) a record, a segment or a video may use."""
    return _env_int("JUDGEMIND_MAX_FRAMES", 10_000_000)


def max_steps() -> int:
    """Largest number of time steps an extractor may produce per record."""
    return _env_int("JUDGEMIND_MAX_STEPS", 4096)


def max_video_pixels() -> int:
    """Largest width x height of a video that is decoded."""
    return _env_int("JUDGEMIND_MAX_VIDEO_PIXELS", 4096 * 4096)


def max_pickle_bytes() -> int:
    """Largest annotation pickle file that is read."""
    return _env_int("JUDGEMIND_MAX_PICKLE_BYTES", 1 << 30)


def max_pickle_object_bytes() -> int:
    """Largest single object (bytes, bytearray, string, array) a pickle may ask to allocate."""
    return _env_int("JUDGEMIND_MAX_PICKLE_OBJECT_BYTES", 256 << 20)


def max_array_bytes() -> int:
    """Largest array a ``.npy`` file may declare (shape x item size; checked before it is read)."""
    return _env_int("JUDGEMIND_MAX_ARRAY_BYTES", 256 << 20)


MAX_ID_CHARS = 200
