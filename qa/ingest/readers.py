"""One reader per format behind one small protocol, chosen by file suffix.

A reader is a function ``read(path, options, warn) -> Iterable[Article]``: it streams the
articles of one file (one for a page or a PDF, one per record for a dump) and reports
recoverable problems through ``warn`` (one line, naming ``file:line`` where it can). It raises
:class:`qa.errors.BadInputError` for a file it cannot read at all. Readers are imported only
when a file of their kind is indexed, so ``qa --help`` stays light.

To add a format: write ``qa/ingest/<format>.py`` with a ``read`` function and add its suffixes
to :data:`READERS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from qa.ingest.article import Article

Warn = Callable[[str], None]


@dataclass(frozen=True)
class ReadOptions:
    """Options a user gives to every reader.

    Attributes:
        fields: For record dumps, which column holds each field (``text``, ``title``, ``date``,
            ``outlet``, ``author``, ``url``), overriding detection (``--fields``).
        note: Where a reader says something that is not a problem, in one line (e.g. which
            columns of a dump it used); None to stay silent.
    """

    fields: dict[str, str] = field(default_factory=dict)
    note: Callable[[str], None] | None = None


class Reader(Protocol):
    def __call__(self, path: Path, options: ReadOptions, warn: Warn) -> Iterable[Article]: ...


# suffix -> "module:function"; longest suffix wins (".jsonl.gz" before ".gz").
READERS: dict[str, str] = {
    ".txt": "qa.ingest.text:read",
    ".md": "qa.ingest.text:read",
    ".markdown": "qa.ingest.text:read",
    ".html": "qa.ingest.html:read",
    ".htm": "qa.ingest.html:read",
    ".jsonl": "qa.ingest.records:read",
    ".jsonl.gz": "qa.ingest.records:read",
    ".ndjson": "qa.ingest.records:read",
    ".json": "qa.ingest.records:read",
    ".csv": "qa.ingest.records:read",
    ".tsv": "qa.ingest.records:read",
    ".parquet": "qa.ingest.records:read",
    ".pdf": "qa.ingest.pdf:read",
}


def suffix_of(path: str | Path) -> str | None:
    """The reader suffix of ``path`` (case-insensitive), or None if no reader takes it."""
    name = str(path).lower()
    for suffix in sorted(READERS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return None


def reader_for(path: str | Path) -> Reader:
    """The reader function for ``path``.

    Raises:
        KeyError: no reader takes this suffix (check :func:`suffix_of` first).
    """
    suffix = suffix_of(path)
    if suffix is None:
        raise KeyError(str(path))
    module, _, name = READERS[suffix].partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def describe_suffixes() -> str:
    """The accepted suffixes for messages: '.txt, .md, ...'."""
    return ", ".join(sorted(READERS))
