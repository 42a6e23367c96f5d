"""Errors that the command line reports to users as a one-line message and a non-zero exit."""

from __future__ import annotations


class JudgemindError(Exception):
    """A problem with the user's input or environment; the message says what, where and what to do."""

    exit_code = 2


class ValidationError(JudgemindError):
    """A dataset, record or field broke a rule. ``problems`` holds every problem found, not just the first."""

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class UnknownJumpCode(JudgemindError):
    """A jump code that is not in the DD table (or cannot be parsed)."""


class CheckpointError(JudgemindError):
    """A checkpoint that is missing, unsafe, or of another model/config."""


class VideoError(JudgemindError):
    """A video that cannot be opened, decoded or sampled as asked."""
