"""A sweep: a scenario, one parameter varied over a list of values, schemes and trials.

Seeding. Trial t of every value draws its realisation from
``SeedSequence(root_seed, spawn_key=(t, 0))`` and the random scheme's phases from
``spawn_key=(t, 1)``: the numbers depend only on (root seed, trial), never on the worker
count or the order of execution, and all schemes of a trial share channels and faults
(common random numbers across values, too, which makes the curves smoother).

Identity. A sweep's fingerprint hashes everything that changes its numbers (scenario,
varied key and values, schemes, method and its options, root seed) but not the number
of trials, so re-running with more trials extends a study instead of starting anew, nor
settings that only change how fast the numbers come (``direct.workers``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frisac.errors import FrisacInputError
from frisac.optimize import METHODS, SCHEMES, scheme_options
from frisac.scenario import Scenario, parse_assignment

__all__ = ["SweepSpec", "parse_schemes", "parse_vary", "trial_seed"]

# Settings that change how the numbers are computed but never the numbers themselves: left
# out of a sweep's identity, so a sweep can be resumed with other values.
_SPEED_ONLY_OPTIONS = {"direct": ("workers",)}


def parse_vary(text: str) -> tuple[str, tuple[Any, ...]]:
    """``KEY=V1,V2,...`` -> (key, values); each value parsed as TOML (``F=0,20,40``)."""
    if "=" not in text:
        raise FrisacInputError(f"--vary {text!r}: expected KEY=V1,V2,..., e.g. --vary F=0,20,40")
    key, raw = (part.strip() for part in text.split("=", 1))
    if not raw:
        raise FrisacInputError(f"--vary {text!r}: no values after '='")
    values = []
    for item in raw.split(","):
        if not item.strip():
            raise FrisacInputError(f"--vary {text!r}: empty value in the list")
        values.append(parse_assignment(f"{key}={item}")[1])
    if len(set(map(str, values))) != len(values):
        raise FrisacInputError(f"--vary {text!r}: repeated values")
    return key, tuple(values)


def parse_schemes(text: str) -> tuple[str, ...]:
    """``perfect,naive,...`` -> tuple of known scheme names (order kept, no repeats)."""
    names = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not names:
        raise FrisacInputError(f"--schemes {text!r}: expected a comma-separated list")
    for name in names:
        if name not in SCHEMES:
            raise FrisacInputError(
                f"--schemes: unknown scheme {name!r}; expected some of {', '.join(SCHEMES)}"
            )
    return names


def trial_seed(root_seed: int, trial: int, stream: int = 0) -> np.random.SeedSequence:
    """SeedSequence of a trial: stream 0 draws the realisation, stream 1 the random phases."""
    return np.random.SeedSequence(root_seed, spawn_key=(trial, stream))


@dataclass(frozen=True)
class SweepSpec:
    """Everything that defines a sweep's numbers (trials only sets how many are run)."""

    scenario: Scenario
    vary_key: str
    values: tuple[Any, ...]
    schemes: tuple[str, ...]
    trials: int
    root_seed: int = 0
    method: str = "direct"
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise FrisacInputError(f"--trials {self.trials}: expected an integer >= 1")
        if self.method not in METHODS:
            raise FrisacInputError(f"--method {self.method!r}: expected one of {METHODS}")
        if self.root_seed < 0:
            raise FrisacInputError(f"--seed {self.root_seed}: expected an integer >= 0")
        for value in self.values:  # every value must give a valid scenario: fail early
            self.scenario_at(value)
        scheme_options(self.method, self.options)  # and the settings too, not in every trial

    def scenario_at(self, value: Any) -> Scenario:
        """The scenario with the varied key set to ``value`` (validated)."""
        try:
            return self.scenario.replace(**{self.vary_key: value})
        except FrisacInputError as exc:
            raise FrisacInputError(f"--vary {self.vary_key}={value!r}: {exc}") from None

    def identity(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.to_mapping(),
            "vary_key": self.vary_key,
            "values": list(self.values),
            "schemes": list(self.schemes),
            "root_seed": self.root_seed,
            "method": self.method,
            "options": self._number_options(),
        }

    def _number_options(self) -> dict[str, Any]:
        """The options without speed-only settings (methods left with none dropped), so that
        a sweep's identity is the same with or without them."""
        kept = {}
        for method, settings in self.options.items():
            speed_only = _SPEED_ONLY_OPTIONS.get(method, ())
            numbers = {key: value for key, value in settings.items() if key not in speed_only}
            if numbers:
                kept[method] = numbers
        return kept

    @property
    def fingerprint(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        values = ",".join(str(v) for v in self.values)
        return (
            f"vary {self.vary_key}={values}; schemes {','.join(self.schemes)}; "
            f"method {self.method}; seed {self.root_seed}"
        )

    def with_trials(self, trials: int) -> SweepSpec:
        return dataclasses.replace(self, trials=trials)
