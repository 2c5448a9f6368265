"""Errors a user can act on.

Every problem with user input is raised as :class:`InputError`, which names the offending field and
says how to fix it. The CLI prints its message on one line; it never shows a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Longest message the command line prints (a safety net: messages cut the values they quote).
MAX_MESSAGE = 500


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` as one printable line: control characters and line breaks escaped, cut at ``limit``."""
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def listing(names: Iterable[object], most: int = 6) -> str:
    """``a, b, c, ... (N in all)``: a list for a message, never longer than ``most`` names."""
    items = [str(n) for n in names]
    shown = ", ".join(n if len(n) <= 40 else n[:37] + "..." for n in items[:most])
    return shown + (f", ... ({len(items)} in all)" if len(items) > most else "")


class ColgenError(Exception):
    """Base class of the errors colgen reports to users without a traceback."""


class InputError(ColgenError, ValueError):
    """Bad input: ``field`` is a dotted path such as ``cluster.gpus[3].type``."""

    def __init__(self, field: str, problem: str, fix: str | None = None, source: str | None = None):
        self.field = field
        self.problem = problem
        self.fix = fix
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.source}: " if self.source else ""
        fix = f"; {self.fix}" if self.fix else ""
        return f"{where}{self.field}: {self.problem}{fix}"

    def with_source(self, source: str) -> InputError:
        """The same error, prefixed with the file it came from."""
        return InputError(self.field, self.problem, self.fix, source)


class ModelTooLargeError(ColgenError):
    """A model that would not fit in memory; carries the size estimate."""


class BackendError(ColgenError):
    """An LP/MIP engine is unavailable or cannot take the model (e.g. a size-limited license)."""


class MissingExtraError(ColgenError):
    """An optional dependency is not installed; the message names the extra that brings it."""

    def __init__(self, module: str, extra: str, what: str):
        self.module, self.extra = module, extra
        super().__init__(f"{what} needs {module}, which is not installed; pip install 'colgen[{extra}]'")


class VerificationError(ColgenError):
    """A solver returned a placement the independent verifier rejects: a bug in colgen."""
