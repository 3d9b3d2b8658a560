"""The four schemes of the paper's Section VI over one realisation (MODEL.md section 7).

* perfect  - the upper bound: a fault-free RIS (every element works) and the design that
             minimises the CRB under the same constraints (Song et al. 2024, P3, in 2-D).
             Its metrics are evaluated on the fault-free realisation (MCRB = CRB).
* naive    - the perfect design applied to the faulty RIS; SINR constraints may fail.
* proposed - the paper's algorithm (or frisac's direct method) on the faulty RIS, started
             from the perfect design's phases (faulty entries stay commanded at them).
* random   - the proposed W and Rs with uniformly random working phases.

``naive`` needs ``perfect``, ``proposed`` needs ``perfect`` (its start) and ``random``
needs ``proposed``: :func:`run_schemes` runs each dependency once and shares it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from frisac.design import Design
from frisac.errors import FrisacInputError
from frisac.metrics import evaluate
from frisac.optimize.bcd import PaperOptions, paper_bcd
from frisac.optimize.direct import DirectOptions, direct_optimize
from frisac.optimize.result import OptimizeResult
from frisac.optimize.transmit import cophase_psi
from frisac.realization import Realization

__all__ = [
    "METHODS",
    "SCHEMES",
    "SchemeOptions",
    "parse_method_options",
    "run_scheme",
    "run_schemes",
    "scheme_options",
]

SCHEMES = ("perfect", "naive", "proposed", "random")
METHODS = ("paper", "direct")
_NEEDS = {"perfect": (), "naive": ("perfect",), "proposed": ("perfect",), "random": ("proposed",)}

Progress = Callable[[str, int, int, float], None]


@dataclass(frozen=True)
class SchemeOptions:
    """Options shared by the schemes: method and its settings."""

    method: str = "direct"
    paper: PaperOptions = field(default_factory=PaperOptions)
    direct: DirectOptions = field(default_factory=DirectOptions)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise FrisacInputError(f"method={self.method!r}: expected one of {', '.join(METHODS)}")


_SETTINGS: dict[str, type] = {"paper": PaperOptions, "direct": DirectOptions}


def parse_method_options(assignments: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Optimiser settings from ``METHOD.KEY=VALUE`` texts (the CLI's ``--option``).

    ``direct.starts=1`` or ``paper.max_iterations=5``: KEY is a field of DirectOptions or
    PaperOptions and VALUE is read as that field's type (true/false for booleans, a comma
    list for tuples). Returns ``{"direct": {...}, "paper": {...}}`` (methods without
    settings left out), JSON-able, as a sweep's ``options``.
    """
    out: dict[str, dict[str, Any]] = {}
    for text in assignments:
        where = f"--option {text!r}"
        name, sep, raw = text.partition("=")
        method, dot, key = name.strip().partition(".")
        if not sep or not dot or method not in _SETTINGS:
            raise FrisacInputError(f"{where}: expected direct.KEY=VALUE or paper.KEY=VALUE")
        defaults = {f.name: f.default for f in fields(_SETTINGS[method])}
        if key not in defaults:
            raise FrisacInputError(
                f"{where}: {method} has no setting {key!r}; expected one of "
                f"{', '.join(sorted(defaults))}"
            )
        out.setdefault(method, {})[key] = _typed(where, defaults[key], raw.strip())
    return out


def scheme_options(method: str, options: dict[str, Any]) -> SchemeOptions:
    """SchemeOptions from JSON-able settings (a sweep's ``options``, the output of
    :func:`parse_method_options`); raises FrisacInputError on a bad setting."""
    paper = PaperOptions(**_tuples(options.get("paper", {})))
    direct = DirectOptions(**_tuples(options.get("direct", {})))
    return SchemeOptions(method=method, paper=paper, direct=direct)


def _tuples(settings: dict[str, Any]) -> dict[str, Any]:
    """JSON lists back to the tuples of the options dataclasses."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}


def _typed(where: str, default: Any, raw: str) -> Any:
    """``raw`` read as the type of ``default``; one clear line if it is not one."""
    if isinstance(default, bool):
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise FrisacInputError(f"{where}: expected true or false")
    if isinstance(default, tuple):
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if not items:
            raise FrisacInputError(f"{where}: expected a comma-separated list")
        if default and isinstance(default[0], str):
            return items
        return [_typed(where, 0.0, item) for item in items]
    kind, label = (int, "an integer") if isinstance(default, int) else (float, "a number")
    try:
        value = kind(raw)
    except ValueError:
        raise FrisacInputError(f"{where}: expected {label}") from None
    if not np.isfinite(value) or value < 0:
        raise FrisacInputError(f"{where}: expected {label} >= 0")
    return value


def _optimise(
    realization: Realization,
    psi_init: np.ndarray,
    scheme: str,
    options: SchemeOptions,
    progress: Progress | None,
    start: Design | None = None,
    extra_phases: tuple[np.ndarray, ...] = (),
) -> OptimizeResult:
    def report(i: int, n: int, value: float) -> None:
        if progress is not None:
            progress(scheme, i, n, value)

    if options.method == "paper":
        return paper_bcd(
            realization, psi_init, options=options.paper, scheme=scheme, progress=report
        )
    return direct_optimize(
        realization,
        psi_init,
        start=start,
        extra_phases=extra_phases,
        scheme=scheme,
        options=options.direct,
        progress=report,
    )


def _derived(
    scheme: str, base: OptimizeResult, realization: Realization, design: Design | None, start: float
) -> OptimizeResult:
    if design is None:
        return replace(base, scheme=scheme, design=None, evaluation=None, history=(), n_sdps=0)
    return OptimizeResult(
        scheme=scheme,
        method=base.method,
        status=base.status,
        design=design,
        evaluation=evaluate(realization, design),
        seconds=time.perf_counter() - start,
        solver=base.solver,
        message=f"derived from the {base.scheme} design",
    )


def run_schemes(
    realization: Realization,
    schemes: Iterable[str],
    *,
    options: SchemeOptions | None = None,
    rng: np.random.Generator | None = None,
    progress: Progress | None = None,
) -> dict[str, OptimizeResult]:
    """Run the requested schemes (and what they depend on) on one realisation.

    ``rng`` draws the random phases of the ``random`` scheme (required for it).
    Returns every scheme that was run, requested or needed.
    """
    opts = options or SchemeOptions()
    wanted = list(dict.fromkeys(schemes))
    for name in wanted:
        if name not in SCHEMES:
            raise FrisacInputError(f"scheme={name!r}: expected one of {', '.join(SCHEMES)}")
    needed: list[str] = []
    for name in wanted:
        for dep in (*_NEEDS[name], *(d2 for d in _NEEDS[name] for d2 in _NEEDS[d])):
            if dep not in needed:
                needed.append(dep)
        if name not in needed:
            needed.append(name)
    order = [s for s in SCHEMES if s in needed]
    results: dict[str, OptimizeResult] = {}
    clean = realization.without_faults()
    initial_phases = cophase_psi(clean)  # the paper's initialisation (Sec. V-E)
    for name in order:
        start = time.perf_counter()
        if name == "perfect":
            result = _optimise(clean, initial_phases, "perfect", opts, progress)
        elif name == "naive":
            perfect = results["perfect"]
            result = _derived("naive", perfect, realization, perfect.design, start)
        elif name == "proposed":
            perfect = results["perfect"]
            if perfect.design is None:
                result = replace(
                    perfect, scheme="proposed", message="no perfect design to start from"
                )
            else:
                result = _optimise(
                    realization,
                    perfect.design.psi,
                    "proposed",
                    opts,
                    progress,
                    start=perfect.design,
                    # The direct method also descends from the paper's initial phases:
                    # the perfect design's phases are often a poor basin once elements
                    # fail (benchmarks: 4 of 10 Table I seeds).
                    extra_phases=(initial_phases,),
                )
        else:
            if rng is None:
                raise ValueError("the random scheme needs an rng")
            proposed = results["proposed"]
            design = None
            if proposed.design is not None:
                psi = np.array(proposed.design.psi)
                work = realization.working_idx
                psi[work] = np.exp(1j * rng.uniform(0.0, 2.0 * np.pi, work.size))
                design = Design(W=proposed.design.W, Rs=proposed.design.Rs, psi=psi)
            result = _derived("random", proposed, realization, design, start)
        results[name] = result
    return results


def run_scheme(
    realization: Realization,
    scheme: str,
    *,
    options: SchemeOptions | None = None,
    rng: np.random.Generator | None = None,
    progress: Progress | None = None,
) -> OptimizeResult:
    """Run one scheme (with its dependencies) and return its result."""
    return run_schemes(realization, [scheme], options=options, rng=rng, progress=progress)[scheme]
