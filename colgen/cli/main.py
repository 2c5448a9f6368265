"""The ``colgen`` command line.

Exit codes: 0 success; 1 no placement found / verification failed; 2 bad input or usage;
3 internal error (a solver's placement rejected by the verifier).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from colgen.space import pruning
from colgen.backends import BACKENDS
from colgen.backends.highs import HighsBackend
from colgen.errors import BackendError, ColgenError, InputError, ModelTooLargeError
from colgen.io.generator import NETWORKS, random_instance
from colgen.ilp.model import FORMULATIONS, available_memory_bytes, build, estimate
from colgen.model.instance import instance_from_dict, load_instance
from colgen.io.jsonio import read_json, write_json_atomic
from colgen.io.legacy import import_legacy
from colgen.report.text import describe_instance, describe_pruning, describe_result
from colgen.result import result_from_dict
from colgen.api import METHODS, VerificationError, solve
from colgen.check.verify import verify


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="colgen", description="Exact LLM placement on heterogeneous GPU "
                                "clusters (column generation and branch-and-price).")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("show", help="describe an instance")
    s.add_argument("instance")

    s = sub.add_parser("import-legacy", help="convert a legacy CSV configuration folder")
    s.add_argument("folder")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--max-gpus-per-segment", type=int, default=4, metavar="K")
    s.add_argument("--dp-efficiency", type=float, default=0.95)

    s = sub.add_parser("generate", help="write a seeded random instance")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--layers", type=int, default=4)
    s.add_argument("--gpus", type=int, default=4)
    s.add_argument("--types", type=int, default=2)
    s.add_argument("--max-gpus-per-segment", type=int, default=2, metavar="K")
    s.add_argument("--network", choices=NETWORKS, default="nodes")
    s.add_argument("--gpus-per-node", type=int, default=2)

    s = sub.add_parser("solve", help="find a placement of maximum throughput")
    s.add_argument("instance")
    s.add_argument("--method", choices=METHODS, default=METHODS[-1])
    s.add_argument("--formulation", choices=FORMULATIONS, default="compact", help="full ILP formulation")
    s.add_argument("--backend", choices=BACKENDS, default="auto", help="LP/MIP engine")
    s.add_argument("--time-limit", type=_positive, metavar="S")
    s.add_argument("--gap", type=float, default=0.0, help="relative gap at which to stop (default 0)")
    s.add_argument("-o", "--output", help="write the result JSON here (atomically)")
    s.add_argument("--json", action="store_true", help="print the result JSON on stdout")
    s.add_argument("--prune", metavar="RULES",
                   help="none, safe, or rules like symmetry,dominance,bound (default: safe for bnp, "
                        "none for ilp; see colgen prune-report)")
    s.add_argument("--verbose", action="store_true", help="show the LP/MIP engine's own output")
    s.add_argument("--quiet", action="store_true", help="no solver log on stderr")

    s = sub.add_parser("prune-report", help="what each pruning rule removes, in order")
    s.add_argument("instance")
    s.add_argument("--rules", default="safe", help="none, safe, or a comma-separated list (in order)")
    s.add_argument("--formulation", choices=FORMULATIONS, default="compact")
    s.add_argument("--solve", action="store_true", help="also build and solve the full ILP after each rule")
    s.add_argument("--time-limit", type=_positive, metavar="S")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("export", help="write the full ILP as MPS or LP for any solver")
    s.add_argument("instance")
    s.add_argument("--formulation", choices=FORMULATIONS, default="compact")
    s.add_argument("-o", "--output", required=True, help="file name ending in .mps or .lp")

    s = sub.add_parser("verify", help="check a result against an instance")
    s.add_argument("instance")
    s.add_argument("result")
    return p


def _show(args: argparse.Namespace) -> int:
    print(describe_instance(load_instance(args.instance)))
    return 0


def _import_legacy(args: argparse.Namespace) -> int:
    doc, notices = import_legacy(args.folder, max_gpus_per_segment=args.max_gpus_per_segment,
                                 dp_efficiency=args.dp_efficiency)
    for n in notices:
        print(f"colgen: notice: {n}", file=sys.stderr)
    inst = instance_from_dict(doc)
    write_json_atomic(args.output, doc)
    print(f"wrote {args.output}: {inst.num_layers} layers, {inst.num_gpus} GPUs", file=sys.stderr)
    return 0


def _generate(args: argparse.Namespace) -> int:
    doc = random_instance(args.seed, num_layers=args.layers, num_gpus=args.gpus, num_types=args.types,
                          max_k=args.max_gpus_per_segment, network=args.network,
                          gpus_per_node=args.gpus_per_node)
    instance_from_dict(doc)
    write_json_atomic(args.output, doc)
    return 0


def _log(args: argparse.Namespace):
    if args.quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _solve(args: argparse.Namespace) -> int:
    inst = load_instance(args.instance)
    result = solve(inst, args.method, time_limit=args.time_limit, gap=args.gap, backend=args.backend,
                   formulation=args.formulation, verbose=args.verbose, prune=args.prune, log=_log(args))
    report = result.to_dict(inst)
    if args.output:
        write_json_atomic(args.output, report)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(describe_result(inst, result))
    return 0 if result.placement else 1


def _export(args: argparse.Namespace) -> int:
    if not args.output.endswith((".mps", ".lp")):
        raise InputError("--output", f"'{args.output}' ends in neither .mps nor .lp",
                         "name the file model.mps")
    inst = load_instance(args.instance)
    est = estimate(inst, args.formulation)
    if est.memory_bytes > 0.8 * available_memory_bytes():
        raise ModelTooLargeError(f"the model is too large to build here ({est.describe()})")
    HighsBackend().write(build(inst, args.formulation).model, args.output)
    print(f"wrote {args.output}: {est.describe()}", file=sys.stderr)
    return 0


def _prune_report(args: argparse.Namespace) -> int:
    inst = load_instance(args.instance)
    rows = pruning.report(inst, pruning.parse_rules(args.rules), formulation=args.formulation,
                          solve=args.solve, time_limit=args.time_limit)
    print(json.dumps(rows, indent=1) if args.json else describe_pruning(rows))
    return 0


def _verify(args: argparse.Namespace) -> int:
    inst = load_instance(args.instance)
    data = read_json(args.result)
    result_from_dict(data)  # shape check with a clear message
    verdict = verify(inst, data)
    if verdict.ok:
        print(f"valid: throughput {verdict.objective:.6g} tokens/s")
        return 0
    for v in verdict.violations:
        print(v)
    return 1


_COMMANDS = {"show": _show, "import-legacy": _import_legacy, "generate": _generate, "solve": _solve,
             "export": _export, "prune-report": _prune_report, "verify": _verify}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except VerificationError as exc:
        print(f"colgen: internal error: {exc}", file=sys.stderr)
        return 3
    except (ModelTooLargeError, BackendError) as exc:
        print(f"colgen: refused: {exc}", file=sys.stderr)
        return 1
    except (InputError, ColgenError) as exc:
        print(f"colgen: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("colgen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
