"""The fast pass on a real Dask cluster: a scheduler and workers started as a unit
would start them (``dask scheduler``, ``dask worker``) on 127.0.0.1, real TCP.

A case processed through the cluster equals the same case processed locally (records
and thumbnails), also when a worker is killed mid-run; a path map lets workers find
evidence where the client does not; an item that kills every worker is quarantined.
"""

from __future__ import annotations

import hashlib
import operator
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from internet.builders import chrome_history
from unseen.core.settings import Settings
from unseen.demo.synth import CAMERAS, exif_for, render_scene, save_camera_jpeg
from unseen.engine.distributed import DaskCluster, parse_path_map
from unseen.engine.remote import TaskLost
from unseen.engine.runner import enumerate_sources, process_case
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.timeout(240)  # a hung cluster fails the test, not the run
DASK = str(Path(sys.executable).with_name("dask"))
# The file crash_preload.py (preloaded into the poison test's workers only, never
# imported here: it would register its analyser in this process too) crashes on.
CRASH_ON = "boom.bin"
CHROME = "Users/alex/AppData/Local/Google/Chrome/User Data/Default/History"
FAST = Settings(skip=("match", "internet", "correlate", "deep"), batch_size=4)


@dataclass
class Cluster:
    address: str
    workers: list[subprocess.Popen[bytes]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from start_cluster(tmp_path_factory.mktemp("dask"), nanny=False)


def start_cluster(root: Path, nanny: bool, preload: str | None = None) -> Iterator[Cluster]:
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    workers = []
    for n in range(2):
        args = [
            DASK,
            "worker",
            address,
            "--nthreads",
            "1",
            "--no-dashboard",
            "--name",
            f"w{n}",
            "--local-directory",
            str(root / f"w{n}"),
        ]
        args += [] if nanny else ["--no-nanny"]
        args += ["--preload", preload] if preload else []
        workers.append(
            subprocess.Popen(
                args, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    procs += workers
    client = distributed.Client(address, timeout=60)
    client.wait_for_workers(2, timeout=120)
    client.close()
    try:
        yield Cluster(address, workers)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def evidence(root: Path, pictures: int = 24) -> Path:
    body = CAMERAS["canon-80d"]
    (root / "DCIM").mkdir(parents=True, exist_ok=True)
    for n in range(pictures):
        img = render_scene(300 + n, (320, 240))
        when = datetime(2024, 3, 1, 9, 0) + timedelta(minutes=n)
        save_camera_jpeg(
            root / "DCIM" / f"IMG_{n:04d}.JPG", img, exif_for(body, when), camera=body
        )
    (root / "notes").mkdir(parents=True, exist_ok=True)
    for n in range(10):
        (root / "notes" / f"note{n}.txt").write_text(f"note {n}\n")
    return root


def make_case(root: Path, ev: Path) -> Case:
    case = Case.create(root)
    repo.add_source(case, "folder", str(ev), "EV1", "test")
    return case


def records(case: Case) -> list[tuple[object, ...]]:
    i, im = s.items, s.images
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(
                i.c.path,
                i.c.status,
                i.c.size,
                i.c.md5,
                i.c.sha256,
                i.c.mime,
                im.c.pdq,
                im.c.width,
                im.c.height,
            )
            .select_from(i.outerjoin(im, im.c.item_id == i.c.id))
            .order_by(i.c.path)
        )
        return [tuple(r) for r in rows]


def errors(case: Case) -> dict[str, list[str]]:
    i, e = s.items, s.item_errors
    with case.engine.connect() as conn:
        rows = conn.execute(select(i.c.path, e.c.message).join(e, e.c.item_id == i.c.id))
        found: dict[str, list[str]] = {}
        for path, message in rows:
            found.setdefault(path, []).append(message)
        return found


def thumbs(case: Case) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(case.thumbs_dir.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Case]:
    root = tmp_path_factory.mktemp("local")
    ev = evidence(root / "ev")
    case = make_case(root / "case", ev)
    process_case(case, workers=2, settings=FAST)
    return ev, case


def test_a_case_processed_on_the_cluster_equals_a_local_run(
    cluster: Cluster, local: tuple[Path, Case], tmp_path: Path
) -> None:
    ev, expected = local
    case = make_case(tmp_path / "case", ev)
    dask = DaskCluster(cluster.address)
    try:
        assert dask.workers() == 2
        summary = process_case(case, settings=FAST, cluster=dask)
    finally:
        dask.close()
    assert summary.processed == len(records(expected)) == 34
    with case.engine.connect() as conn:
        workers = repo.run_workers(conn)
    # Per-worker progress: every item counted once, by the cluster's processes.
    assert sum(w["items"] for w in workers) == 34 and 1 <= len(workers) <= 2
    assert all(int(w["worker"].rsplit(":", 1)[1]) != os.getpid() for w in workers)
    assert records(case) == records(expected)
    assert thumbs(case) == thumbs(expected) and len(thumbs(case)) == 24
    assert errors(case) == {}


def test_a_path_map_lets_workers_read_what_the_client_sees_elsewhere(
    cluster: Cluster, local: tuple[Path, Case], tmp_path: Path
) -> None:
    ev, expected = local
    here = shutil.copytree(ev, tmp_path / "client-view")
    there = shutil.copytree(ev, tmp_path / "worker-view")
    case = make_case(tmp_path / "case", here)
    enumerate_sources(case, FAST)
    shutil.rmtree(here)  # from now on only the workers' view exists
    dask = DaskCluster(cluster.address)
    try:
        process_case(case, settings=FAST, cluster=dask, path_map=((str(here), str(there)),))
    finally:
        dask.close()
    assert records(case) == records(expected)
    assert errors(case) == {}


def test_an_unreachable_source_is_recorded_on_every_item_never_dropped(
    cluster: Cluster, tmp_path: Path
) -> None:
    ev = evidence(tmp_path / "ev", pictures=2)
    case = make_case(tmp_path / "case", ev)
    enumerate_sources(case, FAST)
    dask = DaskCluster(cluster.address)
    try:
        pairs = ((str(ev), str(tmp_path / "no-such-mount")),)
        process_case(case, settings=FAST, cluster=dask, path_map=pairs)
    finally:
        dask.close()
    found = errors(case)
    assert sorted(found) == [f"DCIM/IMG_000{n}.JPG" for n in range(2)] + [
        f"notes/note{n}.txt" for n in range(10)
    ]
    for messages in found.values():
        assert len(messages) == 1
        assert messages[0].startswith("no worker could read this item's source: worker ")
        assert messages[0].endswith(f"cannot reach source EV1 at {tmp_path}/no-such-mount")


def test_killing_a_worker_mid_run_changes_nothing(
    cluster: Cluster, local: tuple[Path, Case], tmp_path: Path
) -> None:
    ev, expected = local

    class KillOnce:
        killed = False

        def start(self, files: int, size: int) -> None:
            pass

        def advance(self, files: int, size: int) -> None:
            if not self.killed:
                os.kill(cluster.workers[0].pid, signal.SIGKILL)
                self.killed = True

    case = make_case(tmp_path / "case", ev)
    dask = DaskCluster(cluster.address)
    progress = KillOnce()
    try:
        process_case(case, settings=FAST, cluster=dask, progress=progress)
    finally:
        dask.close()
    assert progress.killed
    assert records(case) == records(expected)
    assert thumbs(case) == thumbs(expected)


def test_an_item_that_kills_every_worker_is_quarantined(tmp_path: Path) -> None:
    ev = evidence(tmp_path / "ev", pictures=3)
    (ev / CRASH_ON).write_bytes(b"the decoder of this one crashes\n")
    case = make_case(tmp_path / "case", ev)
    preload = str(Path(__file__).with_name("crash_preload.py"))
    for poisoned in start_cluster(tmp_path / "dask", nanny=True, preload=preload):
        dask = DaskCluster(poisoned.address)
        try:
            summary = process_case(case, settings=FAST, cluster=dask)
        finally:
            dask.close()
    assert summary.crashed == [CRASH_ON]
    assert errors(case) == {
        CRASH_ON: [
            "worker process died while analysing this item (a decoder crashed or ran out of "
            "memory); quarantined after it ended every worker that tried it"
        ]
    }
    with case.engine.connect() as conn:
        done = conn.execute(
            select(s.items.c.path).where(s.items.c.status == "done", s.items.c.kind == "file")
        ).scalars()
        assert len(list(done)) == 3 + 10 + 1


def test_the_executor_hands_over_results_errors_and_lost_tasks(cluster: Cluster) -> None:
    dask = DaskCluster(cluster.address)
    try:
        executor = dask.executor(0)
        assert executor.submit(operator.add, 2, 3).result(timeout=60) == 5
        with pytest.raises(ZeroDivisionError):
            executor.submit(operator.truediv, 1, 0).result(timeout=60)
        # A task the cluster cancels (as it does a dead worker's): lost, for the
        # fan-out to run again, never Dask's own ValueError or a cancelled future.
        sleeping = executor.submit(time.sleep, 30)
        executor.shutdown(wait=False, cancel_futures=True)
        with pytest.raises(TaskLost, match="cancelled"):
            sleeping.result(timeout=60)
    finally:
        dask.close()


def test_path_maps_are_checked() -> None:
    assert parse_path_map(["/a=/b", "/a/c=/d"]) == (("/a/c", "/d"), ("/a", "/b"))
    with pytest.raises(Exception, match="HERE=THERE with absolute paths"):
        parse_path_map(["relative=/x"])


def job_rows(case: Case) -> dict[str, list[tuple[object, ...]]]:
    """What the jobs after the fast pass stored: artefacts, sensor noise, the ledger."""
    a, n, d, i = s.artefacts, s.sensor_noise, s.job_done, s.items
    with case.engine.connect() as conn:
        return {
            "artefacts": sorted(
                tuple(r)
                for r in conn.execute(
                    select(i.c.path, a.c.parser, a.c.type, a.c.data).join(a, a.c.item_id == i.c.id)
                )
            ),
            "sensor_noise": sorted(
                tuple(r)
                for r in conn.execute(select(i.c.path, n.c.bits).join(n, n.c.item_id == i.c.id))
            ),
            "ledger": sorted(tuple(r) for r in conn.execute(select(d.c.job, d.c.item_id))),
        }


def test_the_jobs_after_the_fast_pass_run_on_the_cluster_too(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Parsers, hashing and deep analysers read the evidence on the workers: the client's
    own view of it is gone before they run, so a local run of them would only fail."""
    ev = evidence(tmp_path / "ev", pictures=3)
    chrome_history(ev / CHROME)
    settings = Settings(skip=("match", "faces", "ocr", "scene"), batch_size=4)
    expected = make_case(tmp_path / "local", ev)
    process_case(expected, workers=0, settings=settings)
    here = shutil.copytree(ev, tmp_path / "client-view")
    there = shutil.copytree(ev, tmp_path / "worker-view")
    case = make_case(tmp_path / "case", here)
    enumerate_sources(case, settings)
    shutil.rmtree(here)
    dask = DaskCluster(cluster.address)
    try:
        process_case(case, settings=settings, cluster=dask, path_map=((str(here), str(there)),))
    finally:
        dask.close()
    found = job_rows(case)
    assert found == job_rows(expected)
    assert len(found["artefacts"]) > 0 and len(found["sensor_noise"]) == 3
    assert errors(case) == {}
