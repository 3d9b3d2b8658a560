"""frisac: faulty-RIS integrated sensing and communication.

Model a RIS-aided ISAC system with faulty elements, compute exact metrics (SINR, CRB,
misspecified CRB), design transmit beamforming and working RIS phases, and run
reproducible Monte-Carlo studies. The model is pinned in ``docs/model.md`` (MODEL.md).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from frisac.design import Design
from frisac.errors import FrisacInputError
from frisac.io import load_design, load_realization, save_design, save_realization
from frisac.realization import Realization, draw_realization
from frisac.scenario import Scenario

try:
    __version__ = version("frisac")
except PackageNotFoundError:  # pragma: no cover - source tree without installation
    __version__ = "0.0.0"

__all__ = [
    "Design",
    "FrisacInputError",
    "Realization",
    "Scenario",
    "__version__",
    "draw_realization",
    "load_design",
    "load_realization",
    "save_design",
    "save_realization",
]
