"""The reader for record dumps: JSONL/NDJSON (also gzipped), JSON, CSV/TSV and Parquet.

Each record is one article. Files are streamed, never held whole: JSONL line by line, JSON
arrays element by element (``raw_decode`` over a sliding buffer, :mod:`qa.ingest.json_records`),
CSV row by row (:mod:`qa.ingest.csv_records`), Parquet batch by batch; this module opens the
bytes (gzip capped, binary refused, the text encoding sniffed) and holds the size limits. The
field mapping is chosen once per file from the header or the first records
(:mod:`qa.ingest.fields`). ``Article.record`` is the JSONL line, the CSV/TSV/Parquet data row
(header excluded, blank CSV lines not counted) or the JSON element, all 1-based.

Damage is reported through ``warn`` naming ``file:line`` and reading goes on where it can; a
file that cannot be read at all raises :class:`qa.errors.BadInputError`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO, Any

from qa.errors import BadInputError
from qa.ingest.article import Article
from qa.ingest.csv_records import csv_records
from qa.ingest.fields import (
    choose_fields,
    describe_fields,
    flatten,
    record_article,
    wanted_columns,
)
from qa.ingest.files import display_path
from qa.ingest.json_records import JsonRecords, json_reason, json_type
from qa.ingest.readers import ReadOptions, Warn

__all__ = ["read"]

MAX_RECORD_BYTES = 50 * 1024 * 1024
"""One record (a JSONL line, a JSON element, a CSV field, a Parquet text) larger than this is
skipped (JSON, CSV) or cut (Parquet text) with a warning."""
GZIP_MAX_RATIO = 20
GZIP_MIN_CAP_BYTES = 4 * 1024**3
"""Decompression stops after ``max(GZIP_MAX_RATIO * compressed size, GZIP_MIN_CAP_BYTES)``."""
SAMPLE_RECORDS = 50
SAMPLE_CHARS = 16 * 1024 * 1024
"""The field mapping is chosen from up to this many first records / characters of them."""
MAX_WARNINGS = 20
"""Warnings per file; further problems are counted in one closing line."""

_CHUNK = 1 << 20
Row = tuple[int, dict[str, Any]]  # (record number, flattened record)


class _StreamError(Exception):
    """The file's bytes end or break in a way that stops reading (damaged gzip, bomb)."""


class _Problems:
    """Per-file warnings: the first few individually, the rest counted, empty texts counted."""

    def __init__(self, name: str, warn: Warn) -> None:
        self.name = name
        self._warn = warn
        self.shown = 0
        self.hidden = 0
        self.empty = 0

    def warn(self, where: int | None, message: str) -> None:
        """Report ``file:where: message`` (or ``file: message``)."""
        if self.shown >= MAX_WARNINGS:
            self.hidden += 1
            return
        self.shown += 1
        self._warn(f"{self.name}:{where}: {message}" if where else f"{self.name}: {message}")

    def finish(self) -> None:
        """Emit the counted problems."""
        if self.empty:
            self._warn(f"{self.name}: {self.empty} record(s) with no text skipped")
        if self.hidden:
            self._warn(f"{self.name}: {self.hidden} more problem(s) not shown")


# --------------------------------------------------------------------------- entry point


def read(
    path: Path,
    options: ReadOptions,
    warn: Warn,
    *,
    on_fields: Callable[[str], None] | None = None,
) -> Iterator[Article]:
    """The reader for record dumps: one article per record.

    Args:
        path: A ``.jsonl``, ``.ndjson``, ``.jsonl.gz``, ``.json``, ``.csv``, ``.tsv`` or
            ``.parquet`` file.
        options: ``options.fields`` overrides the detected columns.
        warn: Receives one line per recoverable problem, naming ``file:line``.
        on_fields: Receives one line naming the columns used, e.g.
            ``'news.csv: text=content, title=headline, date=date'``; defaults to
            ``options.note`` (where `qa index` prints it).

    Yields:
        One :class:`Article` per record with text, ``record`` set.

    Raises:
        BadInputError: the file cannot be read at all, or has no text column.
    """
    problems = _Problems(display_path(str(path)), warn)
    try:
        if path.stat().st_size == 0:
            return
    except OSError as exc:
        raise BadInputError(f"cannot read {problems.name} ({exc.strerror or exc})") from None
    rows = _rows(path, problems, options)
    on_fields = on_fields or options.note
    try:
        yield from _articles(rows, options, problems, on_fields)
    finally:
        rows.close()  # the file closes now, also when the caller stops early or on an error
    problems.finish()


def _rows(path: Path, problems: _Problems, options: ReadOptions) -> Generator[Row, None, None]:
    """The flattened records of ``path`` by its suffix."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return _parquet_rows(path, problems, options.fields)
    if name.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz")):
        return _csv_rows(path, problems, "\t" if ".tsv" in name else ",")
    if name.endswith((".json", ".json.gz")):
        return _json_rows(path, problems)
    return _jsonl_rows(path, problems)


def _articles(
    rows: Iterator[Row], options: ReadOptions, problems: _Problems,
    on_fields: Callable[[str], None] | None,
) -> Iterator[Article]:
    """Articles from rows: the mapping is chosen from the first rows, then applied to all."""
    sample: list[Row] = []
    size = 0
    for row in rows:
        sample.append(row)
        size += sum(len(v) for v in row[1].values() if isinstance(v, str))
        if len(sample) >= SAMPLE_RECORDS or size >= SAMPLE_CHARS:
            break
    if not sample:
        return
    columns = list(dict.fromkeys(key for _, record in sample for key in record))
    mapping = choose_fields(columns, [r for _, r in sample], options.fields, problems.name)
    if on_fields is not None:
        on_fields(describe_fields(problems.name, mapping))
    for number, record in itertools.chain(sample, rows):
        article = record_article(record, mapping, number)
        if article is None:
            problems.empty += 1
        else:
            yield article


def _guarded(rows: Iterator[Row], problems: _Problems) -> Iterator[Row]:
    """Stop at a stream-level failure: an error before the first record, a warning after it."""
    count = 0
    try:
        for row in rows:
            count += 1
            yield row
    except _StreamError as exc:
        if count == 0:
            raise BadInputError(f"{problems.name}: {exc}") from None
        problems.warn(None, f"{exc}; stopped reading after {count} record(s)")


# --------------------------------------------------------------------------- bytes


class _CappedStream(io.RawIOBase):
    """A raw stream that delivers at most ``cap`` bytes, then fails with :class:`_StreamError`
    if there is more (gzip bombs); damaged gzip data fails the same way."""

    def __init__(self, inner: IO[bytes], cap: int) -> None:
        self._inner = inner
        self._cap = cap
        self._total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        room = self._cap - self._total
        n = self._read_into(view[: min(len(view), room)] if room > 0 else bytearray(1))
        if room <= 0 and n:
            raise _StreamError(f"decompressed data exceeds {self._cap:,} bytes (gzip bomb?)")
        self._total += n
        return n

    def _read_into(self, view: Any) -> int:
        """``readinto`` of the inner stream, its failures as :class:`_StreamError`."""
        import gzip
        import zlib

        try:
            return int(self._inner.readinto(view))  # type: ignore[attr-defined]
        except (OSError, EOFError, zlib.error) as exc:
            damaged = isinstance(exc, gzip.BadGzipFile | EOFError | zlib.error)
            reason = f"damaged gzip data ({exc})" if damaged else f"cannot read ({exc})"
            raise _StreamError(reason) from None

    def close(self) -> None:
        self._inner.close()
        super().close()


def _open_binary(path: Path) -> io.BufferedReader:
    """``path`` opened for reading bytes; gzip files decompressed with a size cap."""
    try:
        if not path.name.lower().endswith(".gz"):
            return open(path, "rb")  # noqa: SIM115 - closed by the caller
        import gzip

        cap = max(GZIP_MAX_RATIO * os.path.getsize(path), GZIP_MIN_CAP_BYTES)
        raw = _CappedStream(gzip.open(path, "rb"), cap)  # noqa: SIM115
        return io.BufferedReader(raw, buffer_size=64 * 1024)
    except OSError as exc:
        name = display_path(str(path))
        raise BadInputError(f"cannot read {name} ({exc.strerror or exc})") from None


def _text_head(binary: io.BufferedReader, problems: _Problems) -> bytes:
    """The first bytes of a text file (a few KiB).

    Raises:
        BadInputError: the file holds binary data, or its gzip data is damaged.
    """
    try:
        head = binary.peek(8192)[:8192]
    except _StreamError as exc:
        binary.close()
        raise BadInputError(f"{problems.name}: {exc}") from None
    if _looks_binary(head):
        binary.close()
        raise BadInputError(f"{problems.name}: binary data, not text")
    return head


_BINARY_MAGIC = (
    b"%PDF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff", b"PAR1",
    b"SQLite format 3\x00", b"\x7fELF",
)


def _looks_binary(head: bytes) -> bool:
    """Known binary signatures, or many control bytes (a stray NUL in a CSV is tolerated)."""
    if head.startswith(_BINARY_MAGIC):
        return True
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    control = sum(1 for b in head if b < 32 and b not in b"\t\n\r\x0b\x0c\x1b")
    return control / len(head) > 0.1


def _open_text(path: Path, problems: _Problems) -> io.TextIOWrapper:
    """``path`` as text: UTF-8 (BOM dropped) or UTF-16 by BOM, else cp1252; bad bytes replaced.

    Raises:
        BadInputError: the file cannot be opened or holds binary data.
    """
    binary = _open_binary(path)
    head = _text_head(binary, problems)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1252"
    return io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")


def _lines(handle: IO[Any], problems: _Problems) -> Iterator[tuple[int, Any]]:
    """Numbered lines of ``handle`` (1-based); lines over the record cap skipped with a warning."""
    number = 0
    while True:
        line = handle.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_RECORD_BYTES and line[-1:] not in ("\n", b"\n"):
            while line and line[-1:] not in ("\n", b"\n"):
                line = handle.readline(_CHUNK)
            problems.warn(number, f"record longer than {MAX_RECORD_BYTES:,} bytes; skipped")
            continue
        yield number, line


# --------------------------------------------------------------------------- JSON Lines


def _jsonl_rows(path: Path, problems: _Problems) -> Generator[Row, None, None]:
    """Records of a JSON Lines file; record number = line number (blank lines count)."""
    with _open_binary(path) as handle:
        _text_head(handle, problems)
        yield from _guarded(_jsonl_records(handle, problems), problems)


def _jsonl_records(handle: IO[bytes], problems: _Problems) -> Iterator[Row]:
    """Decode each non-blank line as one JSON object."""
    for number, line in _lines(handle, problems):
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("cp1252", errors="replace")
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            problems.warn(number, f"malformed JSON ({json_reason(exc)}); skipped")
            continue
        if not isinstance(value, dict):
            problems.warn(number, f"a JSON {json_type(value)}, not an object; skipped")
            continue
        yield number, flatten(value)


# --------------------------------------------------------------------------- JSON


def _json_rows(path: Path, problems: _Problems) -> Generator[Row, None, None]:
    """Records of a JSON file: an array, an object holding an array, one object, or a series."""
    with _open_text(path, problems) as handle:
        records = JsonRecords(handle, problems.name, problems.warn, _CHUNK, MAX_RECORD_BYTES)
        yield from _guarded(records.records(), problems)


# --------------------------------------------------------------------------- CSV / TSV


def _csv_rows(path: Path, problems: _Problems, delimiter: str) -> Generator[Row, None, None]:
    """Records of a CSV/TSV file with a header row; record number = data row."""
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_RECORD_BYTES)
    try:
        with _open_text(path, problems) as handle:
            rows = csv_records(_lines(handle, problems), problems.name, problems.warn, delimiter)
            yield from _guarded(rows, problems)
    finally:
        csv.field_size_limit(limit)


# --------------------------------------------------------------------------- Parquet


def _parquet_rows(
    path: Path, problems: _Problems, override: dict[str, str]
) -> Generator[Row, None, None]:
    """Records of a Parquet file, batch by batch, reading only the columns detection may use;
    record number = row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    unreadable = f"{problems.name}: not a readable Parquet file"
    try:
        parquet = pq.ParquetFile(path)
        columns = _parquet_columns(parquet.schema_arrow, override)
    except (pa.ArrowException, OSError) as exc:
        raise BadInputError(f"{unreadable} ({exc})") from None
    with parquet:
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=256, columns=columns):
                for record in batch.to_pylist():
                    number += 1
                    yield number, _capped(flatten(record), number, problems)
        except (pa.ArrowException, OSError) as exc:
            if number == 0:
                raise BadInputError(f"{unreadable} ({exc})") from None
            problems.warn(None, f"damaged Parquet data after row {number} ({exc}); stopped")


def _parquet_columns(schema: Any, override: dict[str, str]) -> list[str]:
    """The top-level columns holding any column that detection or ``override`` may use."""
    import pyarrow as pa

    leaves: list[tuple[str, str]] = []  # (flattened name, top-level name)
    stack = [(field, "", field.name) for field in reversed(schema)]
    while stack:
        field, prefix, top = stack.pop()
        name = f"{prefix}{field.name}"
        if pa.types.is_struct(field.type) and prefix.count(".") < 8:
            stack.extend((child, f"{name}.", top) for child in reversed(list(field.type)))
        else:
            leaves.append((name, top))
    wanted = set(wanted_columns([name for name, _ in leaves], override))
    return list(dict.fromkeys(top for name, top in leaves if name in wanted))


def _capped(record: dict[str, Any], number: int, problems: _Problems) -> dict[str, Any]:
    """Cut string values over the record cap, with a warning."""
    for key, value in record.items():
        if isinstance(value, str) and len(value) > MAX_RECORD_BYTES:
            record[key] = value[:MAX_RECORD_BYTES]
            problems.warn(None, f"row {number}: {key} over {MAX_RECORD_BYTES:,} characters; cut")
    return record
