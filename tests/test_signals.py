"""Signals on every method: SIGINT and SIGTERM return the best placement found so far, SIGKILL
leaves nothing behind (the HiGHS child process dies with its parent), and no process survives.

Each case starts ``colgen solve`` on a small instance that runs for minutes, waits for the solve
(and, for the ILP, its HiGHS child process) to start, sends the signal, and checks the exit code,
the output and the process table. Timeouts are generous: only a hang can fail them.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from colgen.stop import Interrupted, Stop, catch_signals, interrupted
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
#: method -> (instance, the stderr line that says the search is under way, extra arguments). The
#: branch-and-price run goes without the network checks, which solve its instance in a fraction of a
#: second: the search must still be running when the signal comes.
CASES = {
    "bnp": (DATA / "signals-bnp.json", "  init ", ["--no-network-checks"]),
    "ilp": (DATA / "signals-small.json", "ilp: solving with", []),
    "brute": (DATA / "signals-brute.json", "brute: ", []),
}
STARTUP = 60.0     # seconds to reach the search (imports, numba's cache, the ILP build) on a busy machine
SHUTDOWN = 20.0    # seconds to answer a signal


def children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def start(method: str) -> tuple[subprocess.Popen, queue.Queue]:
    instance, _, extra = CASES[method]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "colgen.cli.main", "solve", str(instance), "--method", method,
                             "--time-limit", "600", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def wait_for(lines: queue.Queue, marker: str, seen: list[str]) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            pytest.fail("colgen ended before the search started:\n" + "".join(seen))
        seen.append(line)
        if marker in line:
            return
    pytest.fail(f"no '{marker}' within {STARTUP} s:\n" + "".join(seen))


def gone(pids: set[int], within: float = SHUTDOWN) -> set[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return set()
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
@pytest.mark.parametrize("method", sorted(CASES))
def test_signal_ends_the_run_and_every_process(method, sig):
    proc, lines = start(method)
    seen: list[str] = []
    try:
        wait_for(lines, CASES[method][1], seen)
        helpers: set[int] = set()
        if method == "ilp":                 # wait for the HiGHS child process
            deadline = time.monotonic() + STARTUP
            while not helpers and time.monotonic() < deadline:
                helpers = children(proc.pid)
                time.sleep(0.05)
            assert helpers, "the ILP's HiGHS child process never started"
        time.sleep(0.3)
        helpers |= children(proc.pid)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=SHUTDOWN)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(seen)
    while True:
        try:
            line = lines.get(timeout=2)
        except queue.Empty:
            break
        if line is None:
            break
        err += line
    assert "Traceback" not in err and "Traceback" not in out, err
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        # The first signal returns the best placement found so far (exit 1) or says there is none (4).
        assert proc.returncode in (1, 4), (proc.returncode, err)
        assert out.startswith(("bnp: interrupted", "ilp-compact: interrupted", "brute: interrupted")), out
    assert not gone(helpers | {proc.pid}), f"processes outlived colgen after {sig.name}"


def test_second_signal_ends_at_once():
    with catch_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not interrupted() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert interrupted() and Stop().reason() == "interrupted"
        with pytest.raises(Interrupted) as caught:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert caught.value.signum == signal.SIGTERM


def test_sigterm_outside_a_solve_is_one_line(tmp_path):
    """SIGTERM while colgen reads its input: exit 143 with one line, like Ctrl-C (130)."""
    script = ("import os, signal, sys\n"
              "from colgen.cli import main as m\n"
              "from colgen.cli import commands\n"
              "def show(args):\n"
              "    os.kill(os.getpid(), signal.SIGTERM)\n"
              "    import time; time.sleep(5)\n"
              "commands.show = show\n"
              "sys.exit(m.main(['show', 'x.json']))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 143
    assert proc.stderr.strip().splitlines() == ["colgen: interrupted (SIGTERM)"]


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_worker_watchdog_outlives_no_parent(kill):
    """A process that called the child watchdog dies with its parent, even while it does
    nothing that would notice (no pipe to break)."""
    worker = ("import sys, time\n"
              "from colgen.child import die_with_parent\n"
              "die_with_parent(int(sys.argv[1]))\n"
              "print('ready', flush=True)\n"
              "time.sleep(120)\n")
    parent = ("import os, subprocess, sys, time\n"
              f"p = subprocess.Popen([sys.executable, '-c', {worker!r}, str(os.getpid())], stdout=subprocess.PIPE,\n"
              "                     text=True, start_new_session=True)\n"
              "p.stdout.readline()\n"
              "print(p.pid, flush=True)\n"
              "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    child = None
    try:
        child = int(proc.stdout.readline())
        assert alive(child)
        proc.send_signal(kill)
        proc.wait(timeout=SHUTDOWN)
        assert not gone({child}), "the worker outlived its parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if child is not None and alive(child):      # never leave one behind, even when the test fails
            os.kill(child, signal.SIGKILL)
