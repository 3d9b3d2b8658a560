"""Monte-Carlo sweeps, the results store and the reproduction of the paper's figures."""

from frisac.experiments.figures import FIGURES, reproduce
from frisac.experiments.runner import SweepInterrupted, SweepOutcome, run_sweep
from frisac.experiments.spec import SweepSpec, parse_schemes, parse_vary
from frisac.experiments.store import ResultStore

__all__ = [
    "FIGURES",
    "ResultStore",
    "SweepInterrupted",
    "SweepOutcome",
    "SweepSpec",
    "parse_schemes",
    "parse_vary",
    "reproduce",
    "run_sweep",
]
