"""CSV/TSV rows for record dumps, read so that one broken row costs one line, not the file.

:func:`csv_records` turns a file's numbered lines into rows keyed by the header. The lines
come from :mod:`qa.ingest.records`, which has already skipped (and warned about) over-long ones.
"""

from __future__ import annotations

import collections
import csv
from collections.abc import Callable, Iterator
from typing import Any

from qa.errors import BadInputError


class _Tape:
    """Physical lines for the csv module that remembers the current row's lines, so that after a
    broken row everything but its first line can be read again (one stray quote loses one line,
    not the rest of the file). NULs are dropped."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self._replay: collections.deque[tuple[int, str]] = collections.deque()
        self._row: list[tuple[int, str]] = []
        self.line = 0

    def __iter__(self) -> _Tape:
        return self

    def __next__(self) -> str:
        number, line = self._replay.popleft() if self._replay else next(self._lines)
        self._row.append((number, line))
        self.line = number
        return line.replace("\x00", "") if "\x00" in line else line

    def peek(self) -> str | None:
        """The next line without consuming it; None at the end."""
        if not self._replay:
            following = next(self._lines, None)
            if following is None:
                return None
            self._replay.append(following)
        return self._replay[0][1]

    def start_row(self) -> int:
        """Forget the last row's lines; the number of the next line."""
        self._row.clear()
        return self._replay[0][0] if self._replay else self.line + 1

    def reread_after_first(self) -> None:
        """Queue the current row's lines but its first to be read again."""
        self._replay.extendleft(reversed(self._row[1:]))
        self._row.clear()


def csv_records(
    lines: Iterator[tuple[int, str]],
    name: str,
    warn: Callable[[int | None, str], None],
    delimiter: str,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as dicts keyed by the header; a broken row or one of the wrong width is warned
    about and skipped, and reading resumes at its second line.

    ``lines``: the file's numbered physical lines; ``name`` names it in errors.
    """
    tape = _Tape(lines)
    first = tape.peek()
    if first is None:
        return
    if delimiter == "," and "," not in first and ";" in first:
        delimiter = ";"
    reader = csv.reader(tape, delimiter=delimiter, strict=True)
    header = _csv_header(reader, name)
    if header is None:
        return
    row_number = 0
    while True:
        start = tape.start_row()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row_number += 1
            warn(start, f"row {row_number}: broken CSV ({exc}); skipped")
            tape.reread_after_first()
            continue
        if not cells:
            continue
        row_number += 1
        if len(cells) != len(header):
            width = f"{len(cells)} fields, the header has {len(header)}"
            warn(start, f"row {row_number}: {width}; skipped")
            tape.reread_after_first()
            continue
        yield row_number, dict(zip(header, cells, strict=True))


def _csv_header(reader: Any, name: str) -> list[str] | None:
    """The header row with empty names filled in; None for a file with no rows."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BadInputError(f"{name}: unreadable CSV header ({exc})") from None
    if header is None:
        return None
    return [name.strip() or f"column_{i}" for i, name in enumerate(header, 1)]
