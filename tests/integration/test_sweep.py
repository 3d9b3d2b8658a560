"""`frisac sweep`, the results store, resumption after SIGKILL, export and bad input."""

import contextlib
import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from frisac.cli import main
from frisac.experiments import ResultStore
from frisac.experiments.runner import code_fingerprint
from frisac.experiments.spec import SweepSpec
from frisac.scenario import Scenario
from support import FRISAC
from support import store_rows as _rows
from support import sweep_argv as _sweep

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")


def test_same_seed_same_store_for_one_and_two_workers(reference_store, tmp_path) -> None:
    out = tmp_path / "two_workers"
    assert main(_sweep(out, workers=2)) == 0
    rows = _rows(out)
    assert len(rows) == 2 * 2 * 3  # values x trials x schemes
    assert rows == _rows(reference_store)
    assert (out / "provenance.json").exists()


def test_rerun_skips_finished_rows_and_more_trials_extend(
    reference_store, tmp_path, capsys
) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(reference_store, out)
    assert main(_sweep(out)) == 0  # nothing to do
    said = capsys.readouterr()
    assert "0 trial(s) computed" in said.out
    assert "other frisac code" not in said.err  # same code as the stored trials
    # Pretend the stored trials came from other code: extending the sweep says so.
    with ResultStore(out).open(create=False) as store:
        store.set_meta("code_fingerprints", json.dumps(["0123456789abcdef"]))
    assert main(_sweep(out, trials=3)) == 0  # extends by one trial per value
    warning = capsys.readouterr().err
    assert "stored trials were computed by other frisac code (0123456789abcdef" in warning
    record = json.loads((out / "provenance.json").read_text())
    assert record["code_fingerprints_in_store"] == ["0123456789abcdef", code_fingerprint()]
    assert len(_rows(out)) == 2 * 3 * 3
    first_two = [r for r in _rows(out) if r[2] < 2]
    assert first_two == _rows(reference_store)


def test_code_fingerprint_follows_the_source(tmp_path, monkeypatch) -> None:
    import shutil

    import frisac
    import frisac.experiments.runner as runner

    original = code_fingerprint()
    copy = tmp_path / "frisac"
    shutil.copytree(Path(frisac.__file__).parent, copy)
    monkeypatch.setattr(runner, "__file__", str(copy / "experiments" / "runner.py"))
    assert code_fingerprint() == original  # same source elsewhere, same hash
    with open(copy / "metrics" / "sinr.py", "a") as handle:
        handle.write("\n")
    assert code_fingerprint() != original


def _session_members(session: int) -> list[int]:
    """Live processes of a session (the client, its workers and their children), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def test_sigkill_then_resume_gives_exactly_the_uninterrupted_store(
    reference_store, tmp_path
) -> None:
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*FRISAC, *_sweep(out, workers=2)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(out / "results.sqlite", timeout=1) as conn:
                stored = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        except sqlite3.Error:
            stored = 0
        if stored >= 3:
            break
    workers = [pid for pid in _session_members(proc.pid) if pid != proc.pid]
    os.kill(proc.pid, signal.SIGKILL)  # the client only, as `kill -9 PID` would
    proc.wait()
    assert 0 < stored < 12, "the kill should land mid-sweep"
    assert len(workers) >= 2, "the sweep should have two worker processes"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _session_members(proc.pid):
        time.sleep(0.2)
    orphans = _session_members(proc.pid)  # workers and anything they started
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    assert not orphans, "worker processes must not outlive a killed client"
    with sqlite3.connect(out / "results.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert main(_sweep(out, workers=2)) == 0
    rows = _rows(out)
    keys = [(r[0], r[2], r[3]) for r in rows]
    assert len(keys) == len(set(keys)) == 12  # exactly one row per (value, trial, scheme)
    assert rows == _rows(reference_store)


def test_export_csv_and_parquet(reference_store, tmp_path, capsys) -> None:
    import csv

    import pyarrow.parquet as pq

    assert (
        main(["results", "export", str(reference_store), "--csv", "--out", str(tmp_path / "r.csv")])
        == 0
    )
    with open(tmp_path / "r.csv") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 12 and {"value", "trial", "scheme", "trace_mcrb_phi"} <= table[0].keys()
    out = tmp_path / "r.parquet"
    assert main(["results", "export", str(reference_store), "--parquet", "--out", str(out)]) == 0
    assert pq.read_table(out).num_rows == 12
    assert "wrote 12 rows" in capsys.readouterr().out


def test_method_options_reach_the_optimiser_and_the_sweep_identity(reference_store, capsys) -> None:
    from frisac.optimize import scheme_options
    from frisac.optimize.schemes import parse_method_options

    settings = parse_method_options(
        ["direct.starts=2", "direct.require_valid_bound=false", "direct.barrier_weights=1e-2,1e-4"]
        + ["paper.max_iterations=5", "paper.solvers=SDPA,SCS", "direct.tolerance=1e-7"]
    )
    assert settings == {
        "direct": {
            "starts": 2,
            "require_valid_bound": False,
            "barrier_weights": [0.01, 0.0001],
            "tolerance": 1e-7,
        },
        "paper": {"max_iterations": 5, "solvers": ["SDPA", "SCS"]},
    }
    options = scheme_options("direct", json.loads(json.dumps(settings)))  # as a worker gets it
    assert options.direct.starts == 2 and options.direct.barrier_weights == (0.01, 0.0001)
    assert options.direct.require_valid_bound is False and options.paper.solvers == ("SDPA", "SCS")
    # the CLI's settings are recorded in the sweep's identity, and a store made with other
    # settings is refused
    record = json.loads((reference_store / "provenance.json").read_text())
    assert record["sweep"]["options"] == {"direct": {"starts": 1, "restarts": 1, "rounds": 2}}
    assert main([*_sweep(reference_store), "--option", "direct.rounds=3"]) == 2
    assert "holds another sweep" in capsys.readouterr().err


def test_bad_sweep_input_exit_2_one_line(reference_store, tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cases = [
        (_sweep(tmp_path / "a", trials=0), "--trials"),
        ([*_sweep(tmp_path / "b")[:-1], "--vary", "F=1,99"], "F=99 exceeds R=9"),
        ([*_sweep(tmp_path / "c"), "--schemes", "perfect,best"], "unknown scheme 'best'"),
        ([*_sweep(tmp_path / "d"), "--vary", "Q=1,2"], "unknown key 'Q'"),
        (_sweep(blocker / "sub"), "cannot create the folder"),
        (_sweep(Path("/proc/frisac-not-writable")), "cannot create the folder"),
        ([*_sweep(reference_store), "--seed", "8"], "holds another sweep"),
        (["results", "export", str(tmp_path / "none"), "--csv"], "no results.sqlite"),
        ([*_sweep(tmp_path / "e"), "--option", "direct.startz=1"], "no setting 'startz'"),
        ([*_sweep(tmp_path / "f"), "--option", "direct.starts=two"], "expected an integer"),
        ([*_sweep(tmp_path / "g"), "--option", "newton.steps=1"], "expected direct.KEY=VALUE"),
        # checked once before the sweep starts, not recorded as a failure in every trial
        (
            [*_sweep(tmp_path / "h"), "--option", "direct.workers=0"],
            "direct.workers: 0; expected an integer >= 1",
        ),
    ]
    for argv, message in cases:
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert message in err and err.strip().count("\n") == 0 and "Traceback" not in err
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    assert not (tmp_path / "h").exists()


def test_speed_only_settings_are_not_part_of_the_sweep_identity() -> None:
    base = SweepSpec(Scenario.default(), "F", (0, 20), ("perfect",), trials=1)
    same = dataclasses.replace(base, options={"direct": {"workers": 2}})
    other = dataclasses.replace(base, options={"direct": {"workers": 2, "starts": 2}})
    assert same.fingerprint == base.fingerprint
    assert other.fingerprint != base.fingerprint
