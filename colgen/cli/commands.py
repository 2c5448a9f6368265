"""The commands of ``colgen``: each takes the parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from colgen.api import solve as run_solve
from colgen.cli.exitcodes import INFEASIBLE, INVALID, NO_PLACEMENT, NO_PROOF, OK
from colgen.errors import InputError, ModelTooLargeError, VerificationError, one_line
from colgen.jsonio import read_json, write_json_atomic
from colgen.model.instance import instance_from_dict, load_instance
from colgen.progress import Log

__all__ = ["VerificationError"]


def _writable(path: str) -> None:
    """Refuse an output path that cannot be written before any work is done (a directory, a
    read-only or virtual file system such as /proc and /sys)."""
    target = Path(path)
    if target.is_dir():
        raise InputError("--output", f"'{path}' is a directory", "give a file name")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise InputError("--output", f"'{folder}' is not a directory", "choose a writable file path")
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".colgen-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError("--output", f"cannot write in '{folder}' ({exc.strerror or exc})",
                         "choose a writable file path") from None


def _write(path: str, data: Any) -> None:
    try:
        write_json_atomic(path, data)
    except OSError as exc:
        raise InputError("--output", f"cannot write '{path}' ({exc.strerror or exc})",
                         "choose a writable file path") from None


def quiet_stdout() -> None:
    """The reader of stdout went away (``colgen show X | head -1``): send the rest to /dev/null, so
    that neither our writes nor the interpreter's final flush raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _log(args: argparse.Namespace) -> Log:
    return Log(None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True)))


def show(args: argparse.Namespace) -> int:
    from colgen.report.text import describe_instance

    print(describe_instance(load_instance(args.instance)))
    return OK


def warmup(args: argparse.Namespace) -> int:
    """Compile the pricing kernels once (a solve's first call would wait for them within its time
    limit, and a process that ends first takes its compiling child with it)."""
    from numba import config

    from colgen.bnp.kernels import compile_in_background, compile_now, compiled_or_cached, wait_compiled
    from colgen.stop import Stop, Stopped

    t0 = time.perf_counter()
    if config.DISABLE_JIT:
        print("colgen: numba's compiler is off (NUMBA_DISABLE_JIT): pricing runs as plain Python")
        return OK
    if compile_in_background():
        print("colgen: the pricing kernels are compiled and cached already")
        return OK
    print("colgen: compiling the pricing kernels (numba; about 5-15 s) ...", file=sys.stderr, flush=True)
    while True:
        try:
            code = wait_compiled(Stop(5.0))
            break
        except Stopped:
            print(f"  ... {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    if code not in (None, 0) or not compiled_or_cached():
        compile_now()
    where = "cached" if compiled_or_cached() else "compiled, but numba could not cache them (NUMBA_CACHE_DIR)"
    print(f"colgen: the pricing kernels are {where}, in {time.perf_counter() - t0:.1f} s")
    return OK


def model(args: argparse.Namespace) -> int:
    from colgen.model.hf import analyse_hf_config, load_hf_config, model_from_hf_config
    from colgen.report.text import describe_hf_model

    config = load_hf_config(args.config)
    block, notices = model_from_hf_config(config, seq_len=args.seq_len, batch_size=args.batch_size,
                                          source=args.config, bytes_per_element=args.bytes_per_element)
    instance_from_dict({"model": block, "gpu_types": {"x": {"catalogue": "H100-SXM"}},   # colgen accepts it
                        "cluster": {"gpus": [{"type": "x"}], "bandwidth_gbps": [[0]]},
                        "parallelism": {"max_gpus_per_segment": 1}})
    if args.json:
        print(json.dumps({"model": block, "notices": notices}, indent=1))
        return OK
    analysis, _ = analyse_hf_config(config, source=args.config, bytes_per_element=args.bytes_per_element)
    print(describe_hf_model(args.config, analysis, block, notices))
    return OK


def solve(args: argparse.Namespace) -> int:
    from colgen.report.text import describe_result

    if args.output:
        _writable(args.output)
    inst = load_instance(args.instance)
    fields: dict[str, Any] = {}
    if args.prune is not None:
        fields["prune"] = args.prune
    if args.method == "ilp":
        fields.update(formulation=args.formulation, verbose=args.verbose)
    if args.no_network_checks:
        fields["network_checks"] = False
    if args.near_symmetry is not None:
        fields["near_symmetry"] = args.near_symmetry
    if args.objective != "throughput":
        fields["objective"] = args.objective
    if args.budget is not None:
        fields["budget"] = args.budget
    if args.min_throughput is not None:
        fields["min_throughput"] = args.min_throughput
    result = run_solve(inst, args.method, time_limit=args.time_limit, gap=args.gap, backend=args.backend,
                       log=_log(args), **fields)
    report = result.to_dict(inst)
    try:
        print(json.dumps(report, indent=1, allow_nan=False) if args.json else describe_result(inst, result))
        sys.stdout.flush()
    except BrokenPipeError:        # the reader went away; the file below is still written
        quiet_stdout()
    if args.output:
        _write(args.output, report)
    if result.status == "optimal":
        return OK
    if result.status == "infeasible":
        reason = result.statistics.get("infeasible_because")
        print(one_line(f"colgen: infeasible: {reason}" if reason else "colgen: infeasible: no placement exists "
                       "(proven)"), file=sys.stderr)
        return INFEASIBLE
    return NO_PROOF if result.placement else NO_PLACEMENT


def pareto(args: argparse.Namespace) -> int:
    from colgen.api import pareto as frontier
    from colgen.report.text import describe_frontier

    if args.output:
        _writable(args.output)
    inst = load_instance(args.instance)
    fields: dict[str, Any] = {}
    if args.method == "ilp":
        fields["formulation"] = args.formulation
    if args.budget is not None:
        fields["budget"] = args.budget
    if args.min_throughput is not None:
        fields["min_throughput"] = args.min_throughput
    report = frontier(inst, args.method, time_limit=args.time_limit, backend=args.backend, log=_log(args), **fields)
    try:
        print(json.dumps(report, indent=1, allow_nan=False) if args.json else describe_frontier(inst, report))
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_stdout()
    if args.output:
        _write(args.output, report)
    if report["status"] == "optimal":
        if report["points"]:
            return OK
        print(one_line(f"colgen: infeasible: {args.instance}: no placement meets the limits"), file=sys.stderr)
        return INFEASIBLE
    return NO_PROOF if report["points"] else NO_PLACEMENT


#: Violations ``colgen verify`` lists on stdout (the count of the others follows).
MAX_LISTED = 20


def verify(args: argparse.Namespace) -> int:
    from colgen.check.verify import verify as check
    from colgen.result import parse_report

    inst = load_instance(args.instance)
    data = read_json(args.result, "result")
    try:
        parse_report(data)  # types and finiteness, with a message naming the field
    except InputError as exc:
        raise exc.with_source(args.result) from None
    verdict = check(inst, data)
    if verdict.ok:
        print(f"valid: throughput {verdict.objective:.6g} tokens/s")
        return OK
    shown = verdict.violations[:MAX_LISTED]
    for v in shown:
        print(one_line(v))
    more = len(verdict.violations) - len(shown)
    if more:
        print(f"... and {more} more")
    count = len(verdict.violations)
    print(one_line(f"colgen: invalid: {args.result}: {verdict.violations[0]}"
                   + (f" (and {count - 1} more violations)" if count > 1 else "")), file=sys.stderr)
    return INVALID


def plot(args: argparse.Namespace) -> int:
    from colgen.report.plot import KINDS
    from colgen.result import result_from_dict

    try:
        w, h = (float(x) for x in args.size.lower().split("x"))
        if not (0 < w <= 100 and 0 < h <= 100):
            raise ValueError
    except ValueError:
        raise InputError("--size", f"'{args.size}' is not WIDTHxHEIGHT in inches", "e.g. --size 12x5") from None
    from colgen.check.verify import verify as check

    inst = load_instance(args.instance)
    data = read_json(args.result)
    if args.kind == "pareto":
        from colgen.report.plot import plot_pareto

        try:
            plot_pareto(inst, data, args.output, size=(w, h), dpi=args.dpi)
        except OSError as exc:
            raise InputError("--output", f"cannot write '{args.output}' ({exc.strerror or exc})",
                             "choose a writable file path") from None
        print(f"wrote {args.output}", file=sys.stderr)
        return OK
    result = result_from_dict(data)
    verdict = check(inst, data) if result.placement else None
    if verdict is not None and not verdict.ok:
        raise InputError(args.result, f"is not a valid placement on {args.instance}: {verdict.violations[0]}",
                         "plot a result with the instance it was solved for (colgen verify says why)")
    try:
        KINDS[args.kind](inst, result, args.output, size=(w, h), dpi=args.dpi)
    except OSError as exc:
        raise InputError("--output", f"cannot write '{args.output}' ({exc.strerror or exc})",
                         "choose a writable file path") from None
    print(f"wrote {args.output}", file=sys.stderr)
    return OK


def sweep(args: argparse.Namespace) -> int:
    from colgen.sweep import run_sweep

    rows = run_sweep(args.instances, args.grid, output=args.output, method=args.method, time_limit=args.time_limit,
                     engine=args.engine, workers=args.workers, address=args.address,
                     retry_failed=args.retry_failed, progress=not args.quiet)
    failed = sum(r["status"] == "error" for r in rows)
    print(f"{args.output}: {len(rows)} rows ({failed} failed)", file=sys.stderr)
    return OK


def generate(args: argparse.Namespace) -> int:
    from colgen.io.generator import document_bytes, random_instance
    from colgen.limits import MAX_FILE_BYTES

    _writable(args.output)
    if args.network == "regions":
        from colgen.io.regions import PRESETS, regions_instance

        if not 0 <= args.jitter < 1:
            raise InputError("--jitter", f"{args.jitter} is not a fraction in [0, 1)", "give e.g. 0.03 for +-3 %")
        doc = regions_instance(args.seed, jitter=args.jitter, **PRESETS[args.preset])
        instance_from_dict(doc)
        _write(args.output, doc)
        return OK
    size = document_bytes(args.gpus, args.network, args.gpus_per_node)
    if size > MAX_FILE_BYTES:
        raise InputError("--gpus", f"a '{args.network}' network of {args.gpus:,} GPUs makes a file of about "
                         f"{size / 1e9:.3g} GB, more than the limit of {MAX_FILE_BYTES / 1e9:.3g} GB",
                         "use fewer GPUs, more --gpus-per-node, or --network uniform")
    doc = random_instance(args.seed, num_layers=args.layers, num_gpus=args.gpus, num_types=args.types,
                          max_k=args.max_gpus_per_segment, network=args.network,
                          gpus_per_node=args.gpus_per_node, prices=None if args.prices == "none" else args.prices)
    instance_from_dict(doc)
    _write(args.output, doc)
    return OK


def import_legacy(args: argparse.Namespace) -> int:
    from colgen.io.legacy import import_legacy as convert

    _writable(args.output)
    doc, notices = convert(args.folder, max_gpus_per_segment=args.max_gpus_per_segment,
                           dp_efficiency=args.dp_efficiency, roofline_efficiency=args.roofline_efficiency,
                           tp_degrees=args.tp_degrees, generate_network=args.generate_network,
                           bandwidth=args.bandwidth, batch_size=args.batch_size, seq_len=args.seq_len,
                           cloud_specs=args.cloud_specs, cloud_provider=args.cloud_provider)
    for n in notices:
        print(one_line(f"colgen: notice: {n}"), file=sys.stderr)
    inst = instance_from_dict(doc)
    _write(args.output, doc)
    print(f"wrote {args.output}: {inst.num_layers} layers, {inst.num_gpus} GPUs in {len(inst.gpu_types)} "
          f"type{'s' if len(inst.gpu_types) > 1 else ''}, "
          f"K = {inst.max_gpus_per_segment}, tensor-parallel degrees {', '.join(map(str, inst.tp_degrees))}",
          file=sys.stderr)
    return OK


def export(args: argparse.Namespace) -> int:
    from colgen.backends.highs import HighsBackend
    from colgen.ilp.model import build
    from colgen.ilp.size import estimate
    from colgen.limits import memory_budget_bytes

    if not args.output.endswith((".mps", ".lp")):
        raise InputError("--output", f"'{args.output}' ends in neither .mps nor .lp", "name the file model.mps")
    _writable(args.output)
    inst = load_instance(args.instance)
    est = estimate(inst, args.formulation)
    if est.memory_bytes > memory_budget_bytes():
        raise ModelTooLargeError(f"the model is too large to build here ({est.describe()})")
    if Path(args.output).is_dir():
        raise InputError("--output", f"'{args.output}' is a directory", "give a file name ending in .mps or .lp")
    HighsBackend().write(build(inst, args.formulation).model, args.output)
    print(f"wrote {args.output}: {est.describe()}", file=sys.stderr)
    return OK


def prune_report(args: argparse.Namespace) -> int:
    from colgen.report.text import describe_pruning
    from colgen.space.pruning import parse_rules
    from colgen.studies import pruning_report

    inst = load_instance(args.instance)
    rows = pruning_report(inst, parse_rules(args.rules), formulation=args.formulation, solve=args.solve,
                          time_limit=args.time_limit)
    print(json.dumps(rows, indent=1) if args.json else describe_pruning(rows))
    return OK

