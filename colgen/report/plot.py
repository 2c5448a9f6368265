"""Pictures of a result: the placement along the layers, and the search's convergence.

matplotlib is an optional extra (``pip install 'colgen[plot]'``); it is imported when a picture is
drawn, never at import time, and its absence is a one-line :class:`~colgen.errors.MissingExtraError`.
Figures are built on :class:`matplotlib.figure.Figure` (no pyplot, no display), and files are
written atomically with the mode an ordinary write would give them.

* :func:`plot_placement`: the pipeline's stages as blocks along the layers, one row per GPU of a
  stage, coloured by GPU type and labelled with its node and id; stage throughputs above the blocks,
  link bandwidths and throughputs on the arrows between them; the bottleneck outlined in red.
* :func:`plot_convergence`: the incumbent's throughput and the proven bound over time, from the
  result's trace.
* :func:`plot_pareto`: the frontier of throughput against USD per hour (``colgen pareto``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from colgen.errors import InputError, MissingExtraError
from colgen.jsonio import write_bytes_atomic
from colgen.model.instance import Instance
from colgen.result import Result, si

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Default figure size in inches and resolution: 1200 x 500 pixels in PNG.
SIZE = (12.0, 5.0)
DPI = 100
#: File formats by suffix.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
BOTTLENECK = "#d62728"


def _figure(size: tuple[float, float], dpi: float) -> Figure:
    try:
        import matplotlib.patches  # noqa: F401  (the drawing functions import from it)
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("matplotlib", "plot", "drawing a picture") from None
    return Figure(figsize=size, dpi=dpi, layout="constrained")


def save(fig: Figure, path: str | Path) -> None:
    """Write ``fig`` to ``path``; the format follows the suffix (.png, .svg, .pdf)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError("--output", f"'{path}' ends in none of {', '.join(FORMATS)}",
                         "name the picture placement.png or placement.svg")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=fig.dpi, metadata={"Date": None} if fmt == "svg" else None)
    write_bytes_atomic(path, buf.getvalue())


def _type_colours(instance: Instance) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(instance.gpu_types) <= 10 else "tab20"]
    palette = [c for i, c in enumerate(cmap.colors) if i % 10 != 3]     # tab10's red marks the bottleneck
    return {t.name: palette[i % len(palette)] for i, t in enumerate(instance.gpu_types)}


def plot_placement(instance: Instance, result: Result, path: str | Path | None = None, *,
                   size: tuple[float, float] = SIZE, dpi: float = DPI) -> Figure:
    """The placement diagram of ``result`` (written to ``path`` when given); returns the figure.

    >>> from colgen import load_instance, solve
    >>> from colgen.report.plot import plot_placement
    >>> inst = load_instance("instances/seed-tiny.json")
    >>> fig = plot_placement(inst, solve(inst, "brute"))
    >>> [round(v) for v in fig.get_size_inches() * fig.dpi]
    [1200, 500]
    """
    if not result.placement:
        raise InputError("result", f"holds no placement (status {result.status})", "plot a result with a placement")
    report = result.to_dict(instance)
    fig = _figure(size, dpi)
    from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

    ax = fig.add_subplot()
    colours = _type_colours(instance)
    M = instance.num_layers
    K = max(len(s.gpu_ids) for s in result.placement)
    b = report["bottleneck"]
    n = len(result.placement)
    px_per_layer = size[0] * dpi * 0.9 / M
    label_links = n <= 24
    height = 1.0            # a stage block; its GPUs share it
    for a, s in zip(report["allocations"], result.placement, strict=True):
        gap = min(0.3, 0.15 * s.num_layers)
        x0, w = s.start_layer - 0.5 + gap / 2, s.num_layers - gap
        wide = w * px_per_layer
        k = len(s.gpu_ids)
        for j, g in enumerate(s.gpu_ids):
            gpu = instance.gpus[g]
            y = height - (j + 1) * height / k
            ax.add_patch(Rectangle((x0, y), w, height / k, facecolor=colours[gpu.type], edgecolor="white", lw=0.8))
            text = f"{gpu.node}\n#{g}" if gpu.node is not None and wide > 48 and k <= 4 else f"#{g}"
            if wide > 18:
                ax.text(x0 + w / 2, y + height / (2 * k), text, ha="center", va="center", color="white",
                        fontsize=8 if k <= 2 else 7, clip_on=True)
        hot = b["kind"] == "stage" and b["stage"] == a["stage"]
        ax.add_patch(Rectangle((x0, 0), w, height, fill=False, edgecolor=BOTTLENECK if hot else "#333333",
                               lw=2.5 if hot else 0.8, zorder=3))
        label = (f"stage {a['stage']}\n{_layers(s)}\n{si(a['throughput'])} tok/s" if wide > 60 or hot
                 else str(a["stage"]) if wide > 10 else None)
        if label is not None:
            ax.text(x0 + w / 2, height + 0.05, label, ha="center", va="bottom", fontsize=8, zorder=4 if hot else 2,
                    color=BOTTLENECK if hot else "black", fontweight="bold" if hot else "normal",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1} if hot else None)
    for i, c in enumerate(report["connections"]):
        a, z = result.placement[i], result.placement[i + 1]
        x1 = a.end_layer + 0.5 - min(0.3, 0.15 * a.num_layers) / 2
        x2 = z.start_layer - 0.5 + min(0.3, 0.15 * z.num_layers) / 2
        hot = b["kind"] == "link" and b["from_stage"] == i
        y = -0.12 if i % 2 == 0 else -0.38
        reach = min(24 / px_per_layer, 0.45 * min(a.num_layers, z.num_layers))   # about 24 pixels each way
        ax.add_patch(FancyArrowPatch((x1 - reach, y), (x2 + reach, y), arrowstyle="-|>", mutation_scale=10,
                                     color=BOTTLENECK if hot else "#555555", lw=2 if hot else 1))
        if label_links or hot:
            ax.text((x1 + x2) / 2, y - 0.04, f"{c['bandwidth_gbps']:.3g} GB/s\n{si(c['throughput'])} tok/s",
                    ha="center", va="top", fontsize=7, color=BOTTLENECK if hot else "#333333",
                    fontweight="bold" if hot else "normal")
    ax.set_xlim(0.5, M + 0.5)
    ax.set_ylim(-0.75, height + 0.45)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(f"decoder layer (1..{M}); arrows: links between consecutive stages")
    model = instance.model
    used = _used_types(instance, result)
    types = ", ".join(f"{used[t.name]} {t.name}" for t in instance.gpu_types if t.name in used)
    status = f"{result.method} {result.status}" + (f" (gap {100 * result.gap:.3g}%)" if result.gap else "")
    ax.set_title(f"{instance.name}: {model.name}, {M} layers, batch {model.batch_size:g} x {model.seq_len} tokens\n"
                 f"{status}: throughput {si(result.objective, 'tokens/s')}, {n} stages on {report['gpus_used']} of "
                 f"{instance.num_gpus} GPUs ({types}), at most {K} per stage (K = {instance.max_gpus_per_segment})\n"
                 f"bottleneck: {b['text']}", fontsize=9, loc="left")
    handles = [Patch(facecolor=colours[t.name], label=t.name) for t in instance.gpu_types
               if any(instance.gpus[g].type == t.name for s in result.placement for g in s.gpu_ids)]
    handles.append(Patch(facecolor="none", edgecolor=BOTTLENECK, lw=2, label="bottleneck"))
    ax.legend(handles=handles, loc="lower right", fontsize=8, ncols=len(handles), frameon=False,
              bbox_to_anchor=(1.0, -0.02))
    if path is not None:
        save(fig, path)
    return fig


def _used_types(instance: Instance, result: Result) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in result.placement:
        for g in s.gpu_ids:
            out[instance.gpus[g].type] = out.get(instance.gpus[g].type, 0) + 1
    return out


def _layers(s: Any) -> str:
    return f"layer {s.start_layer}" if s.num_layers == 1 else f"layers {s.start_layer}-{s.end_layer}"


def plot_convergence(result: Result, path: str | Path | None = None, *, size: tuple[float, float] = SIZE,
                     dpi: float = DPI) -> Figure:
    """Incumbent and proven bound over time, from ``result.trace`` (written to ``path`` when given).

    >>> from colgen import load_instance, solve
    >>> from colgen.report.plot import plot_convergence
    >>> fig = plot_convergence(solve(load_instance("instances/seed-demo.json"), "bnp"))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['incumbent (best placement found)', 'bound (proven)']
    """
    if not result.trace:
        raise InputError("result.trace", "is empty (a result written by an older colgen?)",
                         "solve again with this version to record the trace")
    fig = _figure(size, dpi)
    ax = fig.add_subplot()
    t = [p["time_s"] for p in result.trace]
    inc = [p["incumbent"] if p["incumbent"] is not None else float("nan") for p in result.trace]
    bound = [p["bound"] if p["bound"] is not None else float("nan") for p in result.trace]
    ax.step(t, inc, where="post", marker="o", ms=3, label="incumbent (best placement found)", color="#1f77b4")
    ax.step(t, bound, where="post", marker="v", ms=3, label="bound (proven)", color="#ff7f0e")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("throughput (tokens/s)")
    ax.grid(alpha=0.3)
    gap = result.gap
    ax.set_title(f"{result.instance}: {result.method} {result.status}, throughput {si(result.objective, 'tokens/s')}, "
                 f"bound {si(result.bound, 'tokens/s')}" + (f", gap {100 * gap:.3g}%" if gap is not None else "")
                 + f"; {len(result.trace)} steps", fontsize=9, loc="left")
    ax.legend(fontsize=8)
    if path is not None:
        save(fig, path)
    return fig


def plot_pareto(instance: Instance, frontier: dict[str, Any], path: str | Path | None = None, *,
                size: tuple[float, float] = SIZE, dpi: float = DPI) -> Figure:
    """The frontier of throughput against USD per hour (a ``colgen pareto`` report, whose points
    the verifier checks first): each non-dominated placement a point, the steps between them, the
    cheapest, the fastest and the least USD per million tokens labelled.

    >>> from colgen import load_instance, pareto
    >>> from colgen.report.plot import plot_pareto
    >>> inst = load_instance("instances/seed-demo-priced.json")
    >>> fig = plot_pareto(inst, pareto(inst, "bnp"))
    >>> fig.axes[0].get_xlabel()
    'cost (USD per hour)'
    """
    from colgen.check.verify import verify_frontier

    bad = verify_frontier(instance, frontier)
    if bad:
        raise InputError("result", f"is not a valid frontier of {instance.name}: {bad[0]}",
                         "plot a file written by colgen pareto -o, with the instance it was computed for")
    points = frontier["points"]
    if not points:
        raise InputError("result", "the frontier has no point", "nothing to draw")
    fig = _figure(size, dpi)
    ax = fig.add_subplot()
    cost = [p["cost_per_hour"] for p in points]
    thr = [p["throughput"] for p in points]
    ax.step(cost, thr, where="post", color="#1f77b4", alpha=0.5, lw=1)
    ax.plot(cost, thr, "o", color="#1f77b4", ms=4, label="non-dominated placement")
    best = min(range(len(points)), key=lambda i: points[i]["usd_per_million_tokens"])
    marks: dict[int, list[str]] = {}
    for what, i in (("cheapest", 0), ("least USD per million tokens", best), ("fastest", len(points) - 1)):
        marks.setdefault(i, []).append(what)
    for i, what in marks.items():
        p = points[i]
        last = i == len(points) - 1 and len(points) > 1
        ax.annotate(f"{' and '.join(what)}: {si(p['throughput'], 'tok/s')}, \\${p['cost_per_hour']:.4g}/h, "
                    f"\\${p['usd_per_million_tokens']:.3g}/M tokens", (p["cost_per_hour"], p["throughput"]),
                    xytext=(-8, -4) if last else (10, 10 + 14 * (i == best and i != 0)), textcoords="offset points",
                    fontsize=8, ha="right" if last else "left", va="top" if last else "bottom",
                    color=BOTTLENECK if i == best else "black")
    ax.plot([points[best]["cost_per_hour"]], [points[best]["throughput"]], "o", color=BOTTLENECK, ms=6,
            label="least USD per million tokens")
    ax.set_xlabel("cost (USD per hour)")
    ax.set_ylabel("throughput (tokens/s)")
    ax.grid(alpha=0.3)
    ax.set_title(f"{instance.name}: {len(points)} non-dominated placements ({frontier.get('method', '?')}, "
                 f"{frontier.get('status', '?')}); every point the fastest of its cost and the cheapest of its "
                 "throughput", fontsize=9, loc="left")
    ax.legend(fontsize=8, loc="lower right")
    if path is not None:
        save(fig, path)
    return fig


#: The pictures ``colgen plot --kind`` draws: name -> function(instance, result, path, size=, dpi=) (for
#: ``pareto`` the second argument is a ``colgen pareto`` report).
KINDS: dict[str, Callable[..., Figure]] = {
    "placement": plot_placement,
    "convergence": lambda instance, result, path=None, **kw: plot_convergence(result, path, **kw),
    "pareto": plot_pareto,
}

__all__ = ["DPI", "KINDS", "SIZE", "plot_convergence", "plot_pareto", "plot_placement", "save"]
