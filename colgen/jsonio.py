"""JSON in and out: strict parsing with one-line errors, and atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from colgen.errors import InputError


def parse_json(text: str) -> Any:
    """``json.loads`` that rejects NaN/Infinity and duplicate keys, with a one-line message."""

    def no_constant(name: str) -> None:
        raise InputError("(json)", f"{name} is not a number JSON allows", "write a finite number")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise InputError("(json)", f"key '{key}' appears twice in one object", "keep one")
            out[key] = value
        return out

    try:
        return json.loads(text, parse_constant=no_constant, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError(f"(json) line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}",
                         "fix the syntax") from None


def read_json(path: str | Path) -> Any:
    """Parse a JSON file; errors name the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file ({exc.strerror})", "check the path") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "is not a UTF-8 text file", "give a JSON file") from None
    try:
        return parse_json(text)
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
