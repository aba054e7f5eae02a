"""The `qa shell`, `qa serve` and `qa mcp` commands, ready for ``app.command()(...)``.

``qa/cli/app.py`` registers them with the other commands. Each command imports its framework
(prompt_toolkit, FastAPI/uvicorn, mcp) only when it runs, so `qa --help` and `qa ask` never load
them.

``python -m qa.interfaces.cli_commands shell|serve|mcp ...`` runs them from a Typer app of
their own.
"""

from typing import Annotated, Optional

import typer

from qa.cli.console import handle_errors, notice
from qa.cli.options import (
    Author,
    IndexDir,
    Model,
    Outlet,
    PathGlob,
    Since,
    Title,
    Undated,
    Until,
)
from qa.search.modes import Fusion, Mode


@handle_errors
def shell(
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="How many passages.")] = 5,
    mode: Annotated[Mode, typer.Option("--mode", help="Which retrievers rank.")] = Mode.HYBRID,
    fusion: Annotated[Fusion, typer.Option("--fusion", help="How hybrid mode fuses.")] = Fusion.CONVEX,
    outlet: Outlet = None,
    author: Author = None,
    title: Title = None,
    since: Since = None,
    until: Until = None,
    path: PathGlob = None,
    undated: Undated = False,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """Ask many questions with the model loaded once; :help lists the commands.

    History is kept in $XDG_STATE_HOME/qa/history. Piped input is read one question per line.

    Example: qa shell --since 2023
    """
    from rich.console import Console

    from qa.index.layout import find_index_dir
    from qa.interfaces.service import QAService
    from qa.interfaces.shell import Settings, run_shell

    scope = {"outlet": outlet, "author": author, "title": title, "since": since,
             "until": until, "path": path, "undated": undated}
    settings = Settings(k, mode, fusion, {key: v for key, v in scope.items() if v})
    settings.filters()  # a malformed --since fails here, before the model loads
    service = QAService(find_index_dir(index_dir), model, notice=notice)
    try:
        run_shell(service, settings, Console(highlight=False), notice)
    finally:
        service.close()


@handle_errors
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; other than loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    token: Annotated[
        Optional[str],
        typer.Option(
            "--token", envvar="QA_TOKEN", show_default=False,
            help="Require 'Authorization: Bearer TOKEN' on every request but /healthz. "
            "Prefer QA_TOKEN: other users can see command lines.",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=16, help="Questions answered in parallel.")
    ] = 1,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """Serve the HTTP API (/ask, /sources, /show, /healthz) and a search page at /.

    Example: qa serve --port 8000, then open http://127.0.0.1:8000/
    """
    from qa.index.layout import find_index_dir
    from qa.interfaces.server import ServerSettings, check_bind
    from qa.interfaces.server import serve as run_server

    check_bind(host, token)  # before loading anything
    settings = ServerSettings(find_index_dir(index_dir), model, token or None, host, workers)
    run_server(settings, port, notice)


@handle_errors
def mcp(index_dir: IndexDir = None, model: Model = None) -> None:
    """Serve the index to an AI assistant over MCP (stdio): tools ask, show and sources.

    Example: qa mcp --index-dir ~/news/index   (as the command of an MCP client's server entry)
    """
    from qa.index.layout import find_index_dir
    from qa.interfaces.mcp_server import run_mcp

    run_mcp(find_index_dir(index_dir), model)


def _standalone() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)
    for command in (shell, serve, mcp):
        app.command()(command)
    return app


if __name__ == "__main__":
    _standalone()()
