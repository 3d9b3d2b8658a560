"""Helpers for frisac's worker processes."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

__all__ = ["exit_with_parent"]


def exit_with_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    """Pool-worker initializer: end this worker once its parent is gone.

    A worker of a killed client (SIGKILL) would otherwise wait on its task queue forever.
    """

    def watch() -> None:  # pragma: no cover - runs in the worker process
        while os.getppid() == parent_pid:
            time.sleep(interval_s)
        for child in multiprocessing.active_children():  # e.g. an SDPA solve in flight
            child.kill()
        os._exit(1)

    threading.Thread(target=watch, name="frisac-parent-watch", daemon=True).start()
