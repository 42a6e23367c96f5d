"""The optional and costly dependencies, imported in one place on first use (so importing judgemind stays cheap and
works without the ``video`` / ``pose`` extras): PyAV (decoding and writing videos), OpenCV (resizing, drawing, JPEG)
and matplotlib's pyplot on the file-only Agg backend."""

from __future__ import annotations

__all__ = ["load_av", "load_cv2", "load_pyplot"]


def load_av():
    """The ``av`` module (PyAV; the ``video`` extra)."""
    import av  # noqa: PLC0415 -- optional dependency (judgemind[video])

    return av


def load_cv2():
    """The ``cv2`` module (opencv-python-headless; the ``video`` and ``pose`` extras)."""
    import cv2  # noqa: PLC0415 -- optional dependency (judgemind[video] / judgemind[pose])

    return cv2


def load_pyplot():
    """``matplotlib.pyplot`` on the Agg backend (PNG files only, nothing on screen)."""
    import matplotlib  # noqa: PLC0415 -- start-up time (~0.3 s): only the commands that draw load it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 -- start-up time, after the backend is chosen

    return plt
