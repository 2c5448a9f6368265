"""The public API: what `import colgen` offers, and options that name the method they belong to."""

from __future__ import annotations

import threading
import time

import pytest

import colgen
from colgen import BnpOptions, IlpOptions, InputError, Result, load_instance, solve, verify
from colgen.progress import Heartbeat, Log
from colgen.stop import Stop, Stopped
from tests.conftest import INSTANCES


def test_package_docstring_example_works():
    inst = load_instance(INSTANCES / "seed-tiny.json")
    result = solve(inst, "bnp", time_limit=60)
    assert isinstance(result, Result) and result.status == "optimal"
    assert verify(inst, result).ok
    assert colgen.__version__ and colgen.__version__ != "0+unknown"


def test_an_option_of_another_method_is_an_error_naming_it():
    inst = load_instance(INSTANCES / "seed-tiny.json")
    with pytest.raises(InputError, match=r"configurations: is not an option of method 'ilp' \(an option of bnp\)"):
        solve(inst, "ilp", configurations=False)
    with pytest.raises(InputError, match="bogus: is not an option of method 'bnp'"):
        solve(inst, "bnp", bogus=1)
    with pytest.raises(InputError, match="IlpOptions given for method 'bnp'"):
        solve(inst, "bnp", options=IlpOptions())
    with pytest.raises(InputError, match="formulation"):
        solve(inst, "ilp", formulation="nope")


def test_options_objects_and_keywords_agree():
    inst = load_instance(INSTANCES / "seed-tiny.json")
    a = solve(inst, "bnp", options=BnpOptions(configurations=False), backend="highs")
    b = solve(inst, "bnp", configurations=False, backend="highs")
    assert a.objective == b.objective and a.placement == b.placement


def test_stop_reports_the_deadline():
    stop = Stop(0.0)
    assert stop.reason() == "time_limit" and stop.remaining() == 0.0
    with pytest.raises(Stopped) as err:
        stop.check()
    assert err.value.reason == "time_limit"
    forever = Stop()
    assert forever.reason() is None and forever.remaining() is None
    forever.check()


def test_heartbeat_speaks_while_the_solver_is_silent():
    heard = threading.Event()
    lines: list[str] = []

    def sink(line: str) -> None:
        lines.append(line)
        heard.set()

    log = Log(sink)
    with Heartbeat(log, lambda: "status line", every=0.2):
        assert heard.wait(timeout=30)        # no wall-clock assertion: only that it speaks at all
    assert lines[0] == "status line"
    count = len(lines)
    time.sleep(0.5)
    assert len(lines) == count                # and stops with its context


def test_heartbeat_is_silent_without_a_sink():
    with Heartbeat(Log(None), lambda: "never", every=0.01) as hb:
        assert hb._thread is None
