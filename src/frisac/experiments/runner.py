"""Run a sweep: schedule the pending trials on an executor, store each as it completes.

Executors. ``local`` (default) runs trials on a pool of local processes (``--workers``,
default: all cores; one worker runs in-process). ``dask`` sends them to a Dask cluster
(``--scheduler ADDRESS``, or a ``distributed.LocalCluster`` with ``--workers`` processes).
Whatever the executor, results flow back to the one SQLite store of the client, each
trial committed as it completes; the numbers are identical because every trial is a
pure function of (sweep, value, trial).

Interruption. Ctrl-C (or SIGTERM) cancels the pending trials and keeps what is stored;
re-running the same command resumes. SIGKILL loses only the trials in flight.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm import tqdm

from frisac._processes import exit_with_parent
from frisac.errors import FrisacInputError
from frisac.experiments.spec import SweepSpec
from frisac.experiments.store import ResultStore
from frisac.experiments.trial import TrialTask, run_trial
from frisac.io import write_json_atomic

__all__ = ["SweepInterrupted", "SweepOutcome", "pending_tasks", "provenance", "run_sweep"]

PROVENANCE_NAME = "provenance.json"
_PACKAGES = (
    "frisac",
    "numpy",
    "scipy",
    "cvxpy",
    "sdpa-python",
    "scs",
    "clarabel",
    "matplotlib",
    "dask",
    "distributed",
    "pyarrow",
)
_BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class SweepInterrupted(Exception):  # noqa: N818 - an outcome, not an error
    """The sweep was stopped (Ctrl-C); what was stored stays and the run can be resumed."""

    def __init__(self, stored: int, total: int) -> None:
        super().__init__(f"interrupted: {stored} of {total} trials stored")
        self.stored = stored
        self.total = total


@dataclass(frozen=True)
class SweepOutcome:
    """What one call of :func:`run_sweep` did."""

    total_trials: int
    already_stored: int
    computed: int
    failed_rows: int
    seconds: float
    executor: str
    workers: int

    @property
    def trials_per_minute(self) -> float:
        return 60.0 * self.computed / self.seconds if self.seconds > 0 else float("nan")


def pending_tasks(spec: SweepSpec, completed: set[tuple[int, int]]) -> list[TrialTask]:
    """Tasks not yet stored, trial-major (so a partial run covers every value evenly)."""
    options = json.loads(json.dumps(spec.options))
    tasks = []
    for trial in range(spec.trials):
        for index, value in enumerate(spec.values):
            if (index, trial) in completed:
                continue
            scenario = spec.scenario_at(value).to_mapping()
            tasks.append(
                TrialTask(
                    value_index=index,
                    value=value,
                    trial=trial,
                    scenario=scenario,
                    schemes=spec.schemes,
                    method=spec.method,
                    root_seed=spec.root_seed,
                    options=options,
                )
            )
    return tasks


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def code_fingerprint() -> str:
    """A hash of frisac's own source (every .py file of the package, by relative path).

    Changes whenever the code that computes a trial changes (and also for a comment), so a
    resumed sweep can tell whether its stored trials came from the same code.
    """
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def provenance(
    spec: SweepSpec, *, command: Sequence[str] | None, executor: str, workers: int, code: str
) -> dict:
    """Where the numbers came from: scenario, command, seed, versions, commit, times."""
    return {
        "sweep": spec.identity(),
        "trials": spec.trials,
        "fingerprint": spec.fingerprint,
        "command": list(command) if command is not None else sys.argv,
        "root_seed": spec.root_seed,
        "frisac_version": _versions().get("frisac", "unknown"),
        "git_commit": _git_commit(),
        "code_fingerprint": code,
        "packages": _versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "executor": executor,
        "workers": workers,
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "finished_utc": None,
    }


# ------------------------------------------------------------------ executors
TaskResult = tuple[TrialTask, list[dict[str, Any]]]


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Children inherit one BLAS thread each (set before they import numpy)."""
    saved = {key: os.environ.get(key) for key in _BLAS_ENV}
    for key in _BLAS_ENV:
        os.environ[key] = "1"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _InlineExecutor:
    """One worker: trials run in this process, one after the other."""

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[TaskResult]:
        for task in tasks:
            yield task, run_trial(task)

    def close(self) -> None:
        return None


class _ProcessExecutor:
    """A pool of spawned local processes with a bounded number of trials in flight."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[TaskResult]:
        context = multiprocessing.get_context("spawn")
        with _single_threaded_blas():
            pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=exit_with_parent,
                initargs=(os.getpid(),),
            )
            pending: dict[Future[list[dict[str, Any]]], TrialTask] = {}
            queue = list(tasks)
            try:
                # Keep few trials in flight so an interruption loses little.
                while queue or pending:
                    while queue and len(pending) < 2 * self.workers:
                        task = queue.pop(0)
                        pending[pool.submit(run_trial, task)] = task
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = pending.pop(future)
                        yield task, future.result()
            finally:
                for future in pending:
                    future.cancel()
                pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        return None


def make_executor(
    kind: str,
    *,
    workers: int,
    scheduler: str | None,
    on_dashboard: Callable[[str], None] | None = None,
) -> Any:
    """An executor with ``run(tasks)`` (yielding (task, rows) as they complete) and ``close()``.

    Connecting to a Dask scheduler happens here, before anything is written.
    """
    if kind == "local":
        if scheduler is not None:
            raise FrisacInputError("--scheduler needs --executor dask (or leave --executor out)")
        return _InlineExecutor() if workers == 1 else _ProcessExecutor(workers)
    if kind == "dask":
        from frisac.experiments.cluster import DaskExecutor

        return DaskExecutor(workers=workers, scheduler=scheduler, on_dashboard=on_dashboard)
    raise FrisacInputError(f"--executor {kind!r}: expected 'local' or 'dask'")


def run_sweep(
    spec: SweepSpec,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    progress: bool = True,
    command: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> SweepOutcome:
    """Run (or resume) a sweep into ``out_dir``; returns what this call did.

    Raises SweepInterrupted on Ctrl-C after keeping every completed trial.
    """
    if scheduler is not None and executor == "local":
        executor = "dask"
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if n_workers < 1:
        raise FrisacInputError(f"--workers {n_workers}: expected an integer >= 1")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FrisacInputError(f"--out {str(out)!r}: exists and is not a folder")
    say = log or (lambda text: print(text, file=sys.stderr))
    start = time.perf_counter()
    runner = make_executor(  # connect first: a dead scheduler must leave nothing behind
        executor,
        workers=n_workers,
        scheduler=scheduler,
        on_dashboard=lambda url: say(f"Dask dashboard: {url}"),
    )
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FrisacInputError(
                f"--out {str(out)!r}: cannot create the folder ({exc.strerror})"
            ) from None
        if not os.access(out, os.W_OK):
            raise FrisacInputError(f"--out {str(out)!r}: folder is not writable")
        return _run_with(spec, out, runner, executor, n_workers, progress, command, say, start)
    finally:
        runner.close()


def _run_with(
    spec: SweepSpec,
    out: Path,
    runner: Any,
    executor: str,
    n_workers: int,
    progress: bool,
    command: Sequence[str] | None,
    say: Callable[[str], None],
    start: float,
) -> SweepOutcome:
    with ResultStore(out).open(create=True) as store:
        store.claim(spec.fingerprint, spec.describe())
        code = code_fingerprint()
        earlier_codes = store.add_code(code)
        completed = store.completed_units(spec.schemes)
        total = spec.trials * len(spec.values)
        already = sum(1 for unit in completed if unit[1] < spec.trials)
        tasks = pending_tasks(spec, completed)
        record = provenance(spec, command=command, executor=executor, workers=n_workers, code=code)
        record["resumed_with_stored_trials"] = already
        record["code_fingerprints_in_store"] = [*earlier_codes, code]
        write_json_atomic(out / PROVENANCE_NAME, record)
        if already:
            say(f"resuming: {already} of {total} trials already stored in {out}")
            if earlier_codes:
                say(
                    f"warning: stored trials were computed by other frisac code "
                    f"({', '.join(earlier_codes)}; now {code}); new trials use this code, "
                    "so the sweep mixes versions (start a new --out folder to avoid that)"
                )
        failed = 0
        computed = 0
        bar = tqdm(
            total=total,
            initial=already,
            desc="trials",
            unit="trial",
            disable=not progress,
            file=sys.stderr,
            smoothing=0.1,
        )
        stream = runner.run(tasks)
        try:
            for _task, rows in stream:
                store.write_trial(rows)
                computed += 1
                failed += sum(1 for row in rows if row.get("status") == "failed")
                bar.update(1)
                if failed:
                    bar.set_postfix_str(f"failed rows {failed}")
        except KeyboardInterrupt:
            bar.close()
            stream.close()
            raise SweepInterrupted(already + computed, total) from None
        finally:
            bar.close()
            record["finished_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            record["stored_trials"] = already + computed
            write_json_atomic(out / PROVENANCE_NAME, record)
    return SweepOutcome(
        total_trials=total,
        already_stored=already,
        computed=computed,
        failed_rows=failed,
        seconds=time.perf_counter() - start,
        executor=executor,
        workers=n_workers,
    )
