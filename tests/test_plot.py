"""colgen plot: placement and convergence pictures of the expected size, and clear refusals."""

from __future__ import annotations

import re
import struct
import sys

import pytest

from colgen import solve
from colgen.cli.main import main
from colgen.errors import MissingExtraError
from colgen.jsonio import write_json_atomic
from tests.conftest import INSTANCES

pytest.importorskip("matplotlib")

HF = INSTANCES / "hf-llama-3.1-70b.json"


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def hf_result(shipped, tmp_path_factory):
    inst = shipped["hf-llama-3.1-70b"]
    result = solve(inst, "bnp", time_limit=60)
    path = tmp_path_factory.mktemp("r") / "r.json"
    write_json_atomic(path, result.to_dict(inst))
    return inst, result, path


def test_placement_png_has_the_expected_size(hf_result, tmp_path, capsys):
    _, _, rpath = hf_result
    out = tmp_path / "p.png"
    assert main(["plot", str(HF), str(rpath), "-o", str(out)]) == 0
    assert png_size(out) == (1200, 500)
    assert main(["plot", str(HF), str(rpath), "-o", str(out), "--size", "8x3", "--dpi", "50"]) == 0
    assert png_size(out) == (400, 150)


def test_placement_svg_has_the_expected_size_and_names_nodes(hf_result, tmp_path):
    _, _, rpath = hf_result
    out = tmp_path / "p.svg"
    assert main(["plot", str(HF), str(rpath), "-o", str(out)]) == 0
    text = out.read_text()
    head = re.search(r'<svg[^>]*width="([\d.]+)pt" height="([\d.]+)pt"', text)
    assert head and (float(head[1]), float(head[2])) == (864, 360)    # 12 x 5 inches at 72 pt
    assert "h100-0" in text and "bottleneck" in text and "GB/s" in text


def test_figure_contents(hf_result):
    from colgen.report.plot import plot_placement

    inst, result, _ = hf_result
    fig = plot_placement(inst, result)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum("stage" in t for t in texts) >= 7
    assert any("l40s-0" in t for t in texts) and any("tok/s" in t and "GB/s" in t for t in texts)
    assert "bottleneck: stage 4" in fig.axes[0].get_title(loc="left")


def test_convergence_png(hf_result, tmp_path):
    _, _, rpath = hf_result
    out = tmp_path / "c.png"
    assert main(["plot", str(HF), str(rpath), "-o", str(out), "--kind", "convergence"]) == 0
    assert png_size(out) == (1200, 500)


@pytest.mark.parametrize("args,words", [
    (["--kind", "pareto"], "plot a file written by colgen pareto -o"),
    (["--size", "big"], "--size"),
])
def test_refusals_are_one_line(hf_result, tmp_path, capsys, args, words):
    _, _, rpath = hf_result
    assert main(["plot", str(HF), str(rpath), "-o", str(tmp_path / "x.png"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]
    assert not (tmp_path / "x.png").exists()


def test_unknown_suffix(hf_result, tmp_path, capsys):
    _, _, rpath = hf_result
    assert main(["plot", str(HF), str(rpath), "-o", str(tmp_path / "x.gif")]) == 2
    assert ".png" in capsys.readouterr().err


def test_missing_matplotlib_says_which_extra(hf_result, monkeypatch, capsys, tmp_path):
    from colgen.report.plot import plot_placement

    inst, result, rpath = hf_result
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)      # as if matplotlib were not installed
    with pytest.raises(MissingExtraError, match=r"colgen\[plot\]"):
        plot_placement(inst, result)
    assert main(["plot", str(HF), str(rpath), "-o", str(tmp_path / "x.png")]) == 2
    assert "pip install 'colgen[plot]'" in capsys.readouterr().err


def test_a_result_of_another_instance_is_refused(hf_result, tmp_path, capsys):
    _, _, rpath = hf_result
    assert main(["plot", str(INSTANCES / "seed-tiny.json"), str(rpath), "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "is not a valid placement" in err and "Traceback" not in err
