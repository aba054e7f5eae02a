"""A bare ``--ray`` (no value after it) means ``--ray local``, as ``--ray [local|auto|HOST:PORT]``
promises. Typer (< 0.29) has no optional option values, so `qa index`'s command class fills the
value in before parsing."""

from __future__ import annotations

import os

import click
from typer.core import TyperCommand

RAY = "--ray"
RAY_BARE = "local"


class IndexCommand(TyperCommand):
    """`qa index`: ``--ray`` followed by nothing, by an option or by an existing path is
    ``--ray local``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, with_bare_value(args, RAY, RAY_BARE))


def with_bare_value(args: list[str], option: str, value: str) -> list[str]:
    """``args`` with ``value`` inserted after each bare ``option``.

    The option is bare when nothing follows it, or an option (``-...``), or a path that exists
    (``qa index --ray news/`` indexes news/ on a local Ray). After ``--`` nothing is an option.
    """
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            out.extend(args[i:])
            break
        out.append(arg)
        if arg == option:
            following = args[i + 1] if i + 1 < len(args) else None
            if following is None or following.startswith("-") or os.path.exists(following):
                out.append(value)
    return out
