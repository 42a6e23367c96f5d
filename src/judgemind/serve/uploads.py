"""Uploaded clips: the multipart body streamed straight into the server's ``uploads/`` folder under limits, each
file checked with the project's video probe (never the client's name or type), and stored under the job's id.

Nothing the client sends names a stored file: a part is written to a hidden ``uploads/.upload-<random>.part``
file, and a clip that passes the checks is renamed to ``uploads/<job id><ext>`` (the extension from the container
PyAV found). The client's file name is kept only as a display name, made printable and stripped of folders and
path characters (:func:`display_name`). A body past its limits, a part that is not a video, an empty file: the
temporary file is deleted and the page says which file and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from judgemind.errors import JudgemindError, VideoError
from judgemind.infer.round import folder_name
from judgemind.utils.optional import load_av
from judgemind.video.probe import probe_video

MAX_FIELD_BYTES = 256 << 10  # a form field (a code, the codes text, the CSRF token)
MAX_FIELDS = 400
# container format (PyAV's name, first of its aliases) -> the extension a stored clip gets
_EXTENSIONS = {
    "mov": ".mp4",
    "mp4": ".mp4",
    "avi": ".avi",
    "matroska": ".mkv",
    "webm": ".webm",
    "mpeg": ".mpg",
    "mpegts": ".ts",
    "flv": ".flv",
    "asf": ".wmv",
    "ogg": ".ogv",
}


class UploadRefused(JudgemindError):
    """The whole request is refused (too large, malformed, no CSRF token before the first file): ``status``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 500 << 20
    max_files: int = 100

    @property
    def max_body_bytes(self) -> int:
        return self.max_files * (self.max_file_bytes + (64 << 10)) + MAX_FIELDS * MAX_FIELD_BYTES


@dataclass
class Part:
    """One file of a request: its display name, where its bytes went, how many, and what was wrong."""

    name: str
    path: Path | None = None
    size: int = 0
    error: str | None = None


@dataclass
class _Current:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    field_name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: Part | None = None
    handle: object = None


def display_name(client_name: str) -> str:
    """The clip's name as the pages show it: the client's file name without folders or extension, made
    printable (:func:`judgemind.infer.round.folder_name`); never used to name a file."""
    base = client_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    return folder_name(stem)


class _Reader:
    """python-multipart callbacks that write file parts into ``folder`` (see the module docstring)."""

    def __init__(self, folder: Path, limits: Limits, before_file: Callable[[dict], str | None]):
        self.folder, self.limits, self.before_file = folder, limits, before_file
        self.fields: dict[str, list[str]] = {}
        self.files: list[Part] = []
        self.cur = _Current()
        self._hname = b""
        self._hvalue = b""
        self.n_fields = 0
        self.refused: UploadRefused | None = None

    def on_part_begin(self) -> None:
        self.cur = _Current()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def on_header_end(self) -> None:
        self.cur.headers.append((self._hname.lower(), self._hvalue))
        self._hname, self._hvalue = b"", b""

    def on_headers_finished(self) -> None:
        disp = next((v for k, v in self.cur.headers if k == b"content-disposition"), b"")
        _, opts = parse_options_header(disp)
        if b"name" not in opts:
            raise UploadRefused("a form part without a name")
        self.cur.field_name = opts[b"name"].decode("utf-8", "replace")
        if b"filename" not in opts:
            self.n_fields += 1
            if self.n_fields > MAX_FIELDS:
                raise UploadRefused(f"more than {MAX_FIELDS} form fields", 413)
            return
        why = self.before_file(self.fields)
        if why:
            raise UploadRefused(why, 403)
        if len(self.files) >= self.limits.max_files:
            raise UploadRefused(f"more than {self.limits.max_files} files in one upload; send them in parts", 413)
        part = Part(display_name(opts[b"filename"].decode("utf-8", "replace")))
        part.path = self.folder / f".upload-{secrets.token_hex(12)}.part"
        self.cur.handle = open(part.path, "xb")
        self.cur.file = part
        self.files.append(part)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        part = self.cur.file
        if part is None:
            if len(self.cur.data) + len(chunk) > MAX_FIELD_BYTES:
                raise UploadRefused(f"form field {self.cur.field_name!r} is over {MAX_FIELD_BYTES >> 10} KB", 413)
            self.cur.data.extend(chunk)
            return
        part.size += len(chunk)
        if part.error is None and part.size > self.limits.max_file_bytes:
            part.error = f"is larger than the upload limit ({self.limits.max_file_bytes / 2**20:g} MB)"
            self._drop(part)
        if part.error is None:
            self.cur.handle.write(chunk)

    def on_part_end(self) -> None:
        if self.cur.file is None:
            self.fields.setdefault(self.cur.field_name, []).append(self.cur.data.decode("utf-8", "replace"))
        elif self.cur.handle is not None:
            self.cur.handle.close()
            self.cur.handle = None

    def _drop(self, part: Part) -> None:
        if self.cur.handle is not None:
            self.cur.handle.close()
            self.cur.handle = None
        if part.path is not None:
            part.path.unlink(missing_ok=True)
            part.path = None

    def cleanup(self) -> None:
        """Delete every temporary file (the request failed as a whole)."""
        if self.cur.handle is not None:
            self.cur.handle.close()
        for p in self.files:
            if p.path is not None:
                p.path.unlink(missing_ok=True)
                p.path = None


async def read_upload(
    request, folder: Path, limits: Limits, before_file: Callable[[dict], str | None]
) -> tuple[dict[str, list[str]], list[Part]]:
    """The fields and files of a ``multipart/form-data`` request, the files streamed into hidden temporary files
    of ``folder``. ``before_file(fields so far)`` is asked before the first byte of each file is stored and may
    refuse the request (the CSRF token must come before the files). Raises :class:`UploadRefused`."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise UploadRefused("expected a multipart/form-data upload (a form with enctype=multipart/form-data)", 415)
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limits.max_body_bytes):
        raise UploadRefused(f"the upload is larger than the server accepts ({limits.max_body_bytes >> 20} MB)", 413)
    folder.mkdir(parents=True, exist_ok=True)
    reader = _Reader(folder, limits, before_file)
    cb = {k: getattr(reader, k) for k in dir(reader) if k.startswith("on_")}
    parser = MultipartParser(params[b"boundary"], cb)
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limits.max_body_bytes:
                raise UploadRefused(
                    f"the upload is larger than the server accepts ({limits.max_body_bytes >> 20} MB)", 413
                )
            parser.write(chunk)
            await asyncio.sleep(0)  # let other requests in between chunks of a large upload
        parser.finalize()
    except FormParserError:
        reader.cleanup()
        raise UploadRefused("the upload is not valid multipart/form-data") from None
    except BaseException:
        reader.cleanup()
        raise
    return reader.fields, reader.files


def container_extension(path: Path) -> str:
    """The extension for a stored clip, from the container format PyAV reads in it (``.video`` if unknown)."""
    av = load_av()
    with av.open(str(path)) as c:
        names = (c.format.name or "").split(",")
    return next((_EXTENSIONS[n] for n in names if n in _EXTENSIONS), ".video")


def check_clip(part: Part) -> str | None:
    """Why an uploaded part cannot be scored (empty, too large, not a video PyAV can open, no frames, too many
    frames or pixels: :func:`judgemind.video.probe.probe_video`), or None. Messages name the clip, not the
    temporary file."""
    if part.error:
        return part.error
    if part.path is None or part.size == 0:
        return "is empty (0 bytes)"
    try:
        probe_video(part.path)
        container_extension(part.path)
    except VideoError as e:
        text = str(e).replace(str(part.path), part.name)
        return text[len(part.name) + 2 :] if text.startswith(part.name + ": ") else text
    except Exception as e:  # noqa: BLE001 -- whatever the decoder says about a hostile file, it is not a clip
        return f"cannot be opened as a video ({type(e).__name__})"
    return None


def store_clip(part: Part, folder: Path, job_id: str) -> str:
    """Move a checked part to ``folder/<job id><ext>``; returns its name there."""
    assert part.path is not None
    name = f"{job_id}{container_extension(part.path)}"
    os.replace(part.path, folder / name)
    part.path = None
    return name


def discard(parts: list[Part]) -> None:
    for p in parts:
        if p.path is not None:
            with contextlib.suppress(OSError):
                p.path.unlink()
            p.path = None


def remove_stale_uploads(folder: Path) -> int:
    """Delete the temporary files a killed server left in ``uploads/`` (at start-up, under the server lock)."""
    n = 0
    if folder.is_dir():
        for p in folder.glob(".upload-*.part"):
            p.unlink(missing_ok=True)
            n += 1
    return n
