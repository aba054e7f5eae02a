"""Finding article files (any suffix a reader takes), folders walked recursively, symlink loops survived."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.errors import BadInputError
from qa.ingest.readers import describe_suffixes, suffix_of


@dataclass(frozen=True)
class FoundFile:
    """A file to index and the root (folder or file) it was found under."""

    root: str
    path: str


def discover(paths: list[Path]) -> list[FoundFile]:
    """Every article file under ``paths``, sorted, each once.

    Raises:
        BadInputError: a path does not exist, or names a file no reader takes.
    """
    found: dict[str, FoundFile] = {}
    for given in paths:
        root = os.path.abspath(given)
        if not os.path.exists(root):
            raise BadInputError(
                f"{given} does not exist", "Pass a folder or a file of articles"
            )
        if os.path.isfile(root):
            if suffix_of(root) is None:
                raise BadInputError(
                    f"{given} is not a file qa reads",
                    f"Pass a folder, or files ending in {describe_suffixes()}",
                )
            found.setdefault(root, FoundFile(root, root))
            continue
        for path in _walk(root):
            found.setdefault(path, FoundFile(root, path))
    return sorted(found.values(), key=lambda s: s.path)


def _walk(root: str) -> list[str]:
    """Files under ``root``, following symlinks but entering each real folder only once."""
    seen: set[str] = set()
    out: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = os.path.join(folder, name)
            if suffix_of(name) and not name.startswith(".") and os.path.isfile(path):
                out.append(path)
    return out


def display_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    try:
        return _relative(path, os.getcwd())
    except OSError:  # the working directory is gone
        return path


@lru_cache(maxsize=65536)
def _relative(path: str, cwd: str) -> str:
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
