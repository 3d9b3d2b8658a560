"""Results store: an embedded SQLite database in the output folder that survives interruption.

One row per (value, trial, scheme). The rows of a trial are written in one transaction
(WAL journal, synchronous=FULL), so a run killed at any moment (SIGKILL included) loses at
most the trials in flight and never leaves a half-written trial or a corrupt file.
Re-running the same sweep skips the trials already stored.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from frisac.errors import FrisacInputError
from frisac.io import atomic_write, write_text_atomic

__all__ = ["COLUMNS", "STORE_NAME", "ResultStore"]

STORE_NAME = "results.sqlite"

# (name, SQL type) of every column of the results table, in export order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("value_index", "INTEGER NOT NULL"),
    ("value", "TEXT NOT NULL"),
    ("trial", "INTEGER NOT NULL"),
    ("scheme", "TEXT NOT NULL"),
    ("method", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("feasible", "INTEGER NOT NULL"),
    ("trace_mcrb_phi", "REAL"),
    ("crb_perfect_trace_phi", "REAL"),
    ("trace_mse_bound_phi", "REAL"),
    ("bias_phi_e", "REAL"),
    ("bias_phi_a", "REAL"),
    ("fit_snr_db", "REAL"),
    ("ambiguity_margin", "REAL"),
    ("bound_valid", "INTEGER"),
    ("min_sinr_db", "REAL"),
    ("sinr_db", "TEXT"),
    ("power_w", "REAL"),
    ("iterations", "INTEGER"),
    ("seconds", "REAL"),
    ("solver", "TEXT"),
    ("n_sdps", "INTEGER"),
    ("seed", "TEXT NOT NULL"),
    ("message", "TEXT"),
    ("history", "TEXT"),
)
_NAMES = [name for name, _ in COLUMNS]


class ResultStore:
    """The SQLite store of one sweep (one folder holds one sweep)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / STORE_NAME
        self._conn: sqlite3.Connection | None = None

    # -------------------------------------------------------------- connection
    def open(self, *, create: bool) -> ResultStore:
        if not create and not self.path.exists():
            raise FrisacInputError(f"results folder {str(self.folder)!r}: no {STORE_NAME} found")
        try:
            if create:
                self.folder.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS results ({columns}, "
                "PRIMARY KEY (value_index, trial, scheme))"
            )
        except (sqlite3.Error, OSError) as exc:
            raise FrisacInputError(
                f"results folder {str(self.folder)!r}: cannot open the store ({exc})"
            ) from None
        self._conn = conn
        return self

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("store is not open")
        return self._conn

    # -------------------------------------------------------------- meta
    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def claim(self, fingerprint: str, description: str) -> None:
        """Bind the store to a sweep; refuse a store written by another sweep."""
        existing = self.get_meta("fingerprint")
        if existing is None:
            self.conn.execute("BEGIN IMMEDIATE")
            self.set_meta("fingerprint", fingerprint)
            self.set_meta("description", description)
            self.conn.execute("COMMIT")
        elif existing != fingerprint:
            other = self.get_meta("description") or "unknown"
            raise FrisacInputError(
                f"results folder {str(self.folder)!r} holds another sweep ({other}); "
                "use a new --out folder or the command that created it"
            )

    def add_code(self, code: str) -> list[str]:
        """Record that ``code`` (a code fingerprint) writes to this store.

        Returns the OTHER code fingerprints that wrote to it before, oldest first.
        """
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            codes = json.loads(self.get_meta("code_fingerprints") or "[]")
            earlier = [c for c in codes if c != code]
            if code not in codes:
                self.set_meta("code_fingerprints", json.dumps([*codes, code]))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return earlier

    # -------------------------------------------------------------- rows
    def completed_units(self, schemes: Sequence[str]) -> set[tuple[int, int]]:
        """(value_index, trial) pairs whose every requested scheme is stored."""
        rows = self.conn.execute("SELECT value_index, trial, scheme FROM results").fetchall()
        have: dict[tuple[int, int], set[str]] = {}
        for value_index, trial, scheme in rows:
            have.setdefault((int(value_index), int(trial)), set()).add(str(scheme))
        need = set(schemes)
        return {unit for unit, stored in have.items() if need <= stored}

    def write_trial(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert the rows of one trial in one transaction (existing rows are kept)."""
        placeholders = ", ".join("?" for _ in _NAMES)
        sql = f"INSERT OR IGNORE INTO results ({', '.join(_NAMES)}) VALUES ({placeholders})"
        values = [tuple(row.get(name) for name in _NAMES) for row in rows]
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(sql, values)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def rows(self) -> list[dict[str, Any]]:
        cursor = self.conn.execute(
            f"SELECT {', '.join(_NAMES)} FROM results ORDER BY value_index, trial, scheme"
        )
        return [dict(zip(_NAMES, row, strict=True)) for row in cursor.fetchall()]

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    # -------------------------------------------------------------- export
    def export_csv(self, path: str | Path, *, columns: Sequence[str] | None = None) -> int:
        """Write the results as a tidy CSV (one row per value, trial, scheme); returns rows."""
        names = list(columns) if columns else [n for n in _NAMES if n != "history"]
        rows = self.rows()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(names)
        for row in rows:
            writer.writerow([row[n] for n in names])
        write_text_atomic(path, buffer.getvalue())
        return len(rows)

    def export_parquet(self, path: str | Path) -> int:
        """Write the results as Parquet (pyarrow), atomically; returns rows."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = self.rows()
        names = [n for n in _NAMES if n != "history"]
        table = pa.table({n: [row[n] for row in rows] for n in names})
        with atomic_write(path) as handle:
            pq.write_table(table, handle)
        return len(rows)


def iter_json_rows(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows with their JSON columns decoded (sinr_db list, history list, value)."""
    for row in rows:
        out = dict(row)
        for key in ("sinr_db", "history", "value"):
            if isinstance(out.get(key), str):
                out[key] = json.loads(out[key])
        yield out
