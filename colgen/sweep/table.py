"""The sweep's CSV table: one row per run, appended as runs finish, so an interrupted sweep resumes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from colgen.errors import InputError
from colgen.jsonio import write_text_atomic
from colgen.sweep.run import RESULT_COLUMNS


def columns(param_keys: Sequence[str]) -> list[str]:
    """instance, the grid's keys, method, then what a run reports."""
    return ["instance", *[k for k in param_keys if k != "method"], "method", "time_limit_s", *RESULT_COLUMNS]


def cell(value: Any) -> str:
    """How a value is written (and compared on resume): strings as they are, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def run_key(instance: str, params: dict[str, Any], method: str, param_keys: Sequence[str]) -> tuple[str, ...]:
    return (instance, *[cell(params[k]) for k in param_keys if k != "method"], method)


class Table:
    """An append-only CSV file with a fixed header."""

    def __init__(self, path: str | Path, header: list[str]):
        self.path, self.header = Path(path), header
        self.rows: list[dict[str, str]] = []
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open(newline="") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames != header:
                    raise InputError(str(self.path), f"has the columns {', '.join(reader.fieldnames or [])}; this "
                                     f"sweep writes {', '.join(header)}",
                                     "write to a new file, or sweep the same grid keys to resume")
                self.rows = list(reader)

    def done(self, param_keys: Sequence[str]) -> set[tuple[str, ...]]:
        """The keys of the runs already in the table."""
        keys = [k for k in param_keys if k != "method"]
        return {(r["instance"], *[r[k] for k in keys], r["method"]) for r in self.rows}

    def drop_failed(self) -> int:
        """Remove the rows of failed runs (rewriting the file atomically); return how many."""
        keep = [r for r in self.rows if r["status"] != "error"]
        dropped = len(self.rows) - len(keep)
        if dropped:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=self.header)
            writer.writeheader()
            writer.writerows(keep)
            write_text_atomic(self.path, buf.getvalue())
            self.rows = keep
        return dropped

    def append(self, row: dict[str, Any]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.header)
            if new:
                writer.writeheader()
            writer.writerow({k: cell(row.get(k)) for k in self.header})
        self.rows.append({k: cell(row.get(k)) for k in self.header})
