"""One writer per index folder: an advisory lock held for the whole of `qa index`.

`qa index --watch` holds it for the whole watch (``shared=True``), and the batches it runs in
the same thread take it again without blocking; any other `qa index` is refused meanwhile.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import IndexBusyError, IndexError_
from qa.index.layout import IndexLayout

_held = threading.local()  # .folders: index folders whose lock this thread holds, shared


@contextmanager
def writer_lock(index_dir: Path, shared: bool = False) -> Iterator[None]:
    """Hold the index folder's write lock; fail at once if another process holds it.

    The lock is released by the kernel when the process dies, so a killed `qa index`
    never leaves a stale lock behind. Held with ``shared``, taking it again in the same
    thread is a no-op (a watch's batches); otherwise every other taker is refused.
    """
    held: set[str] = getattr(_held, "folders", None) or set()
    _held.folders = held
    key = os.path.realpath(index_dir)
    if key in held:
        yield
        return
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(IndexLayout(index_dir).lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexError_(
            f"cannot write to the index folder {index_dir}/ ({exc.strerror})",
            "Pass --index-dir with a folder you can write to",
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(
                f"another `qa index` is writing to {index_dir}/{_holder(fd)}",
                "Wait for it to finish (a `qa index --watch` runs until Ctrl-C), then run this again",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        if shared:
            held.add(key)
        try:
            yield
        finally:
            held.discard(key)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """`` (process N)`` for the process the lock file names, or nothing."""
    try:
        pid = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeError):
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
