"""Performance metrics: SINR (communication) and CRB / MCRB (sensing)."""

from frisac.metrics.evaluate import Evaluation, evaluate
from frisac.metrics.sensing import SensingResult, evaluate_sensing
from frisac.metrics.sinr import CommResult, evaluate_comm

__all__ = [
    "CommResult",
    "Evaluation",
    "SensingResult",
    "evaluate",
    "evaluate_comm",
    "evaluate_sensing",
]
