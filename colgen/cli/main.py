"""The ``colgen`` command line: the parser, the exit codes, and one-line errors.

Commands live in colgen/cli/commands.py and import what they need when they run, so that
``colgen --help`` answers without loading any solver.

Exit codes: colgen/cli/exitcodes.py (and the table in README.md).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import NoReturn

from colgen import __version__
from colgen.choices import BACKENDS, FORMULATIONS, METHODS, NETWORKS, OBJECTIVES, PLOT_KINDS, SWEEP_ENGINES
from colgen.cli.exitcodes import BAD_INPUT, INTERNAL, OK, REFUSED
from colgen.errors import BackendError, ColgenError, InputError, ModelTooLargeError, VerificationError, one_line
from colgen.limits import MAX_GPU_TYPES, MAX_GPUS, MAX_K, MAX_LAYERS, cap_address_space
from colgen.stop import Interrupted, raise_interrupted


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text[:40]} is not a finite number")
    return value


def _positive(text: str) -> float:
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def _nonnegative(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number >= 0")
    return value


def _below_one(what: str) -> Callable[[str], float]:
    """A parser of a number in [0, 1) (``what`` names it in the error)."""
    def parse(text: str) -> float:
        value = _float(text)
        if not 0 <= value < 1:
            raise argparse.ArgumentTypeError(f"{text} is not {what} in [0, 1)")
        return value
    return parse


def _efficiency(text: str) -> float:
    value = _float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not an efficiency in (0, 1]")
    return value


def _whole(low: int, high: int | None = None, what: str = "") -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"from {low:,} to {high:,}" if high is not None else f"at least {low:,}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: {what or 'give a number'} {span}")
        return value

    return parse


def _degrees(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        try:
            value = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{part[:40]}' is not a whole number (give e.g. 1,2,4)") from None
        if not 1 <= value <= 64:
            raise argparse.ArgumentTypeError(f"{value} is not a degree from 1 to 64")
        out.append(value)
    return out


def _roofline_efficiency(text: str) -> float | str:
    return "original" if text == "original" else _efficiency(text)


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (``colgen: error: ...``), exit code 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        hint = f"see {self.prog} --help"
        self.exit(BAD_INPUT, f"colgen: error: {self.prog}: {message}; {hint}\n")


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the examples' line breaks and shows every option's default."""


def _command(sub: argparse._SubParsersAction, name: str, summary: str, example: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, description=f"{summary}\n\nexample:\n  {example}",
                          formatter_class=_Formatter)


def _method_args(s: argparse.ArgumentParser) -> None:
    """The method, its engine and the time limit: what every solving command takes."""
    s.add_argument("--method", choices=METHODS, default="bnp",
                   help="bnp: branch-and-price; ilp: the full joint ILP (baseline); brute: exhaustive search")
    s.add_argument("--formulation", choices=FORMULATIONS, default="compact", help="full-ILP formulation (ilp)")
    s.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="LP/MIP engine; auto: Gurobi when its license takes the model, else HiGHS")
    s.add_argument("--time-limit", type=_positive, metavar="S", help="seconds for the whole run")


def _output_args(s: argparse.ArgumentParser, what: str) -> None:
    """Where a solving command's answer goes: a file, stdout as JSON, and whether the log is shown."""
    s.add_argument("-o", "--output", metavar="FILE", help=f"write the {what} JSON here (atomically)")
    s.add_argument("--json", action="store_true", help=f"print the {what} JSON on stdout")
    s.add_argument("--quiet", action="store_true", help="no solver log on stderr")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="colgen", formatter_class=_Formatter,
        description="Exact LLM placement on heterogeneous GPU clusters (column generation and branch-and-price).",
        epilog="exit codes: 0 optimal/ok, 1 placement without proof, 2 bad input, 3 infeasible (a budget or "
               "target no placement meets: the message gives the cheapest cost or the largest throughput), "
               "4 no placement in time, 5 refused (too large), 6 verification failed, 70 internal error, "
               "130/143 a second Ctrl-C/SIGTERM (see README.md)")
    p.add_argument("--version", action="version", version=f"colgen {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    s = _command(sub, "show", "describe an instance: GPUs by type and node, memory, allocation counts",
                 "colgen show instances/seed-demo.json")
    s.add_argument("instance", help="instance JSON file")

    _command(sub, "warmup", "compile the pricing kernels once after an install or upgrade (a solve does it "
             "too, within its time limit)", "colgen warmup")

    s = _command(sub, "model", "derive colgen's model block from a Hugging Face config.json (layers, shapes, "
                 "bytes per element, grouped-query attention, gated FFN, experts)",
                 "colgen model instances/models/llama-3.1-70b-instruct/config.json --seq-len 8192 --batch-size 64")
    s.add_argument("config", help="a Hugging Face config.json, or hf:ORG/NAME to fetch it (needs huggingface_hub)")
    s.add_argument("--seq-len", type=int, default=4096, help="tokens per sample (not in config.json)")
    s.add_argument("--batch-size", type=_positive, default=16, help="samples per pipeline batch (not in config.json)")
    s.add_argument("--bytes-per-element", type=_positive, metavar="B",
                   help="override torch_dtype (e.g. 1 for FP8 serving)")
    s.add_argument("--json", action="store_true", help="print {model, notices} as JSON")

    s = _command(sub, "solve", "find a placement of maximum throughput (or the cheapest, or the least USD per "
                 "token) and prove it optimal",
                 "colgen solve instances/seed-demo.json --time-limit 60 -o result.json\n  "
                 "colgen solve instances/seed-demo-priced.json --objective cost --min-throughput 200000")
    s.add_argument("instance", help="instance JSON file")
    s.add_argument("--objective", choices=OBJECTIVES, default="throughput",
                   help="throughput: the largest (within --budget); cost: the cheapest USD per hour (reaching "
                        "--min-throughput); cost-per-token: the least USD per million tokens; costs need a "
                        "price_per_hour for every GPU")
    s.add_argument("--budget", type=_nonnegative, metavar="USD_PER_HOUR",
                   help="most USD per hour a placement may cost (with the instance's costs.max_usd_per_hour, "
                        "the lower holds)")
    s.add_argument("--min-throughput", type=_positive, metavar="TOKENS_PER_S",
                   help="least throughput a placement must reach")
    _method_args(s)
    s.add_argument("--gap", type=_below_one("a relative gap"), default=0.0, help="relative gap at which to stop")
    s.add_argument("--prune", metavar="RULES",
                   help="none, safe, or rules like symmetry,dominance,bound (default: safe for bnp, none for "
                        "ilp; see colgen prune-report)")
    s.add_argument("--no-network-checks", action="store_true",
                   help="bnp: skip the component bound, the stage walk, the group path and the searches on the "
                        "rounded network where links bind (ablation)")
    s.add_argument("--near-symmetry", type=_below_one("a relative tolerance"), metavar="TOL",
                   help="bnp: groups of GPUs whose links differ by less than TOL form near classes for the "
                        "searches on the network rounded down and up (default 0.1; 0 turns them off)")
    _output_args(s, "result")
    s.add_argument("--verbose", action="store_true", help="also show the LP/MIP engine's own log")

    s = _command(sub, "pareto", "every non-dominated placement of throughput against USD per hour, exact, each "
                 "one verified (the instance needs a price for every GPU)",
                 "colgen pareto instances/seed-demo-priced.json --json -o frontier.json")
    s.add_argument("instance", help="instance JSON file")
    _method_args(s)
    s.add_argument("--budget", type=_nonnegative, metavar="USD_PER_HOUR", help="only placements costing at most this")
    s.add_argument("--min-throughput", type=_positive, metavar="TOKENS_PER_S",
                   help="only placements reaching this throughput")
    _output_args(s, "frontier")

    s = _command(sub, "plot", "draw a result: the placement along the layers (stages coloured by GPU type, nodes, "
                 "link throughputs, the bottleneck), or the search's convergence",
                 "colgen plot instances/hf-llama-3.1-70b.json result.json -o placement.png")
    s.add_argument("instance", help="instance JSON file")
    s.add_argument("result", help="result JSON file (as written by colgen solve -o; for --kind pareto, by "
                   "colgen pareto -o)")
    s.add_argument("-o", "--output", required=True, metavar="FILE", help="picture file: .png, .svg or .pdf")
    s.add_argument("--kind", choices=PLOT_KINDS, default="placement",
                   help="placement: stages along the layers; convergence: incumbent and bound over time; "
                        "pareto: the frontier of throughput against USD per hour (a colgen pareto file)")
    s.add_argument("--size", default="12x5", metavar="WxH", help="figure size in inches")
    s.add_argument("--dpi", type=_positive, default=100, help="pixels per inch (PNG)")

    s = _command(sub, "sweep", "solve every instance for every combination of a parameter grid, one CSV row per "
                 "run (resumable), on local processes, Dask or Ray",
                 "colgen sweep instances/seed-tiny.json instances/seed-demo.json --grid max_gpus_per_segment=1,2,4 "
                 "batch_size=16,32 --time-limit 60 -o table.csv")
    s.add_argument("instances", nargs="+", metavar="INSTANCE", help="instance JSON files")
    s.add_argument("--grid", nargs="+", action="extend", default=[], metavar="KEY=V1,V2",
                   help="values to sweep: a model or parallelism field (batch_size, seq_len, max_gpus_per_segment, "
                        "...), a dotted path into the instance (gpu_types.H100.memory_gb), or a solve option "
                        "(method, time_limit, gap, prune, formulation, ...); values are JSON")
    s.add_argument("--method", choices=METHODS, default="bnp", help="method of every run (unless the grid sweeps it)")
    s.add_argument("--time-limit", type=_positive, metavar="S", help="seconds per run")
    s.add_argument("--engine", choices=SWEEP_ENGINES, default="local",
                   help="local: processes on this machine; dask: dask.distributed (extra [dask]); ray: Ray "
                        "(extra [ray])")
    s.add_argument("--workers", type=int, metavar="N", help="parallel runs (default: one per core); for a local "
                   "Dask or Ray cluster, its worker count")
    s.add_argument("--scheduler", "--address", dest="address", metavar="ADDRESS",
                   help="an existing cluster: a Dask scheduler (tcp://host:8786) or a Ray address (ray://host:10001, "
                        "auto); default: start a local one")
    s.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="CSV table; rows already in it are skipped (resume)")
    s.add_argument("--retry-failed", action="store_true", help="run again the rows whose status is error")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    s = _command(sub, "verify", "check a result against an instance with the independent verifier",
                 "colgen verify instances/seed-demo.json result.json")
    s.add_argument("instance", help="instance JSON file")
    s.add_argument("result", help="result JSON file (as written by colgen solve -o)")

    s = _command(sub, "generate", "write a seeded random instance",
                 "colgen generate --seed 7 --layers 6 --gpus 8 --network distinct -o random.json")
    s.add_argument("-o", "--output", required=True, metavar="FILE")
    s.add_argument("--seed", type=_whole(0, 2**63 - 1, "a seed"), default=0, help="random seed (>= 0)")
    s.add_argument("--layers", type=_whole(1, MAX_LAYERS, "layers"), default=4, help="decoder layers M")
    s.add_argument("--gpus", type=_whole(1, MAX_GPUS, "GPUs"), default=4, help="GPUs N")
    s.add_argument("--types", type=_whole(1, MAX_GPU_TYPES, "GPU types"), default=2, help="GPU types")
    s.add_argument("--max-gpus-per-segment", type=_whole(1, MAX_K, "GPUs per stage"), default=2, metavar="K",
                   help="GPUs per stage at most")
    s.add_argument("--network", choices=(*NETWORKS, "regions"), default="nodes",
                   help="uniform: links never bind; nodes: node pairs at random speeds; distinct: every pair its own; "
                        "regions: nodes in racks in regions (--preset; layers, GPUs and types come from it)")
    s.add_argument("--gpus-per-node", type=_whole(1, MAX_GPUS, "GPUs per node"), default=2)
    s.add_argument("--prices", choices=("none", "types", "nodes"), default="none",
                   help="types: a random price per GPU-hour for each type; nodes: also some nodes at their own "
                        "price")
    s.add_argument("--preset", choices=("70b", "405b"), default="70b",
                   help="regions: 4 regions x 4 nodes x 8 GPUs with a 70B model, or 8 x 2 racks x 4 x 8 with 405B")
    s.add_argument("--jitter", type=float, default=0.0,
                   help="regions: every node pair's bandwidth times a factor in [1-J, 1+J] (a measured matrix)")

    s = _command(sub, "import-legacy", "convert a configuration of the original solver (a folder of CSV files) into "
                 "an instance; every value ignored, defaulted or changed is named in a notice (docs/legacy.md)",
                 "colgen import-legacy tests/data/legacy/hal --generate-network 400 200 -o hal.json")
    s.add_argument("folder", help="folder with config.csv and gpu_pool.csv (gpu_type,count,memory_gb[,dollar_per_hour] "
                   "with network_bandwidth.csv, or instance_name,count with cloud_instances_specs.csv)")
    s.add_argument("-o", "--output", required=True, metavar="FILE")
    network = s.add_mutually_exclusive_group()
    network.add_argument("--generate-network", nargs=2, type=_positive, metavar=("INTRA", "INTER"),
                         help="the original's rule: INTRA GB/s between GPUs of one type (of one instance for a cloud "
                              "pool), INTER GB/s between others; replaces network_bandwidth.csv")
    network.add_argument("--bandwidth", metavar="FILE", help="read this GPU-by-GPU matrix instead of "
                         "network_bandwidth.csv")
    s.add_argument("--max-gpus-per-segment", type=_whole(1, MAX_K, "GPUs per stage"), metavar="K",
                   help="GPUs per stage at most; None: 4, or the largest tensor-parallel degree if larger")
    s.add_argument("--tp-degrees", type=_degrees, metavar="D1,D2,...",
                   help="tensor-parallel degrees; None: 1,2,4,8 within the largest node, K and the heads")
    s.add_argument("--dp-efficiency", type=_efficiency, default=0.95, help="data-parallel efficiency eff(k), k >= 2")
    s.add_argument("--roofline-efficiency", type=_roofline_efficiency, default=0.5, metavar="E|original",
                   help="fraction of peak reached by every GPU type, or 'original' for the original's per-type values")
    s.add_argument("--batch-size", type=_positive, metavar="B", help="the batch (overrides config.csv)")
    s.add_argument("--seq-len", type=_whole(1, 100_000_000, "tokens per sample"), metavar="N",
                   help="tokens per sample (overrides config.csv's sequence_length)")
    s.add_argument("--cloud-specs", metavar="FILE", help="the original's cloud_instances_specs.csv (None: the one "
                   "in the folder): instances of a cloud pool, prices of GPU types without dollar_per_hour")
    s.add_argument("--cloud-provider", metavar="NAME", help="take instances and prices from this provider's rows "
                   "(e.g. AWS; None: the cheapest, as the original)")

    s = _command(sub, "export", "write the full ILP as MPS or LP for any solver",
                 "colgen export instances/seed-tiny.json --formulation seed -o model.mps")
    s.add_argument("instance", help="instance JSON file")
    s.add_argument("--formulation", choices=FORMULATIONS, default="compact")
    s.add_argument("-o", "--output", required=True, metavar="FILE", help="file name ending in .mps or .lp")

    s = _command(sub, "prune-report", "what each pruning rule removes, in order (and, with --solve, "
                 "what the full ILP costs after it)",
                 "colgen prune-report instances/seed-demo.json --rules symmetry,dominance,bound --solve "
                 "--time-limit 60")
    s.add_argument("instance", help="instance JSON file")
    s.add_argument("--rules", default="safe", help="none, safe, or a comma-separated list (in order)")
    s.add_argument("--formulation", choices=FORMULATIONS, default="compact")
    s.add_argument("--solve", action="store_true", help="also build and solve the full ILP after each rule")
    s.add_argument("--time-limit", type=_positive, metavar="S", help="seconds per ILP solve")
    s.add_argument("--json", action="store_true", help="print the rows as JSON")
    return p


def _say(line: str) -> None:
    print(one_line(f"colgen: {line}"), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM means what Ctrl-C means: outside a solve it ends the command with one line; inside
        # one (colgen.stop.catch_signals) the first returns the best placement found so far.
        previous = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        return _run(args, cap=argv is None)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace, cap: bool = False) -> int:
    try:
        from colgen.cli import commands  # imported here: --help and parse errors load no solver

        if cap:             # the colgen command itself (not a caller in Python): cap its memory
            cap_address_space()
        return getattr(commands, args.command.replace("-", "_"))(args)
    except BrokenPipeError:            # the reader of stdout went away (colgen show X | head -1)
        commands.quiet_stdout()
        return OK
    except (ModelTooLargeError, BackendError) as exc:
        _say(f"refused: {exc}")
        return REFUSED
    except InputError as exc:
        _say(f"error: {exc}")
        return BAD_INPUT
    except VerificationError as exc:
        _say(f"internal error: {exc}")
        return INTERNAL
    except ColgenError as exc:
        _say(f"error: {exc}")
        return BAD_INPUT
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        _say(f"interrupted ({signal.Signals(signum).name})")
        return 128 + signum
    except MemoryError:
        _say("refused: out of the memory colgen allows itself (80% of what was available when it started); "
             "use a smaller instance" + ("" if getattr(args, "method", "bnp") == "bnp" else " or --method bnp"))
        return REFUSED
    except RecursionError:
        _say("internal error: recursion too deep (a bug in colgen; COLGEN_DEBUG=1 shows the traceback)")
        return INTERNAL
    except Exception as exc:  # a bug: one line, never a traceback (COLGEN_DEBUG=1 shows it)
        if os.environ.get("COLGEN_DEBUG"):
            raise
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        _say(f"internal error: {type(exc).__name__}: {text} (a bug in colgen; COLGEN_DEBUG=1 shows the traceback)")
        return INTERNAL


if __name__ == "__main__":
    sys.exit(main())
