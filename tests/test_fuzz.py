"""Mutation fuzzing: valid instances, results and legacy folders, changed at random places into
values of the wrong type, out of range, non-finite, huge, empty, deeply nested or missing.

Every case goes through the command line in-process (``colgen show``, ``colgen verify``,
``colgen import-legacy``) and must end with a documented exit code and, for an error, exactly one
line on stderr, never a traceback or a warning. Cases are cheap (loading and verifying, no
solving); CI runs a fixed sequence of 1,150 of them (the hypothesis profile ``ci`` derandomizes).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from colgen.api import solve
from colgen.cli.main import main
from colgen.model.instance import load_instance
from tests.conftest import INSTANCES

#: Instances small enough to load and describe in milliseconds (a matrix, a topology, a profile).
BASES = ["seed-tiny", "seed-demo", "legacy-small", "large-126x256"]
_DOCS = {name: json.loads((INSTANCES / f"{name}.json").read_text()) for name in BASES}
_RESULTS: dict[str, dict] = {}
#: Values that stand for themselves in JSON text (non-finite numbers and overflowing literals).
TOKENS = {"__NAN__": "NaN", "__INF__": "Infinity", "__MINF__": "-Infinity", "__1E999__": "1e999",
          "__BIGINT__": "1" + "0" * 40, "__DEEP__": "[" * 70 + "]" * 70}
ODD = [None, True, False, 0, -1, 1, 2, 3, 7, 64, 513, 2049, 32_769, 10**9, 10**20, -(10**9), 0.0, -0.5, 0.5,
       2.0, 4.0, 1e-308, 5e-324, 1e308, -1e308, 1e-12, "", "x", "1", "A100", "n0", "optimal", "a" * 300, [], {},
       [1, 2], [[0.5]], {"kind": "affine"}, {"x": 1}, *TOKENS]
VALUES = st.one_of(st.sampled_from(ODD), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
                   st.text(max_size=4))


def _result(name: str) -> dict:
    if name not in _RESULTS:
        inst = load_instance(INSTANCES / f"{name}.json")
        r = solve(inst, "brute" if name == "seed-tiny" else "bnp", time_limit=60).to_dict(inst)
        r["timings"] = {}
        _RESULTS[name] = r
    return copy.deepcopy(_RESULTS[name])


def _places(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths to every value of a document (lists of a matrix: their first rows only)."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _places(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out += _places(v, (*prefix, i))
    return out


def _mutate(doc: Any, path: tuple, op: str, value: Any) -> Any:
    if not path:
        return value if op == "set" else [doc] if op == "wrap" else doc
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if op == "set":
        parent[key] = value
    elif op == "delete":
        del parent[key]
    elif op == "wrap":
        parent[key] = [parent[key]] if isinstance(value, (int, float)) else {"value": parent[key]}
    elif op == "add" and isinstance(parent[key], dict):
        parent[key][str(value)[:20] if not isinstance(value, str) else value] = value
    elif op == "add" and isinstance(parent[key], list):
        parent[key].append(value)
    elif op == "shrink" and isinstance(parent[key], list):
        parent[key] = parent[key][:-1]
    elif op == "shrink" and isinstance(parent[key], str):
        parent[key] = parent[key][:1]
    else:
        parent[key] = value
    return doc


def _text(doc: Any) -> str:
    text = json.dumps(doc, allow_nan=False)
    for token, literal in TOKENS.items():
        text = text.replace(f'"{token}"', literal)
    return text


@st.composite
def mutated(draw: st.DrawFn, base: dict) -> str:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        places = _places(doc)
        path = draw(st.sampled_from(places))
        op = draw(st.sampled_from(["set", "set", "set", "delete", "wrap", "add", "shrink"]))
        value = draw(VALUES)
        with contextlib.suppress(KeyError, IndexError, TypeError):
            doc = _mutate(doc, path, op, value)
    text = _text(doc)
    if draw(st.integers(0, 9)) == 0:        # now and then, a cut or a stray character in the text
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["", "}", ",", "\x00", "\\", "1e999", '"', "[" * 80]))
    return text


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a numpy RuntimeWarning is a defect too
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    return code, out.getvalue(), err.getvalue()


def one_line(code: int, out: str, err: str, allowed: set[int]) -> None:
    assert "Traceback" not in out + err and "Warning" not in err, err
    assert code in allowed, (code, err)
    if code == 0:
        return
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(("colgen: error: ", "colgen: refused: ", "colgen: invalid: ")), lines[0]
    assert len(lines[0]) < 500, lines[0]


@settings(max_examples=600)
@given(st.sampled_from(BASES).flatmap(lambda name: mutated(_DOCS[name])))
def test_mutated_instances(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "instance.json"
        path.write_text(text)
        one_line(*run(["show", str(path)]), allowed={0, 2, 5})


@settings(max_examples=400)
@given(st.sampled_from(["seed-tiny", "seed-demo"]).flatmap(
    lambda name: st.tuples(st.just(name), mutated(_result(name)))))
def test_mutated_results(case):
    name, text = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "result.json"
        path.write_text(text)
        code, out, err = run(["verify", str(INSTANCES / f"{name}.json"), str(path)])
        one_line(code, out, err, allowed={0, 2, 6})
        if code == 0:
            assert out.startswith("valid: ")


LEGACY = INSTANCES / "legacy" / "tiny"
CELLS = st.sampled_from(["", " ", "0", "-1", "1.5", "16.5", "1e308", "1e999", "inf", "nan", "-inf", "two", "A100",
                         "1" * 40, "a;b", "\t", '"', "x" * 300, "9" * 5000])


@settings(max_examples=150)
@given(st.sampled_from(["config.csv", "gpu_pool.csv", "network_bandwidth.csv"]), st.integers(0, 40),
       st.integers(0, 5), CELLS, st.sampled_from(["cell", "row", "delimiter"]))
def test_mutated_legacy_folders(name, row, column, cell, how):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cfg"
        shutil.copytree(LEGACY, folder)
        lines = (folder / name).read_text().splitlines()
        i = row % len(lines)
        cells = lines[i].split(",")
        if how == "cell":
            cells[column % len(cells)] = cell
            lines[i] = ",".join(cells)
        elif how == "row":
            lines[i] = cell
        else:
            lines = [line.replace(",", ";") for line in lines]
        (folder / name).write_text("\n".join(lines) + "\n")
        one_line(*run(["import-legacy", str(folder), "-o", str(Path(tmp) / "out.json")]), allowed={0, 2, 5})
