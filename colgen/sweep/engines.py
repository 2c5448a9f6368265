"""Where a sweep's runs execute: local processes, a Dask cluster or a Ray cluster.

Each engine takes the tasks and yields ``(task, row)`` as runs finish, in any order. A run that
raises, or whose worker dies, yields an error row; the engines never retry. Dask and Ray are
optional extras (``pip install 'colgen[dask]'`` or ``'colgen[ray]'``), imported only when chosen.

* ``local``: a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers`` processes (spawned:
  each starts clean, whatever threads the caller runs).
* ``dask``: ``dask.distributed``; a :class:`~distributed.LocalCluster` of ``workers`` single-threaded
  worker processes by default, or the scheduler at ``address`` (``tcp://host:8786``). Workers need
  colgen installed; tasks carry their instance, so they need no files.
* ``ray``: ``ray.init()`` with ``workers`` CPUs by default, or the cluster at ``address``
  (``ray://host:10001`` or ``auto``); one CPU per run.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from colgen.choices import SWEEP_ENGINES
from colgen.errors import InputError, MissingExtraError
from colgen.sweep.grid import Task
from colgen.sweep.run import error_row, run_one

ENGINES = SWEEP_ENGINES


def _failed(exc: BaseException) -> dict[str, Any]:
    return error_row(f"the worker failed: {type(exc).__name__}: {exc}")


def run_local(tasks: Sequence[Task], workers: int, address: str | None = None) -> Iterator[tuple[Task, dict]]:
    if address is not None:
        raise InputError("--address", "the local engine runs on this machine", "use --engine dask or ray")
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_one, t): t for t in tasks}
        try:
            for fut in as_completed(futures):
                try:
                    yield futures[fut], fut.result()
                except Exception as exc:          # the process died (BrokenProcessPool) or did not unpickle
                    yield futures[fut], _failed(exc)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def run_dask(tasks: Sequence[Task], workers: int, address: str | None = None) -> Iterator[tuple[Task, dict]]:
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise MissingExtraError("dask.distributed", "dask", "--engine dask") from None
    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout="30s")
        except OSError as exc:
            raise InputError("--scheduler", f"cannot reach the Dask scheduler at '{address}' ({exc})",
                             "start one (dask scheduler) or leave --scheduler out for a local cluster") from None
    try:
        futures = {client.submit(run_one, t, pure=False): t for t in tasks}
        try:
            for fut in dask_completed(futures):
                try:
                    yield futures[fut], fut.result()
                except Exception as exc:
                    yield futures[fut], _failed(exc)
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_ray(tasks: Sequence[Task], workers: int, address: str | None = None) -> Iterator[tuple[Task, dict]]:
    try:
        import ray
    except ImportError:
        raise MissingExtraError("ray", "ray", "--engine ray") from None
    started = not ray.is_initialized()
    if started:
        kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        if address is None:
            kw["num_cpus"] = workers
        ray.init(address=address, **kw)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_one)
        refs = {remote.remote(t): t for t in tasks}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                try:
                    yield refs[done[0]], ray.get(done[0])
                except Exception as exc:
                    yield refs[done[0]], _failed(exc)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()


RUNNERS = {"local": run_local, "dask": run_dask, "ray": run_ray}
