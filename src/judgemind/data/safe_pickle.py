"""Load annotation pickles of other datasets without running their code.

``pickle.load`` runs whatever callable the file names (``os.system``, ``subprocess.Popen``, ...), so an annotation
file from the internet must never be unpickled as is. :class:`SafeUnpickler` resolves only an allow-list of globals:
plain containers, numbers, strings/bytes and what numpy needs to rebuild arrays, dtypes and scalars; anything else
raises :class:`~judgemind.errors.JudgemindError` naming the file and the refused global.

    data = safe_load_pickle("FineDiving/Annotations/train_split.pkl")

Pickles written by numpy 1.x name ``numpy.core.*``, those written by numpy 2.x name ``numpy._core.*``; both are
admitted and resolved against whichever numpy is installed. Pickles written with protocol < 3 encode bytes with
``_codecs.encode(text, "latin1")``; that one call is admitted, restricted to latin-1.
"""

from __future__ import annotations

import builtins
import codecs
import importlib
import io
import os
import pickle
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.limits import max_pickle_bytes, max_pickle_object_bytes
from judgemind.utils import not_a_file_reason

__all__ = ["ALLOWED_GLOBALS", "SafeUnpickler", "safe_load_pickle", "safe_loads_pickle"]

# Plain builtin types. Pickle protocols >= 2 rebuild most of them with opcodes (no global at all); protocols 0-2
# name some of them (``__builtin__.set``, ``builtins.complex``) as globals.
_BUILTINS = (
    "dict",
    "list",
    "tuple",
    "set",
    "frozenset",
    "int",
    "float",
    "complex",
    "str",
    "bytes",
    "bytearray",
    "bool",
)

# numpy globals by their name inside the numpy package: exactly those that ndarray / dtype / scalar reduction
# produce (``ndarray.__reduce_ex__`` for protocols <= 4 and 5, ``dtype.__reduce__``, ``generic.__reduce__``).
_NUMPY = {
    ("", "ndarray"),
    ("", "dtype"),
    ("core.multiarray", "_reconstruct"),
    ("core.multiarray", "scalar"),
    ("core.numeric", "_frombuffer"),
}

ALLOWED_GLOBALS: frozenset[str] = frozenset(
    [f"builtins.{n}" for n in _BUILTINS]
    + [f"__builtin__.{n}" for n in _BUILTINS]
    + [f"numpy.{n}" if not m else f"numpy.{m}.{n}" for m, n in _NUMPY]
    + [f"numpy._{m}.{n}" for m, n in _NUMPY if m]
    + ["_codecs.encode"]
)
"""Every ``module.name`` a pickle may reference (shown in the refusal message)."""


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """``_codecs.encode`` as protocol 0-2 pickles use it for ``bytes``; any other use is refused."""
    if not isinstance(text, str) or codecs.lookup(encoding).name != "iso8859-1" or errors != "strict":
        raise pickle.UnpicklingError(
            f"_codecs.encode is only allowed as encode(str, 'latin1'), got encoding {encoding!r}"
        )
    return text.encode("latin1")


def _numpy_global(submodule: str, name: str) -> Any:
    """Resolve ``numpy[.<submodule>].<name>`` against the installed numpy (``core`` and ``_core`` are the same
    module under the names numpy 1.x and 2.x use)."""
    if not submodule:
        return getattr(importlib.import_module("numpy"), name)
    rest = submodule.split(".", 1)[1]
    last_error: Exception | None = None
    for pkg in ("numpy._core", "numpy.core"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # numpy 2 warns on numpy.core
                return getattr(importlib.import_module(f"{pkg}.{rest}"), name)
        except (ImportError, AttributeError) as e:
            last_error = e
    raise pickle.UnpicklingError(f"numpy has no {submodule}.{name}: {last_error}")


def _too_big(n: int, what: str) -> pickle.UnpicklingError:

    return pickle.UnpicklingError(
        f"{what} of {n} bytes is larger than one pickled object may be "
        f"({max_pickle_object_bytes()} bytes; set JUDGEMIND_MAX_PICKLE_OBJECT_BYTES to "
        f"allow more)"
    )


def _bounded_builtin(ctor: Callable) -> Callable:
    """``ctor`` (bytes, bytearray, str, list, ...) refusing arguments that ask for a huge allocation: an integer
    size (``bytearray(10**15)``) or an oversized string/bytes argument."""

    def make(*args):
        limit = max_pickle_object_bytes()
        for a in args:
            if isinstance(a, int) and not isinstance(a, bool) and ctor in (bytes, bytearray) and abs(a) > limit:
                raise _too_big(a, f"{ctor.__name__}({a})")
            if isinstance(a, (str, bytes, bytearray)) and len(a) > limit:
                raise _too_big(len(a), f"an argument of {ctor.__name__}")
        return ctor(*args)

    make.__name__ = ctor.__name__
    return make


def _bounded_reconstruct(fn: Callable) -> Callable:
    """numpy's ``_reconstruct(subtype, shape, dtype)`` refusing a shape whose array would be huge."""

    def make(subtype, shape, dtype, *rest):
        if subtype is not np.ndarray:
            raise pickle.UnpicklingError(f"numpy _reconstruct of {subtype!r} is not allowed")
        dims = shape if isinstance(shape, tuple) else (shape,)
        if not all(isinstance(d, int) and d >= 0 for d in dims):
            raise pickle.UnpicklingError(f"bad array shape {shape!r}")
        n = 1
        for d in dims:
            n *= d
        itemsize = np.dtype(dtype).itemsize if not isinstance(dtype, bytes) else 1
        if n * max(itemsize, 1) > max_pickle_object_bytes():
            raise _too_big(n * max(itemsize, 1), f"an array of shape {shape}")
        return fn(subtype, shape, dtype, *rest)

    return make


def _resolve(module: str, name: str) -> Callable | type | None:
    """The object for an allowed global, or ``None`` when it is not allowed."""
    full = f"{module}.{name}"
    if full not in ALLOWED_GLOBALS:
        return None
    if module in ("builtins", "__builtin__"):
        return _bounded_builtin(getattr(builtins, name))
    if full == "_codecs.encode":
        return _latin1_encode
    sub = module[len("numpy.") :] if module.startswith("numpy.") else ""
    if sub.startswith("_core"):
        sub = "core" + sub[len("_core") :]
    obj = _numpy_global(sub, name)
    return _bounded_reconstruct(obj) if name == "_reconstruct" else obj


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain data (containers, numbers, strings, bytes, numpy arrays and scalars).

    ``source`` names the file in error messages.
    """

    def __init__(self, file, *, source: str = "<pickle>"):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):  # noqa: D401 - pickle API
        obj = _resolve(module, name)
        if obj is None:
            raise JudgemindError(
                f"refusing to load {module}.{name} from {self.source}: only plain data is allowed (containers, "
                f"numbers, strings and numpy arrays); this file may be unsafe or not an annotation file"
            )
        return obj

    def persistent_load(self, pid):
        raise JudgemindError(
            f"refusing to load a persistent object reference from {self.source}: only plain data is allowed"
        )


def safe_loads_pickle(data: bytes, source: str = "<bytes>") -> Any:
    """Unpickle ``data`` with :class:`SafeUnpickler`."""
    return _load(io.BytesIO(data), source)


def safe_load_pickle(path: str | os.PathLike) -> Any:
    """Unpickle the file at ``path`` with :class:`SafeUnpickler`.

    Raises :class:`JudgemindError` when the file is missing, refers to a global outside the allow-list, or is not
    a readable pickle.
    """

    path = Path(path)
    why = not_a_file_reason(path)
    if why == "does not exist":
        raise JudgemindError(f"{path}: no such pickle file")
    if why:
        raise JudgemindError(f"{path}: {why}")
    size = path.stat().st_size
    if size > max_pickle_bytes():
        raise JudgemindError(
            f"{path}: {size} bytes is larger than an annotation pickle may be ({max_pickle_bytes()}; "
            f"set JUDGEMIND_MAX_PICKLE_BYTES to allow more)"
        )
    with open(path, "rb") as fh:
        return _load(fh, str(path))


def _load(fh, source: str) -> Any:
    try:
        return SafeUnpickler(fh, source=source).load()
    except JudgemindError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        ImportError,
        IndexError,
        KeyError,
        UnicodeDecodeError,
        OverflowError,
        MemoryError,
        RecursionError,
    ) as e:
        raise JudgemindError(f"{source}: cannot be read as a plain-data pickle ({type(e).__name__}: {e})") from e
