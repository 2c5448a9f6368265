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


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n")
