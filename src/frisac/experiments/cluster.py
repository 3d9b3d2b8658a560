"""Running sweep trials on a Dask distributed cluster.

Each trial is submitted as a pure task (``run_trial`` of a frozen TrialTask, single
threaded BLAS inside), so a task can run anywhere, any number of times, and always gives
the same rows. Results come back to the client, which commits them to its SQLite store as
they complete. A worker that dies takes its tasks with it; the scheduler reassigns them
(up to ``distributed.scheduler.allowed-failures`` deaths per task) and ``retries`` covers
exceptions raised inside a task. Rows are inserted with INSERT OR IGNORE and keyed by
(value, trial, scheme), so a task that happens to finish twice is stored once.

See docs/cluster.md for starting schedulers and workers by hand or on SLURM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from frisac.errors import FrisacInputError
from frisac.experiments.trial import TrialTask, run_trial

__all__ = ["CONNECT_TIMEOUT_S", "TASK_RETRIES", "DaskExecutor"]

CONNECT_TIMEOUT_S = 10
"""How long to wait for a scheduler to answer before giving up (exit 2)."""
TASK_RETRIES = 2
"""Re-runs of a task that raised (worker deaths are handled by the scheduler itself)."""


class DaskExecutor:
    """Runs trials on a Dask cluster; connects (or starts a LocalCluster) when created.

    With ``scheduler`` the client connects to that address; otherwise a
    ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes is started
    for the duration of the sweep.
    """

    def __init__(
        self,
        *,
        workers: int,
        scheduler: str | None,
        on_dashboard: Callable[[str], None] | None = None,
    ) -> None:
        import dask
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler is not None:
            try:
                self.client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError, ValueError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise FrisacInputError(
                    f"--scheduler {scheduler!r}: no Dask scheduler answered within "
                    f"{CONNECT_TIMEOUT_S} s ({reason})"
                ) from None
        else:
            # Non-daemonic workers may fork: the paper's method runs each SDPA solve in a
            # child process (sdpa-python leaks memory per solve, see optimize/sdp.py).
            with dask.config.set({"distributed.worker.daemon": False}):
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=logging.ERROR,
                    env={
                        "OMP_NUM_THREADS": "1",
                        "OPENBLAS_NUM_THREADS": "1",
                        "MKL_NUM_THREADS": "1",
                    },
                )
            self.client = Client(self.cluster)
        if on_dashboard is not None and self.client.dashboard_link:
            on_dashboard(self.client.dashboard_link)

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[tuple[TrialTask, list[dict[str, Any]]]]:
        """Yield (task, rows) as trials complete."""
        from distributed import as_completed

        by_key = {}
        futures = []
        for task in tasks:
            future = self.client.submit(run_trial, task, pure=True, retries=TASK_RETRIES)
            by_key[future.key] = task
            futures.append(future)
        try:
            for future in as_completed(futures):
                yield by_key[future.key], future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
