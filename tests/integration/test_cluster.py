"""Sweeps on Dask distributed: same store as the local pool, worker deaths survived."""

import os
import signal
import sqlite3
import threading
import time

import pytest
from distributed import Client, LocalCluster

from frisac.cli import main
from frisac.experiments import SweepSpec, run_sweep
from frisac.experiments.figures import QUICK_DIRECT
from frisac.scenario import Scenario
from support import store_rows, sweep_argv

pytestmark = pytest.mark.filterwarnings("ignore")


def test_dask_local_cluster_store_equals_local_executor(reference_store, tmp_path) -> None:
    out = tmp_path / "dask"
    assert main([*sweep_argv(out, workers=2), "--executor", "dask"]) == 0
    assert store_rows(out) == store_rows(reference_store)


def _count(path) -> int:
    try:
        with sqlite3.connect(path, timeout=1) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_killing_a_worker_mid_sweep_loses_nothing(tmp_path) -> None:
    """A real SIGKILL of one of two worker processes; the nanny restarts it, the scheduler
    reassigns its task, the client stores every row exactly once and the numbers match a
    run on the local executor."""
    scenario = Scenario.default().replace(
        N_t=6, N_r=6, R_y=3, R_z=3, F=1, K=1, noise_sensing_dbm=-170.0
    )
    spec = SweepSpec(
        scenario=scenario,
        vary_key="F",
        values=(1, 3),
        schemes=("perfect", "naive", "proposed"),
        trials=4,
        root_seed=11,
        options={"direct": QUICK_DIRECT},  # the test is about the cluster, not the optimiser
    )
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        client = Client(cluster)
        pids = list(client.run(os.getpid).values())
        out = tmp_path / "killed"
        errors: list[BaseException] = []

        def sweep() -> None:
            try:
                run_sweep(spec, out, scheduler=cluster.scheduler_address, progress=False)
            except BaseException as exc:  # reported below
                errors.append(exc)

        thread = threading.Thread(target=sweep)
        thread.start()
        deadline = time.monotonic() + 120
        while _count(out / "results.sqlite") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        stored_at_kill = _count(out / "results.sqlite")
        os.kill(pids[0], signal.SIGKILL)
        thread.join(timeout=300)
        client.close()
    assert not thread.is_alive() and not errors, errors
    assert 0 < stored_at_kill < 24, "the kill should land mid-sweep"
    rows = store_rows(out)
    keys = [(r[0], r[2], r[3]) for r in rows]
    assert len(keys) == len(set(keys)) == 2 * 4 * 3
    local = tmp_path / "local"
    run_sweep(spec, local, workers=1, progress=False)
    assert rows == store_rows(local)


def test_unreachable_scheduler_one_line_exit_2_in_bounded_time(tmp_path, capsys) -> None:
    start = time.monotonic()
    argv = [*sweep_argv(tmp_path / "x"), "--scheduler", "tcp://127.0.0.1:9"]
    assert main(argv) == 2
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert "no Dask scheduler answered within 10 s" in err and err.strip().count("\n") == 0
    assert elapsed < 30
    assert not (tmp_path / "x").exists()
