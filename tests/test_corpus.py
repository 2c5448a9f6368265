"""The adversarial corpus (tests/corpus, written by scripts/make_corpus.py): broken instances,
forged results and broken legacy folders. Each case exits with its documented code and says what
is wrong in one line (``colgen: error: ...``, ``colgen: refused: ...`` or ``colgen: invalid: ...``)
on stderr, never a traceback."""

from __future__ import annotations

import json

import pytest

from colgen.cli.main import main
from tests.conftest import INSTANCES, ROOT

CORPUS = ROOT / "tests" / "corpus"
PREFIX = {2: "colgen: error: ", 5: "colgen: refused: ", 6: "colgen: invalid: "}


def expected(kind: str) -> dict[str, dict]:
    return json.loads((CORPUS / kind / "expected.json").read_text())


def test_corpus_is_large_enough():
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.name != "expected.json"]
    assert len(files) >= 100
    assert {p.stem for p in (CORPUS / "instances").glob("*.json")} - {"expected"} == set(expected("instances"))
    assert {p.stem for p in (CORPUS / "results").glob("*.json")} - {"expected"} == set(expected("results"))
    assert {p.name for p in (CORPUS / "legacy").iterdir() if p.is_dir()} == set(expected("legacy"))


def check(code: int, captured, case: dict) -> None:
    out, err = captured.out, captured.err
    assert "Traceback" not in out + err and "Warning" not in err, err
    assert code == case["code"], (code, err, out[:500])
    if case["code"] == 0:
        assert err.strip() == "" or all(line.startswith("colgen: notice: ") or line.startswith("wrote ")
                                        for line in err.strip().splitlines()), err
        return
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(PREFIX[case["code"]]), lines[0]
    assert case["says"] in lines[0] or case["says"] in out, (case["says"], lines[0], out[:500])
    assert len(lines[0]) < 400, lines[0]


@pytest.mark.parametrize("name", sorted(expected("instances")))
def test_instance(name, capsys):
    code = main(["show", str(CORPUS / "instances" / f"{name}.json")])
    check(code, capsys.readouterr(), expected("instances")[name])


@pytest.mark.parametrize("name", sorted(expected("results")))
def test_result(name, capsys):
    case = expected("results")[name]
    code = main(["verify", str(INSTANCES / f"{case['instance']}.json"), str(CORPUS / "results" / f"{name}.json")])
    captured = capsys.readouterr()
    check(code, captured, case)
    if code == 6:
        assert 1 <= len(captured.out.strip().splitlines()) <= 21     # at most 20 violations, then a count


@pytest.mark.parametrize("name", sorted(expected("legacy")))
def test_legacy(name, capsys, tmp_path):
    code = main(["import-legacy", str(CORPUS / "legacy" / name), "-o", str(tmp_path / "out.json")])
    check(code, capsys.readouterr(), expected("legacy")[name])
