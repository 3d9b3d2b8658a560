"""Design of W, Rs and the working RIS phases: the paper's BCD, frisac's direct method, schemes."""

from frisac.optimize.bcd import PaperOptions, paper_bcd
from frisac.optimize.result import IterationRecord, OptimizeResult
from frisac.optimize.schemes import (
    METHODS,
    SCHEMES,
    SchemeOptions,
    run_scheme,
    run_schemes,
    scheme_options,
)

__all__ = [
    "METHODS",
    "SCHEMES",
    "IterationRecord",
    "OptimizeResult",
    "PaperOptions",
    "SchemeOptions",
    "paper_bcd",
    "run_scheme",
    "run_schemes",
    "scheme_options",
]
