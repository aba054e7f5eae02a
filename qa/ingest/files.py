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
    """Files under ``root``, following symlinks within it, entering each real folder once.

    Depth first in name order, as ``os.walk`` goes; ``scandir``'s entry types spare a stat per
    file (a watch walks the tree on every batch).
    """
    top = os.path.realpath(root)
    seen: set[str] = set()
    out: list[str] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        if real in seen or real in skip or not is_within(real, top):
            continue
        seen.add(real)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:  # unreadable or vanished: skipped, as os.walk does
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    folders.append(entry.path)
                elif suffix_of(entry.name) and entry.is_file() and (
                    not entry.is_symlink() or is_within(os.path.realpath(entry.path), top)
                ):
                    out.append(entry.path)
            except OSError:
                continue
        stack.extend(reversed(folders))
    return out


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (both absolute and normalised)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def named_by(found: list[FoundFile], paths: Collection[str]) -> list[FoundFile]:
    """The files in ``found`` that ``paths`` name: by their path, by a folder above them, or
    through a symlinked folder's real path (a watcher may report a file by another link)."""
    wanted = set(paths)
    unmatched = wanted - {f.path for f in found}
    folders = tuple(p.rstrip(os.sep) + os.sep for p in unmatched if os.path.isdir(p))
    real = _real_paths(found) if folders or any(os.path.isfile(p) for p in unmatched) else {}

    def named(f: FoundFile) -> bool:
        if f.path in wanted:
            return True
        r = real.get(f.path, f.path)
        return r in wanted or bool(folders) and (f.path.startswith(folders) or r.startswith(folders))

    return [f for f in found if named(f)]


def _real_paths(found: list[FoundFile]) -> dict[str, str]:
    """path -> the path through its folder's real path (one realpath call per folder)."""
    real_dirs: dict[str, str] = {}
    out: dict[str, str] = {}
    for f in found:
        folder, name = os.path.split(f.path)
        if folder not in real_dirs:
            real_dirs[folder] = os.path.realpath(folder)
        out[f.path] = os.path.join(real_dirs[folder], name)
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
