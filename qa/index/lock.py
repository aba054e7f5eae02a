"""One writer per index folder: an advisory lock held for the whole of `qa index`."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.errors import IndexBusyError, IndexError_
from qa.index.layout import IndexLayout


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's write lock; fail at once if another process holds it.

    The lock is released by the kernel when the process dies, so a killed `qa index`
    never leaves a stale lock behind.
    """
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
                f"another `qa index` is writing to {index_dir}/",
                "Wait for it to finish, then run this again",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
