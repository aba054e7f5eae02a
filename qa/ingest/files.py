"""Finding article files (any suffix a reader takes), folders walked recursively, symlink loops survived.

The rules (shared by `qa index` and `qa index --watch`): names starting with ``.`` (files and
folders) are skipped, so are the ``exclude`` folders (the index folder itself), and a symlink is
followed only when its target lies inside the folder that was given (each real folder once).
"""

from __future__ import annotations

import os
from collections.abc import Collection
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


def discover(paths: list[Path], exclude: Collection[Path] = ()) -> list[FoundFile]:
    """Every article file under ``paths``, sorted, each once; nothing under ``exclude``.

    Raises:
        BadInputError: a path does not exist, or names a file no reader takes.
    """
    found: dict[str, FoundFile] = {}
    skip = {os.path.realpath(p) for p in exclude}
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
        for path in _walk(root, skip):
            found.setdefault(path, FoundFile(root, path))
    return sorted(found.values(), key=lambda s: s.path)


def _walk(root: str, skip: set[str]) -> list[str]:
    """Files under ``root``, following symlinks within it, entering each real folder once."""
    top = os.path.realpath(root)
    seen: set[str] = set()
    out: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen or real in skip or not is_within(real, top):
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = os.path.join(folder, name)
            if suffix_of(name) and not name.startswith(".") and os.path.isfile(path) and (
                not os.path.islink(path) or is_within(os.path.realpath(path), top)
            ):
                out.append(path)
    return out


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (both absolute and normalised)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def named_by(found: list[FoundFile], paths: Collection[str]) -> list[FoundFile]:
    """The files in ``found`` that ``paths`` name: by their path or a folder above it, also
    after resolving symlinked folders (a watcher may report a file through another link)."""
    real_dirs: dict[str, str] = {}

    def real(path: str) -> str:
        folder, name = os.path.split(path)
        if folder not in real_dirs:
            real_dirs[folder] = os.path.realpath(folder)
        return os.path.join(real_dirs[folder], name)

    return [f for f in found if _named(f.path, paths) or _named(real(f.path), paths)]


def _named(path: str, paths: Collection[str]) -> bool:
    while path not in paths:
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return True


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
