"""JSON in and out: strict parsing with one-line errors, and atomic writes.

Reading refuses what would make a traceback or take the machine downstream: files above
:data:`~colgen.limits.MAX_FILE_BYTES`, nesting deeper than :data:`~colgen.limits.MAX_DEPTH` (checked on
the raw bytes before parsing), NaN/Infinity and numbers that overflow to them (``1e999``), integers
of more than :data:`~colgen.limits.MAX_INT_DIGITS` digits, and duplicate keys.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from colgen.errors import InputError
from colgen.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_INT_DIGITS

_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"\\')
_NUMBERS = bytes.maketrans(b"0123456789E-", b"0000000000e+")


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text, brackets inside strings excluded.
    Only brackets, quotes and backslashes are looked at (``bytes.translate`` drops the rest in C)."""
    b = np.frombuffer(raw.translate(None, _STRUCTURE), dtype=np.uint8)
    quotes = np.flatnonzero(b == ord('"'))
    if len(quotes) and (b == ord("\\")).any():      # drop escaped quotes (odd runs of backslashes)
        keep = np.ones(len(quotes), dtype=bool)
        for i in np.flatnonzero(b[np.maximum(quotes - 1, 0)] == ord("\\")):
            q, run = int(quotes[i]), 0
            while q - run - 1 >= 0 and b[q - run - 1] == ord("\\"):
                run += 1
            keep[i] = run % 2 == 0
        quotes = quotes[keep]
    opening = (b == ord("[")) | (b == ord("{"))
    brackets = np.flatnonzero(opening | (b == ord("]")) | (b == ord("}")))
    brackets = brackets[np.searchsorted(quotes, brackets) % 2 == 0]   # an even number of quotes before
    if not len(brackets):
        return 0
    return int(np.cumsum(np.where(opening[brackets], 1, -1)).max())


def _unusual_numbers(raw: bytes) -> bool:
    """Whether the text may hold a number that overflows (an exponent of three digits or more) or an
    integer longer than :data:`MAX_INT_DIGITS` digits: then numbers are parsed one by one, checked."""
    t = raw.translate(_NUMBERS)
    return b"e000" in t or b"e+000" in t or b"0" * (MAX_INT_DIGITS + 1) in t


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_json(text: str | bytes) -> Any:
    """``json.loads`` that rejects NaN/Infinity (also as overflowing literals such as ``1e999``),
    huge integers, duplicate keys and deep nesting, with a one-line message."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    depth = nesting_depth(raw)
    if depth > MAX_DEPTH:
        raise InputError("(json)", f"nests {depth} levels deep, more than the limit of {MAX_DEPTH}",
                         "give an instance or result file as colgen writes them")

    def no_constant(name: str) -> None:
        raise InputError("(json)", f"{name} is not a number JSON allows", "write a finite number")

    def finite(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise InputError("(json)", f"the number {_short(literal)} is out of range (not finite)",
                             "write a finite number")
        return value

    def whole(literal: str) -> int:
        if len(literal.lstrip("-")) > MAX_INT_DIGITS:
            raise InputError("(json)", f"the integer {_short(literal)} has {len(literal.lstrip('-'))} digits, "
                             f"more than the limit of {MAX_INT_DIGITS}", "write a smaller number")
        return int(literal)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise InputError("(json)", f"key '{_short(key)}' appears twice in one object", "keep one")
            out[key] = value
        return out

    checked = {"parse_float": finite, "parse_int": whole} if _unusual_numbers(raw) else {}
    try:
        if not isinstance(text, str):
            text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("(json)", "is not UTF-8 text", "give a JSON file") from None
    try:
        return json.loads(text, parse_constant=no_constant, object_pairs_hook=no_duplicates, **checked)
    except json.JSONDecodeError as exc:
        raise InputError(f"(json) line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}",
                         "fix the syntax") from None
    except InputError:
        raise
    except ValueError as exc:       # e.g. an integer beyond Python's digit limit in a string-free path
        raise InputError("(json)", f"unreadable number ({_short(str(exc), 80)})", "write a smaller number") from None
    except RecursionError:          # the depth check above makes this unreachable; never a traceback
        raise InputError("(json)", f"nests more than {MAX_DEPTH} levels deep", "give a flatter file") from None


def read_json(path: str | Path, what: str = "JSON") -> Any:
    """Parse a JSON file; errors name the file."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(str(path), "is a directory", f"give a {what} file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(str(path), f"has {size:,} bytes, more than the limit of {MAX_FILE_BYTES:,}",
                             f"give a smaller {what} file (describe large networks with cluster.topology)")
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)            # a file that grows meanwhile is still capped
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file ({exc.strerror or exc})", "check the path") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(str(path), f"has more than {MAX_FILE_BYTES:,} bytes", f"give a smaller {what} file")
    try:
        return parse_json(raw)
    except InputError as exc:
        raise exc.with_source(str(path)) from None


def _mode_for(path: Path) -> int:
    """The mode ``open(path, "w")`` would leave: the existing file's, else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)   # reading the umask means setting it; put it straight back
        os.umask(mask)
        return 0o666 & ~mask


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` so that readers see the old file or the new one, never a partial one.

    The file gets the mode an ordinary ``open(path, "w")`` would give it (an existing file keeps its
    mode, a new one gets 0666 less the umask), not the 0600 of the temporary file it goes through.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """:func:`write_bytes_atomic` of ``text`` in UTF-8."""
    write_bytes_atomic(path, text.encode())


def write_json_atomic(path: str | Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n")
