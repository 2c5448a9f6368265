"""Reading the original solver's CSV files: rows with their line numbers, headers by column name,
numbers that must be finite. Every problem is an :class:`~colgen.errors.InputError` naming the file,
the line (and the column where there is one) and the fix."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from colgen.errors import InputError
from colgen.limits import MAX_FILE_BYTES, MAX_INT_DIGITS

FOLDER_FIX = "a legacy configuration folder holds config.csv, gpu_pool.csv and network_bandwidth.csv"


def _not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> InputError:
    start = exc.start
    line = data.count(b"\n", 0, start) + 1
    position = start - (data.rfind(b"\n", 0, start) + 1) + 1
    return InputError(f"{path} line {line}", f"is not UTF-8 text (byte 0x{data[start]:02x} at character {position})",
                      "save the file as UTF-8 CSV")


def read_rows(path: Path, fix: str = FOLDER_FIX) -> list[tuple[int, list[str]]]:
    """Non-empty rows with their line numbers; one-line errors for unreadable files, bytes that are
    not UTF-8 (with their line) and files separated by something other than commas."""
    try:
        if path.is_dir():
            raise InputError(str(path), "is a directory", fix)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(str(path), f"has {size:,} bytes, more than the limit of {MAX_FILE_BYTES:,}",
                             "give a smaller configuration")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror or exc})", fix) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, data, exc) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(c.strip() for c in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise InputError(f"{path} line {reader.line_num}", f"is not valid CSV ({exc})", "fix the row") from None
    if rows and len(rows[0][1]) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in rows[0][1][0]:
                raise InputError(f"{path} line {rows[0][0]}", f"separates its fields with {name}, not commas",
                                 "save the file as comma-separated values")
    return rows


def short(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def number(text: str, where: str, kind: type = float) -> Any:
    """``text`` as a finite float (or a whole number for ``kind=int``); ``nan``, ``inf`` and words are
    errors at ``where``."""
    text = text.strip()
    if kind is int:
        if not re.fullmatch(r"[+-]?\d+", text):
            _finite(text, where)
            raise InputError(where, f"'{short(text)}' is not a whole number", "fix the CSV value")
        if len(text.lstrip("+-")) > MAX_INT_DIGITS:
            raise InputError(where, f"'{text[:40]}...' has more than {MAX_INT_DIGITS} digits", "fix the CSV value")
        return int(text)
    if not text:
        raise InputError(where, "is empty", "give a number")
    return _finite(text, where)


def _finite(text: str, where: str) -> float:
    """``text`` as a finite float, or one line naming the cell."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(where, f"'{short(text)}' is not a number", "fix the CSV value") from None
    if not math.isfinite(value):
        raise InputError(where, f"'{short(text)}' is not a finite number", "fix the CSV value")
    return value


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell.strip())
    except ValueError:
        return False
    return True


@dataclass
class Table:
    """A CSV file read by column name, as the original reads its files (pandas): ``header`` maps each
    column name (as written) to its position; ``rows`` are the data rows with their line numbers."""

    path: Path
    header: dict[str, int]
    rows: list[tuple[int, list[str]]]

    def has(self, column: str) -> bool:
        return column in self.header

    def get(self, row: list[str], column: str) -> str | None:
        """The cell of ``column`` (stripped), ``None`` when the file has no such column or the row
        is short of it."""
        i = self.header.get(column)
        if i is None or i >= len(row):
            return None
        return row[i].strip()

    def where(self, line: int, column: str | None = None) -> str:
        return f"{self.path} line {line}" + (f": {column}" if column else "")


def read_table(path: Path, required: tuple[str, ...], known: tuple[str, ...] = (), *, fix: str = FOLDER_FIX,
               rows: list[tuple[int, list[str]]] | None = None) -> Table:
    """``path`` read with its header line, which must name the ``required`` columns (in any order,
    like pandas). A first line of data instead of a header is an error (the original would take it
    for the header and lose that row)."""
    rows = read_rows(path, fix) if rows is None else rows
    header_text = ",".join(required)
    if not rows:
        raise InputError(str(path), "is empty", f"give the header line '{header_text}' and the rows")
    line, first = rows[0]
    header: dict[str, int] = {}
    for i, cell in enumerate(first):
        name = cell.strip()
        if name and name in header:
            raise InputError(f"{path} line {line}", f"names the column '{short(name)}' twice",
                             "give every column once")
        if name:
            header[name] = i
    missing = [c for c in required if c not in header]
    if missing:
        if any(_looks_numeric(c) for c in first[1:]):
            raise InputError(f"{path} line {line}", f"has no header line ('{short(','.join(first), 60)}' is a row "
                             "of data, which the original would take for the header and lose)",
                             f"add the header line '{header_text}' first")
        raise InputError(f"{path} line {line}", f"the header has no column '{missing[0]}'",
                         f"the header line is '{header_text}'" + (f" (optional: {', '.join(known)})" if known else ""))
    return Table(path, header, rows[1:])
