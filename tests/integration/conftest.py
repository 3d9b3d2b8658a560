"""Fixtures shared by the sweep and cluster tests."""

from pathlib import Path

import pytest

from frisac.cli import main
from support import sweep_argv


@pytest.fixture(scope="session")
def reference_store(tmp_path_factory) -> Path:
    """The small sweep of support.sweep_argv run with one in-process worker."""
    out = tmp_path_factory.mktemp("sweep") / "one_worker"
    assert main(sweep_argv(out, workers=1)) == 0
    return out
