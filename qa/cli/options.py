"""Option types that several `qa` commands share: the index folder, the model, --json and the
scope filters (``Annotated`` types for Typer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

IndexDir = Annotated[
    Optional[Path],
    typer.Option(
        "--index-dir",
        help="Index folder [default: $QA_INDEX_DIR, else the nearest index/ here or in a "
        "parent folder, else ./index].",
        show_default=False,
    ),
]
Model = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        envvar="QA_MODEL",
        help="sentence-transformers model name or path [default: all-MiniLM-L6-v2, "
        "or the index's model].",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

Outlet = Annotated[
    Optional[list[str]],
    typer.Option("--outlet", help="Only these outlets (exact, any case; repeatable).", rich_help_panel="Scope"),
]
Author = Annotated[Optional[str], typer.Option("--author", help="Byline contains this text.", rich_help_panel="Scope")]
Title = Annotated[Optional[str], typer.Option("--title", help="Title contains this text.", rich_help_panel="Scope")]
Since = Annotated[
    Optional[str],
    typer.Option("--since", help="From this date on: YYYY, YYYY-MM or YYYY-MM-DD.", rich_help_panel="Scope"),
]
Until = Annotated[
    Optional[str],
    typer.Option("--until", help="Up to this date, inclusive (2022 = through 2022-12-31).", rich_help_panel="Scope"),
]
PathGlob = Annotated[
    Optional[list[str]],
    typer.Option("--path", help="Source path glob as qa prints it, ** allowed (repeatable).", rich_help_panel="Scope"),
]
Undated = Annotated[
    bool, typer.Option("--undated", help="Keep undated articles when filtering by date.", rich_help_panel="Scope")
]
