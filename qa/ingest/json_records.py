"""Incremental JSON for record dumps: a document read value by value, never held whole.

:class:`JsonRecords` decodes an array (or an object holding one, or concatenated objects)
element by element with ``raw_decode`` over a sliding text buffer; each object is one record.
The buffer's chunk and the largest value come from the caller (:mod:`qa.ingest.records`).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from qa.errors import BadInputError
from qa.ingest.fields import detect_fields, flatten

_Row = tuple[int, dict[str, Any]]  # (element number, flattened object)


def json_reason(exc: BaseException) -> str:
    """A short reason for a JSON decoding failure."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def json_type(value: Any) -> str:
    """JSON's name for the type of a decoded value."""
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


class _Malformed(Exception):
    """The JSON document is broken at ``line``."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


_WHITESPACE = re.compile(r"[ \t\n\r]*")


class JsonRecords:
    """Incremental JSON: a sliding text buffer decoded value by value with ``raw_decode``."""

    def __init__(
        self,
        handle: IO[str],
        name: str,
        warn: Callable[[int | None, str], None],
        chunk: int,
        max_bytes: int,
    ) -> None:
        self._handle = handle
        self._name = name
        self._warn = warn
        self._chunk = chunk
        self._max_bytes = max_bytes
        self._decoder = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._line = 1
        self._eof = False
        self._last_size = 0

    def records(self) -> Iterator[_Row]:
        """Every record of the document, numbered by element; stops at damage with a warning."""
        try:
            yield from self._document()
        except _Malformed as exc:
            self._warn(exc.line, f"{exc.reason}; stopped reading here")

    def _document(self) -> Iterator[_Row]:
        """Dispatch on the first character: '[' an array, '{' one or more objects."""
        first = self._peek()
        if first == "":
            return
        if first == "[":
            yield from self._array(0)
        elif first == "{":
            yield from self._top_object()
        else:
            raise BadInputError(
                f"{self._name}: not a JSON array or object of records",
                "A .json file must hold [ {...}, ... ] or {\"articles\": [ ... ]}",
            )

    # -- buffer

    def _fill(self, size: int = 0) -> bool:
        """Read more text (``size`` characters, default a chunk) into the buffer; False at end."""
        if self._eof:
            return False
        chunk = self._handle.read(size or self._chunk)
        if not chunk:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        return True

    def _advance(self, end: int) -> None:
        """Move past ``buf[pos:end]``, counting its line breaks."""
        self._line += self._buf.count("\n", self._pos, end)
        self._pos = end

    def _peek(self) -> str:
        """The next non-blank character ('' at end of file), not consumed."""
        while True:
            match = _WHITESPACE.match(self._buf, self._pos)
            self._advance(match.end() if match else self._pos)
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def _expect(self, char: str) -> None:
        """Consume ``char`` (after blanks) or fail as malformed."""
        found = self._peek()
        if found != char:
            raise _Malformed(self._line, f"expected '{char}', found {found or 'end of file'!r}")
        self._advance(self._pos + 1)

    def _value(self) -> Any:
        """Decode the next complete value, reading more text (doubling) until it is whole."""
        self._peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except (ValueError, RecursionError) as exc:
                if self._incomplete(exc) and self._more():
                    continue
                line = self._line
                if isinstance(exc, json.JSONDecodeError):
                    line += self._buf.count("\n", self._pos, exc.pos)
                raise _Malformed(line, f"malformed JSON ({json_reason(exc)})") from None
            if end == len(self._buf) and self._more():
                continue  # a number or literal may go on in the next chunk
            self._last_size = end - self._pos
            self._advance(end)
            return value

    def _incomplete(self, exc: BaseException) -> bool:
        """Whether a decoding error may just mean the value goes on past the buffer."""
        if not isinstance(exc, json.JSONDecodeError):
            return False
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(self._buf) - 6

    def _more(self) -> bool:
        """Read as much again as is buffered; False at end of file."""
        pending = len(self._buf) - self._pos
        if pending > self._max_bytes:
            raise _Malformed(self._line, f"a value longer than {self._max_bytes:,} characters")
        return self._fill(max(self._chunk, pending))

    # -- structure

    def _array(self, offset: int) -> Iterator[_Row]:
        """Records of an array; element n becomes record ``offset + n``."""
        self._expect("[")
        if self._peek() == "]":
            self._advance(self._pos + 1)
            return
        for number in itertools.count(offset + 1):
            self._peek()
            line = self._line
            yield from self._element(number, line, self._value())
            separator = self._peek()
            if separator == "]":
                self._advance(self._pos + 1)
                return
            self._expect(",")

    def _element(self, number: int, line: int, value: Any) -> Iterator[_Row]:
        """One record, or a warning for a non-object or over-long element."""
        if self._last_size > self._max_bytes:
            reason = f"longer than {self._max_bytes:,} characters"
        elif isinstance(value, dict):
            yield number, flatten(value)
            return
        else:
            reason = f"is a JSON {json_type(value)}, not an object"
        self._warn(line, f"element {number} {reason}; skipped")

    def _top_object(self) -> Iterator[_Row]:
        """``{"articles": [...]}`` streams its first array of objects; a plain object is a record,
        and further objects after it (concatenated JSON) are records too."""
        line = self._line
        self._expect("{")
        fields: dict[str, Any] = {}
        first = True
        size = 0
        while self._peek() != "}":
            if not first:
                self._expect(",")
            first = False
            key = self._value()
            if not isinstance(key, str):
                raise _Malformed(self._line, "expected an object key")
            self._expect(":")
            if self._peek() == "[" and self._after_bracket() == "{":
                yield from self._array(0)
                return
            fields[key] = self._value()
            size += self._last_size
            if size > self._max_bytes:
                raise _Malformed(line, f"an object longer than {self._max_bytes:,} characters")
        self._advance(self._pos + 1)
        self._last_size = 0
        if [] in fields.values() and "text" not in detect_fields(list(flatten(fields))):
            return  # {"articles": []}: a dump with no records
        yield from self._element(1, line, fields)
        for number in itertools.count(2):
            if self._peek() == "":
                return
            line = self._line
            yield from self._element(number, line, self._value())

    def _after_bracket(self) -> str:
        """The first non-blank character after the '[' at the read position, not consumed."""
        while True:
            match = _WHITESPACE.match(self._buf, self._pos + 1)
            end = match.end() if match else self._pos + 1
            if end < len(self._buf):
                return self._buf[end]
            if not self._fill(max(self._chunk, len(self._buf) - self._pos)):
                return ""
