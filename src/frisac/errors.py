"""The one exception type for bad input.

Every check on user input (config keys, CLI values, exchange files) raises
:class:`FrisacInputError` with a single line that names the field, the value and what
was expected. The CLI prints that line and exits with status 2, without a traceback.
"""

from __future__ import annotations

__all__ = ["FrisacInputError"]


class FrisacInputError(ValueError):
    """Bad user input: the message is one line naming field, value and expectation."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
