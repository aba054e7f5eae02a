"""What the shell, server and MCP tests share: how to reach the three commands.

Until `qa/cli/app.py` registers `shell`, `serve` and `mcp`, they are run from
`qa.interfaces.cli_commands`' own Typer app; afterwards through `qa` itself.
"""

from __future__ import annotations

import sys

import pytest
import typer

INTERFACE_COMMANDS = ("shell", "serve", "mcp")


def registered() -> bool:
    """Whether `qa` itself has the three commands."""
    from qa.cli.app import app

    names = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    return set(INTERFACE_COMMANDS) <= names


def cli_app() -> typer.Typer:
    """The Typer app that runs `shell`, `serve` and `mcp` (and, once registered, the rest)."""
    if registered():
        from qa.cli.app import app

        return app
    from qa.interfaces.cli_commands import _standalone

    return _standalone()


def qa_argv(*args: str) -> list[str]:
    """A subprocess command line for `qa ARGS...` with this interpreter."""
    module = "qa" if registered() else "qa.interfaces.cli_commands"
    return [sys.executable, "-m", module, *args]


def same_answer(got: dict, expected: dict) -> bool:
    """The same passages and texts; scores equal up to float noise.

    Questions asked together are encoded in one batch, and a batched vector differs from a lone
    one by ~1e-8, which can move the last rounded digit of a score.
    """
    def strip(answer: dict) -> dict:
        return {**answer, "results": [{k: v for k, v in r.items() if k not in ("score", "relevance")}
                                      for r in answer["results"]]}

    def scores(answer: dict) -> list[float]:
        return [x for r in answer["results"] for x in (r["score"], r["relevance"])]

    return strip(got) == strip(expected) and scores(got) == pytest.approx(scores(expected), abs=1e-4)
