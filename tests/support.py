"""Helpers shared by the tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from frisac import Design, Realization
from frisac.design import random_design
from frisac.experiments import ResultStore
from frisac.metrics import evaluate

REFERENCE_DIR = Path(__file__).parent / "data" / "reference_cases"
REFERENCE_CASES = ("p1_default_heuristic", "p2_F60_heuristic", "p3_small_heuristic")


def design_for(realization: Realization, seed: int = 0, **kwargs: object) -> Design:
    """A random full-power design shaped for ``realization``."""
    return random_design(
        np.random.default_rng(seed),
        N_t=realization.N_t,
        K=realization.K,
        R=realization.R,
        power_w=realization.p_max_w,
        **kwargs,  # type: ignore[arg-type]
    )


def assert_feasible(r: Realization, d: Design) -> None:
    ev = evaluate(r, d)
    assert np.all(ev.comm.sinr >= r.sinr_min * (1 - 1e-6)), ev.comm.sinr_db
    assert ev.comm.power_w <= r.p_max_w * (1 + 1e-6)
    np.testing.assert_allclose(np.abs(d.psi[r.working_idx]), 1.0, atol=1e-9)
    assert np.linalg.eigvalsh(np.asarray(d.Rs)).min() >= -1e-12 * r.p_max_w


# ---------------------------------------------------------------- sweeps
SMALL = [
    *("--set", "N_t=6", "--set", "N_r=6", "--set", "R_y=3", "--set", "R_z=3"),
    *("--set", "K=1", "--set", "noise_sensing_dbm=-170"),
]
FRISAC = [sys.executable, "-m", "frisac.cli"]
# Sweep tests are about storage, resumption and executors, not the optimiser: one start per
# round, at most two rounds (the settings of reproduce --quick).
LIGHT_DIRECT = [
    *("--option", "direct.starts=1", "--option", "direct.restarts=1"),
    *("--option", "direct.rounds=2"),
]


def sweep_argv(out: Path, *extra: str, trials: int = 2, workers: int = 1) -> list[str]:
    return [
        "sweep",
        *SMALL,
        "--vary",
        "F=1,3",
        "--schemes",
        "perfect,naive,proposed",
        "--trials",
        str(trials),
        "--seed",
        "7",
        "--workers",
        str(workers),
        "--out",
        str(out),
        *LIGHT_DIRECT,
        "--quiet",
        *extra,
    ]


def store_rows(folder: Path) -> list[tuple]:
    """Stored rows without wall times (which differ between runs); everything else exact."""
    with ResultStore(folder).open(create=False) as store:
        rows = store.rows()
    out = []
    for row in rows:
        history = json.loads(row["history"]) if row["history"] else []
        for record in history:
            record.pop("seconds", None)
        row = {**row, "history": json.dumps(history)}
        out.append(tuple(v for k, v in row.items() if k != "seconds"))
    return out
