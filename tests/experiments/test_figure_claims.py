"""The report's qualitative claims, checked on hand-made statistics."""

import pytest

from frisac.experiments.figures import BEATS, ORDER
from frisac.experiments.summary import SchemeStats


def _stats(means: dict[int, dict[str, float]]) -> list[SchemeStats]:
    return [
        SchemeStats(
            value=value,
            scheme=scheme,
            n=3,
            n_failed=0,
            mean=mean,
            low=mean,
            high=mean,
            median=mean,
            feasible_fraction=1.0,
            mean_seconds=1.0,
        )
        for value, row in means.items()
        for scheme, mean in row.items()
    ]


NO_FAULTS = {"perfect": 1.0, "proposed": 1.0, "naive": 1.0, "random": 9.0}


def test_points_without_faults_do_not_break_the_strict_orderings() -> None:
    stats = _stats(
        {0: NO_FAULTS, 20: {"perfect": 1.0, "proposed": 2.0, "naive": 3.0, "random": 9.0}}
    )
    assert ORDER.check(stats) and BEATS.check(stats)


@pytest.mark.parametrize(
    "row",
    [
        {"perfect": 1.0, "proposed": 3.0, "naive": 3.0, "random": 9.0},  # proposed == naive
        {"perfect": 1.0, "proposed": 4.0, "naive": 3.0, "random": 9.0},  # proposed > naive
        {"perfect": 1.0, "proposed": 2.0, "naive": 3.0, "random": 1.5},  # random not worst
    ],
)
def test_a_violation_at_a_faulty_point_is_reported(row) -> None:
    stats = _stats({0: NO_FAULTS, 20: row})
    assert not BEATS.check(stats)
    assert not ORDER.check(stats)


def test_proposed_below_the_upper_bound_breaks_the_order_only() -> None:
    stats = _stats({40: {"perfect": 2.0, "proposed": 1.0, "naive": 3.0, "random": 9.0}})
    assert not ORDER.check(stats)
    assert BEATS.check(stats)
