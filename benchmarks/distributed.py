"""Distributed benchmark: the fast pass on a local Dask cluster vs the process pool.

Both sides run the fast pass of ``unseen process`` on the ingest corpus (camera-like
JPEGs from ``benchmarks/ingest.py``, page cache warm) with the same number of worker
processes: the local process pool, and a Dask scheduler with that many single-thread
workers started by Dask's own commands on 127.0.0.1. Prints the ratio pool / Dask
(target >= 0.9) and a scaling model.

The model is a model, not a measurement: with ``t`` the measured seconds of work per
item in one process (analysis alone), ``o`` the measured per-item cost of the single
writer (an in-process fast pass minus the analysis alone), and ``r`` the measured round
trip of an empty task through the cluster, the
throughput with ``n`` workers is ``min(n / (t + r / b), 1 / o)`` items per second for
batches of ``b``: it grows with the workers until the one writer saturates. It is
printed for 4, 16 and 64 workers. Always exits 0: a benchmark, not a test.

Usage: ``.venv/bin/python benchmarks/distributed.py [--quick] [--workers N] [--repeat K]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file's name is Dask's package name, so its folder must not be on the path
# (``import distributed`` would find this script); ``ingest`` is loaded by file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]
_spec = importlib.util.spec_from_file_location("ingest", Path(__file__).with_name("ingest.py"))
assert _spec is not None and _spec.loader is not None
ingest = sys.modules["ingest"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ingest)

from unseen.core.settings import Settings  # noqa: E402 - after the path fix above
from unseen.engine.distributed import DaskCluster  # noqa: E402
from unseen.engine.driver import ordered_jobs  # noqa: E402
from unseen.engine.runner import process_case  # noqa: E402

DASK = str(Path(sys.executable).with_name("dask"))


def start_cluster(workers: int, work: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": work}
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **quiet,  # type: ignore[arg-type]
        )
    ]
    for n in range(workers):
        procs.append(
            subprocess.Popen(
                [
                    DASK,
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--no-nanny",
                    "--name",
                    f"w{n}",
                    "--local-directory",
                    str(work / f"w{n}"),
                ],
                **quiet,  # type: ignore[arg-type]
            )
        )
    import distributed

    client = distributed.Client(address, timeout=60)
    client.wait_for_workers(workers, timeout=120)
    client.close()
    return address, procs


def fast_pass(root: Path, work: Path, workers: int, cluster: DaskCluster | None) -> float:
    shutil.rmtree(work / "case", ignore_errors=True)
    case = ingest.new_case(root, work)
    skip = tuple(job.NAME for job in ordered_jobs())
    started = time.perf_counter()
    summary = process_case(case, workers=workers, settings=Settings(skip=skip), cluster=cluster)
    seconds = time.perf_counter() - started
    case.close()
    if summary.errors or summary.crashed:  # a broken side must not pass for a fast one
        raise SystemExit(f"{summary.errors} items with errors on one side: no comparison")
    return seconds


def analysis_only(root: Path, work: Path) -> float:
    """Seconds the per-item work alone takes in one process (nothing stored)."""
    from unseen.engine.pipeline import WorkerConfig, process_batch, worker_plugin_modules
    from unseen.engine.runner import enumerate_sources
    from unseen.store import repo

    shutil.rmtree(work / "case", ignore_errors=True)
    case = ingest.new_case(root, work)
    enumerate_sources(case)
    with case.engine.connect() as conn:
        specs = {spec.id: spec for spec in repo.source_specs(conn)}
        tasks = list(repo.pending_tasks(conn, specs, 1000))
    thumbs = work / "thumbs-only"
    thumbs.mkdir(exist_ok=True)
    config = WorkerConfig(Settings(), str(thumbs), plugin_modules=worker_plugin_modules())
    started = time.perf_counter()
    process_batch(tasks, config)
    seconds = time.perf_counter() - started
    case.close()
    return seconds


def round_trip(cluster: DaskCluster, tries: int = 50) -> float:
    """Seconds for one empty task through the cluster and back (median)."""
    executor = cluster.executor(1)
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        executor.submit(int, 0).result()
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Tell Dask processes to stop and wait for them; kill one after 20 s. A worker was
    seen still closing 20 s after SIGTERM, and the measured runs were lost with it."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            print(f"  ({proc.args[1]} {proc.pid} still running 20 s after SIGTERM: killed)")
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=ingest.default_workers())
    parser.add_argument("--quick", action="store_true", help="6 big + 24 small JPEGs")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side (median kept)")
    parser.add_argument("--dir", type=Path, default=Path(".bench/ingest"), help="corpus cache")
    args = parser.parse_args(argv)
    big, small = (6, 24) if args.quick else (60, 240)
    root = ingest.build_corpus(args.dir, big, small)
    paths = ingest.corpus_files(root)
    ingest.warm_cache(paths)
    work = Path(tempfile.mkdtemp(prefix="unseen-dist-"))
    address, procs = start_cluster(args.workers, work)
    cluster = DaskCluster(address)
    try:
        pool = sorted(fast_pass(root, work, args.workers, None) for _ in range(args.repeat))
        dask = sorted(fast_pass(root, work, args.workers, cluster) for _ in range(args.repeat))
        one = fast_pass(root, work, 0, None)  # in-process: work plus writing
        work_only = analysis_only(root, work)
        trip = round_trip(cluster)
    finally:
        cluster.close()
        # Workers before the scheduler: a worker told to stop says goodbye to its
        # scheduler, and one that is itself closing can keep it waiting for its
        # connect timeout (likely why a worker was once seen closing for over 20 s).
        stop(procs[1:])
        stop(procs[:1])
        shutil.rmtree(work, ignore_errors=True)
    mid = args.repeat // 2
    n = len(paths)
    print(f"{n} JPEGs, {args.workers} workers, median of {args.repeat} (spread in brackets)")
    print(f"  process pool  {pool[mid]:7.2f} s  [{pool[0]:.2f}-{pool[-1]:.2f}]")
    print(f"  dask cluster  {dask[mid]:7.2f} s  [{dask[0]:.2f}-{dask[-1]:.2f}]")
    ratio = pool[mid] / dask[mid]
    print(f"pool / dask = {ratio:.2f} (target >= 0.90: {'ok' if ratio >= 0.9 else 'MISSED'})")
    per_item = work_only / n
    writer = max(one - work_only, 1e-6) / n
    batch = Settings().batch_size
    print(
        f"model inputs: {per_item * 1000:.1f} ms per item in one process, "
        f"round trip {trip * 1000:.1f} ms per batch of {batch}, "
        f"writer about {writer * 1000:.2f} ms per item"
    )
    for workers in (4, 16, 64):
        rate = min(workers / (per_item + trip / batch), 1.0 / writer)
        print(f"  model: {workers:3d} workers -> {rate:8.1f} items/s")
    print(f"  (load average now: {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
