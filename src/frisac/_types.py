"""Array type aliases shared by the package (shapes are documented where they are used)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["ComplexArray", "FloatArray"]

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]
