"""Reading a ``.npy`` file that someone else made, without trusting its header.

``numpy.load`` reads the header's length and then the header before checking its size (a sparse file declaring a
1 GiB header costs 2 GB), and allocates whatever shape and dtype the header declares before reading a byte of
data (a 1 KB file declaring complex256 (1e6, 256, 6) is "out of memory"). :func:`read_npy` checks, in order and
before allocating anything:

1. the path is a regular file (a FIFO would block ``open``; a folder is named as one);
2. the magic and the version (1.0 or 2.0: what numpy writes for plain arrays), the header length against
   :data:`MAX_HEADER` (numpy's own default limit);
3. the header itself with numpy's parser (a literal dict, never code);
4. the dtype: a plain number kind (``kinds``), at most 8 bytes per item, no fields, no objects;
5. the shape (a caller's ``check``), then shape x itemsize against :func:`judgemind.limits.max_array_bytes` and
   against the bytes the file really holds after its header;

and then reads exactly the declared bytes into a new array.
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
from typing import BinaryIO, Callable

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.limits import max_array_bytes
from judgemind.utils import display_text, open_regular

MAGIC = b"\x93NUMPY"
MAX_HEADER = 10_000  # bytes; numpy's own default ``max_header_size`` (a real header is ~128 bytes)
MAX_ITEMSIZE = 8


def read_header(fh: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of the ``.npy`` file at ``fh``'s start, leaving ``fh`` at the data; raises
    ``ValueError`` saying what is wrong (never reads more than :data:`MAX_HEADER` bytes of header)."""
    magic = fh.read(len(MAGIC) + 2)
    if len(magic) < len(MAGIC) + 2 or magic[: len(MAGIC)] != MAGIC:
        raise ValueError("not a .npy file (no NUMPY magic; save it with numpy.save)")
    version = (magic[-2], magic[-1])
    if version not in ((1, 0), (2, 0)):
        raise ValueError(
            f".npy format version {version[0]}.{version[1]}; plain numeric arrays are versions 1.0 and 2.0"
        )
    fmt = "<H" if version == (1, 0) else "<I"
    raw_len = fh.read(struct.calcsize(fmt))
    if len(raw_len) < struct.calcsize(fmt):
        raise ValueError("the file ends inside its header")
    (length,) = struct.unpack(fmt, raw_len)
    if length > MAX_HEADER:
        raise ValueError(f"its header declares {length} bytes (at most {MAX_HEADER}; a real one is ~128)")
    header = fh.read(length)
    if len(header) < length:
        raise ValueError("the file ends inside its header")
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        with warnings.catch_warnings():  # numpy warns about headers written by Python 2
            warnings.simplefilter("ignore")
            shape, fortran, dtype = reader(io.BytesIO(raw_len + header), max_header_size=MAX_HEADER)
    except ValueError:
        raise
    except Exception as e:  # noqa: BLE001 -- numpy's literal parser raises SyntaxError, TokenError, RecursionError,
        # MemoryError, ... for a hostile header (it never runs code): all of them mean "not a header"
        raise ValueError(f"its header cannot be parsed ({type(e).__name__})") from None
    return tuple(shape), bool(fortran), dtype


def check_dtype(dtype: np.dtype, kinds: str, max_itemsize: int = MAX_ITEMSIZE) -> None:
    """A plain dtype of one of ``kinds`` (numpy kind letters), at most ``max_itemsize`` bytes; else
    ``ValueError``."""
    if dtype.hasobject:
        raise ValueError("it holds a pickled object array (dtype object); save a plain numeric array")
    if (
        dtype.fields is not None
        or dtype.subdtype is not None
        or dtype.kind not in kinds
        or dtype.itemsize > max_itemsize
    ):
        raise ValueError(
            f"dtype {dtype} is not a plain number type (allowed: {_kind_names(kinds)} of at most {max_itemsize} bytes)"
        )


def _kind_names(kinds: str) -> str:
    names = {"f": "float", "i": "int", "u": "unsigned int", "b": "bool", "U": "text"}
    return ", ".join(names.get(k, k) for k in kinds)


def read_npy(
    path: str | os.PathLike,
    what: str = "array",
    *,
    kinds: str = "fiub",
    check: Callable[[tuple[int, ...], np.dtype], None] | None = None,
    max_bytes: int | None = None,
    max_itemsize: int = MAX_ITEMSIZE,
) -> np.ndarray:
    """The array in the ``.npy`` file ``path`` (see the module docstring for what is checked before anything is
    allocated). ``check(shape, dtype)`` raises ``ValueError`` or :class:`JudgemindError` for a shape the caller
    cannot use. Every problem is a :class:`JudgemindError`
    ``"PATH: not a readable WHAT (.npy of plain numbers): why"`` (or ``"PATH: WHAT is a folder, not a file"``, ...)."""

    limit = max_array_bytes() if max_bytes is None else max_bytes
    name = display_text(path)

    with open_regular(path, what) as fh:
        try:
            shape, fortran, dtype = read_header(fh)
            check_dtype(dtype, kinds, max_itemsize)
            if any(not isinstance(n, int) or n < 0 for n in shape):
                raise ValueError(f"shape {shape} is not a tuple of sizes >= 0")
            if check is not None:
                check(shape, dtype)
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > limit:
                raise ValueError(
                    f"shape {shape} of {dtype} is {nbytes} bytes, over the limit of {limit} (JUDGEMIND_MAX_ARRAY_BYTES)"
                )
            have = os.fstat(fh.fileno()).st_size - fh.tell()
            if have < nbytes:
                raise ValueError(
                    f"shape {shape} of {dtype} needs {nbytes} bytes of data but the file holds {have} "
                    f"(a truncated file)"
                )
            arr = np.empty(math.prod(shape), dtype)
            got = fh.readinto(arr.view(np.uint8)) if nbytes else 0
        except ValueError as e:
            raise JudgemindError(f"{name}: not a readable {what} (.npy of plain numbers): {e}") from None
        except OSError as e:
            raise JudgemindError(f"{name}: {what} cannot be read ({e.strerror or e})") from None
    if got != nbytes:
        raise JudgemindError(f"{name}: {what} changed while it was read; re-run")
    return arr.reshape(shape, order="F" if fortran else "C")
