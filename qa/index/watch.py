"""`qa index --watch`: index once, then keep the index up to date as files change.

A watcher thread (watchfiles: inotify, FSEvents or ReadDirectoryChangesW; no polling) reports
changed paths. They are collected until nothing has changed for ``debounce`` seconds, then
indexed as one batch by :func:`~qa.index.indexer.run_index` with ``only=`` those paths: the
same incremental indexer and folder rules as `qa index`, without re-hashing the files that did
not change. Embeddings are cached by content, so a dump that grew re-embeds only its new
records. A file whose size or modification time differs from when its last change was
reported is still being written: it waits for the next batch.

The writer lock is held for the whole watch (the batches take it again, re-entrantly), so a
second `qa index` on the same index is refused while this one runs. Every batch is one
transaction: Ctrl-C or a kill during a batch leaves the previous generation answering, and
what was not committed is indexed by the next batch or the next `qa index`.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.index.indexer import Embedding, IndexReport, Progress, run_index
from qa.index.lock import writer_lock
from qa.index.index_types import IndexType
from qa.ingest.readers import ReadOptions, suffix_of

STEP_MS = 50  # how often the watcher thread looks for new events (and for the stop signal)
IDLE_WAKE_S = 1.0  # the main thread's longest sleep (it must notice a dead watcher thread)

Stat = tuple[int, int] | None  # (size, mtime_ns); None: the path is not a file
_ENDED: frozenset[str] = frozenset()  # a watcher thread's last word


@dataclass
class Batch:
    """What one round of indexing did.

    Attributes:
        report: the indexer's report (the first batch is the full `qa index` run).
        first: whether this is that first, full run.
        waiting: changed files left for the next batch because they are still being written.
    """

    report: IndexReport
    first: bool = False
    waiting: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the batch changed the index (or skipped a file with a warning)."""
        r = self.report
        return bool(r.added or r.updated or r.removed or r.skipped)


def watch_index(
    index_dir: Path,
    paths: list[Path],
    model: str | None,
    progress: Progress,
    debounce: float,
    rebuild: bool = False,
    options: ReadOptions | None = None,
    index_type: IndexType | None = None,
    embedding: Embedding | None = None,
    stop: threading.Event | None = None,
) -> Iterator[Batch]:
    """Index ``paths``, then yield a :class:`Batch` for each round of changes, until ``stop``
    is set (or KeyboardInterrupt). The first batch is the full initial run.

    Raises:
        QAError: as `qa index` does (bad paths, another writer, another model); a watched
            path that disappears ends the watch with an error.
    """
    if not 0 <= debounce <= 3600:
        raise QAError(f"--debounce must be from 0 to 3600 seconds, not {debounce}")
    kept = KeptEmbedding(**vars(embedding or Embedding()))
    stop = stop or threading.Event()
    with writer_lock(index_dir, shared=True):
        try:
            def index(only: set[str] | None, fresh: bool = False) -> IndexReport:
                return run_index(
                    index_dir, paths, model, progress, rebuild=fresh, options=options,
                    index_type=index_type, embedding=kept, only=only,
                )

            changes = ChangeQueue(paths, index_dir, stop)  # before the first run: miss nothing
            yield Batch(index(None, rebuild), first=True)
            for ready, waiting in changes.batches(debounce):
                # a file in a symlinked folder may be reported through another path to it
                named = ready | {os.path.realpath(path) for path in ready}
                yield Batch(index(named) if ready else IndexReport(), waiting=waiting)
        finally:
            stop.set()
            kept.close()


class KeptEmbedding(Embedding):
    """An :class:`Embedding` whose encoder is loaded once and kept for every batch."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        object.__setattr__(self, "_kept", {})

    def open(self, ref: Any) -> Any:
        kept: dict[str, _Kept] = self._kept  # type: ignore[attr-defined]
        if ref.name not in kept:
            kept[ref.name] = _Kept(super().open(ref))
        return kept[ref.name]

    def close(self) -> None:
        """Release the kept encoders (a Ray instance started for them is shut down)."""
        for encoder in self._kept.values():  # type: ignore[attr-defined]
            encoder.release()
        self._kept.clear()  # type: ignore[attr-defined]


class _Kept:
    """An encoder that the indexer's per-run ``close()`` leaves open."""

    def __init__(self, encoder: Any) -> None:
        self._encoder = encoder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._encoder, name)

    def close(self) -> None:
        """Kept open for the next batch (see :meth:`release`)."""

    def release(self) -> None:
        close = getattr(self._encoder, "close", None)
        if close is not None:
            close()


class ChangeQueue:
    """Changed paths under ``paths``, from watcher threads, grouped into quiet batches.

    Folders are watched recursively; a file given by itself is watched through its folder
    (an editor's save-by-rename replaces the file, and with it a watch on the file).
    """

    def __init__(self, paths: list[Path], index_dir: Path, stop: threading.Event) -> None:
        self._queue: queue.Queue[set[str] | frozenset[str] | BaseException] = queue.Queue()
        self._stop = stop
        accept = ChangeFilter(paths, index_dir)
        folders = sorted({os.path.abspath(p) for p in paths if os.path.isdir(p)})
        parents = sorted({os.path.dirname(f) for f in accept.files})
        self._threads = [
            self._start(targets, recursive, accept)
            for targets, recursive in ((folders, True), (parents, False))
            if targets
        ]

    def batches(self, debounce: float) -> Iterator[tuple[set[str], list[str]]]:
        """(paths to index, paths still being written) after each quiet period."""
        pending: dict[str, Stat] = {}  # path -> its stat when its last change was reported
        last = 0.0
        while not self._stop.is_set():
            wait = IDLE_WAKE_S if not pending else max(0.0, last + debounce - time.monotonic())
            try:
                item = self._queue.get(timeout=min(wait, IDLE_WAKE_S))
            except queue.Empty:
                if not pending:
                    self._check_alive()
                    continue
                if time.monotonic() - last < debounce:
                    continue
                ready, waiting = settled(pending)
                pending = {path: stat_of(path) for path in waiting}
                last = time.monotonic()
                yield ready, sorted(waiting)
                continue
            if item is _ENDED and self._stop.is_set():
                return
            if isinstance(item, BaseException) or item is _ENDED:
                raise QAError(f"the file watcher stopped: {item or 'gone'}", "Run qa index --watch again")
            pending.update((path, stat_of(path)) for path in item)
            last = time.monotonic()

    def _start(self, targets: list[str], recursive: bool, accept: ChangeFilter) -> threading.Thread:
        thread = threading.Thread(
            target=self._watch, args=(targets, recursive, accept), name="qa-watch", daemon=True
        )
        thread.start()
        return thread

    def _watch(self, targets: list[str], recursive: bool, accept: ChangeFilter) -> None:
        from watchfiles import watch

        try:
            for changes in watch(
                *targets, watch_filter=accept, debounce=10 * STEP_MS, step=STEP_MS,
                rust_timeout=0, stop_event=self._stop, recursive=recursive,
                raise_interrupt=False, ignore_permission_denied=True,
            ):
                self._queue.put({path for _, path in changes})
        except Exception as exc:  # the queue's reader reports it as one line
            self._queue.put(exc)
        self._queue.put(_ENDED)  # wakes the reader at once

    def _check_alive(self) -> None:
        if not self._stop.is_set() and not all(t.is_alive() for t in self._threads):
            raise QAError("the file watcher stopped", "Run qa index --watch again")


class ChangeFilter:
    """Which reported changes can matter to the index (a watchfiles ``watch_filter``).

    The indexer applies the folder rules exactly (it walks the folders again); this only drops
    what certainly does not matter: the index folder, hidden names, names no reader takes
    (a folder, or a path that was deleted, may be a folder of articles and is kept).
    """

    def __init__(self, paths: list[Path], index_dir: Path) -> None:
        self.folders = [os.path.abspath(p) for p in paths if os.path.isdir(p)]
        self.files = {os.path.abspath(p) for p in paths if not os.path.isdir(p)}
        self.index_dirs = {os.path.abspath(index_dir), os.path.realpath(index_dir)}

    def __call__(self, change: Any, path: str) -> bool:
        if path in self.files:
            return True
        if any(path == d or path.startswith(d + os.sep) for d in self.index_dirs):
            return False
        root = next((f for f in self.folders if path.startswith(f.rstrip(os.sep) + os.sep)), None)
        if root is None:
            return False  # a sibling of a watched file, or outside every watched folder
        if any(part.startswith(".") for part in os.path.relpath(path, root).split(os.sep)):
            return False
        return suffix_of(path) is not None or change.name == "deleted" or os.path.isdir(path)


def stat_of(path: str) -> Stat:
    """(size, mtime_ns) of a file; None for anything else (gone, a folder)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if os.path.isfile(path) else None


def settled(pending: dict[str, Stat]) -> tuple[set[str], set[str]]:
    """Split changed paths into (ready, still being written): a file whose size or mtime is
    not what it was when its last change was reported is still being written."""
    ready: set[str] = set()
    waiting: set[str] = set()
    for path, seen in pending.items():
        now = stat_of(path)
        (ready if now == seen else waiting).add(path)
    return ready, waiting

