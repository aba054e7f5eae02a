"""`qa mcp`: the index as tools for an AI assistant, over stdio (the official MCP Python SDK).

Tools: ``ask`` (the `qa ask --json` object as structured content), ``show`` (the `qa show
--json` object) and ``sources`` (``{"articles": [<qa sources --json element>, ...]}``). A
user error comes back as a tool error whose text says what to change; stdout carries only
the protocol, so notices go to stderr.

Run for a test or a client config without the `qa` entry point:
``python -m qa.interfaces.mcp_server --index-dir index``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional

from pydantic import Field

from qa.errors import QAError
from qa.interfaces.service import MAX_K, MAX_QUESTION_CHARS, QAService

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

INSTRUCTIONS = """\
This server searches a local, offline archive of news articles that the user indexed with `qa`.
It returns passages quoted verbatim from the articles, each with its source: outlet, date
(ISO 8601, or null when the article states none), title, file path and paragraph number.
Use `ask` for questions of fact, `quotes` for what a person said, `sources` to see what the archive holds (outlets, dates), and
`show` to read a whole article. When you use a passage, cite it by outlet and date (and title),
e.g. "Anadolu Agency, 2023-01-25, 'Kremlin says ...'", and quote the `answer` sentence rather
than paraphrasing it. The archive may be incomplete or one-sided: say which outlets a claim comes
from. When `no_match` is true, nothing in the archive answers the question closely: say so
instead of answering from the nearest passages."""

ASK_DOC = f"""\
Search the news archive for passages that answer a question.

Returns {{"question", "no_match", "results": [...]}}, best first. Each result has `text` (the
passage, verbatim), `answer` (the sentence in it that best answers the question), `score`,
`relevance` (0-1; below 0.5 is a weak match) and `source` {{path, record, paragraph, page,
title, outlet, date, author, url}}; `also_in` lists other articles carrying the same passage
(wire copies), earliest first, and `first: true` marks which of the result and its copies was
published first. Cite results by source.outlet and source.date. `no_match: true` means no
passage answers closely. Narrow the search with the filters, e.g. outlet="Reuters",
since="2023-01", until="2023"; dates are YYYY, YYYY-MM or YYYY-MM-DD and inclusive. The
question may be up to {MAX_QUESTION_CHARS} characters."""

SHOW_DOC = """\
Read one indexed article as the archive holds it: its metadata (title, outlet, date, author,
url, path) and all its passages with paragraph numbers. `ref` is a result's source.path (for
a record of a dump file: "path#record"), exactly as `ask` or `sources` returned it. Only
articles in the archive can be read; anything else is an error."""

SOURCES_DOC = """\
List the articles in the archive: {"articles": [{path, record, title, outlet, date, author,
url, passages}, ...]}. Takes the same filters as `ask` (outlet, author, title, since, until,
path, undated), e.g. to see which outlets or dates the archive covers before answering."""

QUOTES_DOC = """\
Who said what: the sentences of the archive that quote or report a speaker, with the speaker's
full name as the article introduces it. Returns {"quotes": [{speaker, quote, kind ("direct"
for quotation marks, "indirect" for reported speech), relevance (with `about`), source}]},
oldest first (or best first with `about`). `speaker` matches any part of a name ("Peskov");
`about` ranks by a topic ("tanks"); without a speaker, everyone's quotes. An unknown speaker
is an error that lists the closest names. Quote the `quote` verbatim and cite source.outlet
and source.date. Same filters as `ask`."""

Outlets = Annotated[
    Optional[list[str]], Field(description="Only these outlets (exact name, any case).")
]
Text = Optional[str]
Date = Annotated[Optional[str], Field(description="YYYY, YYYY-MM or YYYY-MM-DD (inclusive).")]
Paths = Annotated[
    Optional[list[str]], Field(description="Source path globs as results show them; ** allowed.")
]
Undated = Annotated[bool, Field(description="Keep undated articles when filtering by date.")]


def build_server(service: QAService) -> MCPServer:
    """The MCP server whose tools answer from ``service``."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server: MCPServer = MCPServer("qa", instructions=INSTRUCTIONS, log_level="WARNING")

    def call(function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except QAError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(description=ASK_DOC)
    def ask(
        question: Annotated[str, Field(description="The question, in plain words.")],
        k: Annotated[int, Field(ge=1, le=MAX_K, description="How many passages.")] = 5,
        mode: Annotated[
            Literal["hybrid", "dense", "lexical"],
            Field(description="hybrid (default), dense (meaning) or lexical (exact words)."),
        ] = "hybrid",
        outlet: Outlets = None,
        author: Annotated[Text, Field(description="Byline contains this text.")] = None,
        title: Annotated[Text, Field(description="Title contains this text.")] = None,
        since: Date = None,
        until: Date = None,
        path: Paths = None,
        undated: Undated = False,
    ) -> dict[str, Any]:
        filters = call(_filters, outlet, author, title, since, until, path, undated)
        return call(service.ask_dict, question, k, mode=mode, filters=filters)

    @server.tool(description=SHOW_DOC)
    def show(
        ref: Annotated[str, Field(description="source.path of a result, or path#record.")],
    ) -> dict[str, Any]:
        from qa.search.results import show_to_dict

        return show_to_dict(*call(service.show, ref))

    @server.tool(description=SOURCES_DOC)
    def sources(
        outlet: Outlets = None,
        author: Annotated[Text, Field(description="Byline contains this text.")] = None,
        title: Annotated[Text, Field(description="Title contains this text.")] = None,
        since: Date = None,
        until: Date = None,
        path: Paths = None,
        undated: Undated = False,
    ) -> dict[str, Any]:
        from qa.search.results import article_to_dict

        filters = call(_filters, outlet, author, title, since, until, path, undated)
        return {"articles": [article_to_dict(a) for a in call(service.sources, filters)]}

    @server.tool(description=QUOTES_DOC)
    def quotes(
        speaker: Annotated[Text, Field(description="A speaker's name or part of it.")] = None,
        about: Annotated[Text, Field(description="A topic to rank the quotes by.")] = None,
        k: Annotated[int, Field(ge=1, le=MAX_K, description="How many quotes.")] = 20,
        outlet: Outlets = None,
        author: Annotated[Text, Field(description="Byline contains this text.")] = None,
        title: Annotated[Text, Field(description="Title contains this text.")] = None,
        since: Date = None,
        until: Date = None,
        path: Paths = None,
        undated: Undated = False,
    ) -> dict[str, Any]:
        filters = call(_filters, outlet, author, title, since, until, path, undated)
        return {"quotes": call(service.quotes_list, speaker=speaker, about=about,
                               filters=filters, k=k)}

    return server


def _filters(*values: Any) -> Any:
    from qa.search.filters import Filters

    return Filters.build(*values)


def run_mcp(index_dir: Path, model: str | None) -> None:
    """Open the index and serve MCP on stdin/stdout until the client closes it.

    Raises:
        QAError: the index cannot be opened (reported before any protocol traffic).
    """
    service = QAService(index_dir, model, notice=_notice)
    try:
        build_server(service).run("stdio")
    finally:
        service.close()


def _notice(message: str) -> None:
    print(f"notice: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m qa.interfaces.mcp_server [--index-dir DIR] [--model NAME]``."""
    from qa.index.layout import find_index_dir

    parser = argparse.ArgumentParser(prog="qa mcp", description="Serve the index over MCP (stdio).")
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    try:
        run_mcp(find_index_dir(args.index_dir), args.model)
    except QAError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
