"""Rows of text made from columns with array operations, a batch of rows at a time.

At 100 000 rows a row formatted in Python (an f-string of a dozen integers) costs
several microseconds, mostly in turning integers into decimals. Here the pieces of
rows between two texts chosen per row are lines of a byte matrix with a fixed slot
per piece: constant texts broadcast, the digits of a column of integers computed
for the whole column at once. Slots are padded with NUL bytes, which dropped leave
each line's text; lines end with a byte \\x01 to split them apart (texts given here
hold neither byte: JSON escapes both). The texts chosen per row (a code per row, a
few texts) are joined in between as they are, by one str.join.
"""

from __future__ import annotations

from itertools import chain
from typing import List, Optional, Sequence

import numpy as np

_NULL = np.frombuffer(b"null", dtype=np.uint8)
_END = 1  # ends each line of a matrix


class RowMatrix:
    """Rows of `count` pieces added left to right (text, numbers, choices), rendered a batch
    at a time, each row followed by a separator."""

    def __init__(self, count: int):
        self.count = count
        self._runs: List[list] = [[]]  # the slots between choices: (kind, width, data...)
        self._choices: List[tuple] = []  # (codes, options) after each run but the last

    def text(self, text: str) -> None:
        """The same text in every row."""
        if text:
            encoded = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
            self._runs[-1].append(("text", len(encoded), encoded))

    def numbers(self, values: np.ndarray, null: Optional[np.ndarray] = None) -> None:
        """Non-negative integers in decimal, "null" where null is True."""
        values = np.asarray(values, dtype=np.uint64)
        shown = values[~null] if null is not None else values
        width = len(str(int(shown.max()))) if len(shown) else 1
        if null is not None and null.any():
            width = max(width, len(_NULL))
        self._runs[-1].append(("numbers", width, values, null))

    def choices(self, codes: np.ndarray, options: Sequence[str]) -> None:
        """options[codes[i]] in row i."""
        self._choices.append((np.asarray(codes, dtype=np.int64), list(options)))
        self._runs.append([])

    def render(self, start: int, stop: int, separator: str = ",") -> str:
        """Rows start to stop, each followed by the separator but the last."""
        parts = []
        for run, choice in zip(self._runs, self._choices + [None]):
            parts.append(_lines(run, start, stop))
            if choice is not None:
                codes, options = choice
                parts.append(list(map(options.__getitem__, codes[start:stop].tolist())))
        parts.append([separator] * (stop - start - 1) + [""])
        return "".join(chain.from_iterable(zip(*parts)))


def _lines(run: list, start: int, stop: int) -> List[str]:
    """Each row's text of the slots of one run."""
    count = stop - start
    if not run:
        return [""] * count
    matrix = np.empty((count, sum(slot[1] for slot in run) + 1), dtype=np.uint8)
    column = 0
    for kind, width, *data in run:
        window = matrix[:, column:column + width]
        if kind == "text":
            window[:] = data[0]
        else:
            values, null = data
            window[:] = _digits(values[start:stop], width)
            rows = null[start:stop] if null is not None else None
            if rows is not None and rows.any():  # then the slot is wide enough for "null"
                window[rows] = 0
                window[rows, :len(_NULL)] = _NULL
        column += width
    matrix[:, column] = _END
    return matrix.tobytes().translate(None, b"\0").decode("utf-8").split("\x01")[:-1]


# the four ASCII digits of 0 to 9999, each as one little-endian uint32 ("0042" for 42)
_QUADS = np.frombuffer("".join(f"{n:04d}" for n in range(10000)).encode(), dtype="<u4")
_POWERS = np.array([10 ** k for k in range(1, 20)], dtype=np.uint64)  # a value has 1 + (those <= it) digits


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """The decimal digits of each value right-aligned in width bytes, NULs before them: four
    digits at a time, from a table."""
    quads = -(-width // 4)
    out = np.empty((len(values), quads), dtype="<u4")
    rest = values.copy()
    for j in range(quads - 1, -1, -1):
        rest, low = np.divmod(rest, np.uint64(10000))
        out[:, j] = _QUADS[low]
    digits = out.view(np.uint8)[:, 4 * quads - width:]
    leading = width - 1 - np.searchsorted(_POWERS, values, side="right")
    digits[np.arange(width) < leading[:, None]] = 0
    return digits
