"""What every `qa` command prints through: stdout and stderr consoles, notes, notices, and the
wrapper that turns domain errors into one line on stderr."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from qa.errors import QAError

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(command: F) -> F:
    """Turn domain errors into one line on stderr (exit 1) and Ctrl-C into exit 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except QAError as exc:
            _error_line(exc)
            raise typer.Exit(1) from None
        except sqlite3.DatabaseError as exc:  # damage found only when a query reads a bad page
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _DAMAGED:
                raise
            from qa.index.layout import IndexLayout, find_index_dir
            from qa.index.store import damaged_database

            index_dir = find_index_dir(kwargs.get("index_dir"))
            _error_line(damaged_database(IndexLayout(index_dir).db, exc))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("Interrupted; the index is as it was before this run.")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _error_line(exc: QAError) -> None:
    err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)


def note(message: str) -> None:
    """A dim line on stderr (the message is printed as is, not as markup)."""
    err.print(f"[dim]{escape(message)}[/dim]", soft_wrap=True)


def notice(message: str) -> None:
    """A yellow ``notice:`` line on stderr."""
    err.print(f"[yellow]notice:[/yellow] {message}", soft_wrap=True)
