"""The `qa` command line: parse options, call the core, render. Nothing else lives here.

The Typer app holds `qa ask`, `quotes`, `sources`, `show` and `bench`, and registers `qa index`
(qa.cli.index_command) and `qa shell`, `serve`, `mcp` (qa.interfaces.cli_commands) in the order
`qa --help` lists them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from qa.cli import index_command
from qa.cli.bare_option import IndexCommand
from qa.cli.console import err, handle_errors, notice, out
from qa.cli.options import Author, IndexDir, JsonFlag, Model, Outlet, PathGlob, Since, Title, Undated, Until
from qa.errors import QAError
from qa.interfaces import cli_commands
from qa.search.modes import Fusion, Mode

app = typer.Typer(
    help="Ask questions of a folder of news articles, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(cls=IndexCommand)(index_command.index)


class BenchMode(StrEnum):
    """`qa bench --mode`: one retrieval mode, or all of them."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"
    ALL = "all"


@app.command()
@handle_errors
def ask(
    question: Annotated[str, typer.Argument(help="The question, or - to read one per line.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="How many passages.")] = 5,
    mode: Annotated[Mode, typer.Option("--mode", help="Which retrievers rank.")] = Mode.HYBRID,
    fusion: Annotated[
        Fusion, typer.Option("--fusion", help="How hybrid mode fuses.")
    ] = Fusion.CONVEX,
    outlet: Outlet = None,
    author: Author = None,
    title: Title = None,
    since: Since = None,
    until: Until = None,
    path: PathGlob = None,
    undated: Undated = False,
    collapse: Annotated[
        bool,
        typer.Option("--collapse/--no-collapse", help="Show copies of one passage (wire copy) as one hit."),
    ] = True,
    min_relevance: Annotated[
        Optional[float],
        typer.Option("--min-relevance", min=0.0, max=1.0, help="Drop hits less likely than this to answer."),
    ] = None,
    as_json: JsonFlag = False,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """Ask a question; print the best passages with their answer sentence and source.

    With - as the question, each stdin line is a question, or a JSON object with "question"
    and any of the scope keys (outlet, author, title, since, until, path, undated).

    Example: qa ask "what did Peskov say about tanks" --since 2023
    """
    from qa.cli.render import answer_to_text
    from qa.index.layout import find_index_dir
    from qa.search.filters import Filters
    from qa.search.results import answer_to_dict
    from qa.search.searcher import Searcher

    scope = Filters.build(outlet, author, title, since, until, path, undated)
    searcher = Searcher(find_index_dir(index_dir), model, notice=notice)
    try:
        for q, filters in _questions(question, scope):
            answer = searcher.ask(
                q, k=k, mode=mode, fusion=fusion, filters=filters, collapse=collapse,
                min_relevance=min_relevance,
            )
            if as_json:
                sys.stdout.write(json.dumps(answer_to_dict(answer), ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                tty = out.is_terminal
                out.print(answer_to_text(answer, wrap_width=tty), soft_wrap=not tty)
    finally:
        searcher.close()


def _questions(question: str, scope: Any) -> Iterator[tuple[str, Any]]:
    """(question, filters) pairs: the argument, or one per stdin line (text or JSON object)."""
    from qa.search.filters import Filters

    if question != "-":
        yield question, scope
        return
    for number, line in enumerate(sys.stdin, start=1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            yield line, scope
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise QAError(f"stdin line {number} is not valid JSON", 'Send {"question": "..."} or a plain question') from None
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
            raise QAError(f"stdin line {number} has no \"question\" string", 'Send {"question": "..."}')
        yield obj["question"], Filters.from_mapping(obj) if any(
            k in obj for k in ("outlet", "author", "title", "since", "until", "path", "undated")
        ) else scope


class QuoteSort(StrEnum):
    """`qa quotes --sort`."""

    DATE = "date"
    RELEVANCE = "relevance"


@app.command()
@handle_errors
def quotes(
    speaker: Annotated[
        Optional[str], typer.Argument(help="A speaker's name or part of it, e.g. Peskov [default: everyone].")
    ] = None,
    about: Annotated[
        Optional[str], typer.Option("--about", help="Rank the quotes by this topic (hybrid search).")
    ] = None,
    list_speakers: Annotated[
        bool, typer.Option("--speakers", help="List the speakers with their number of quotes.")
    ] = False,
    k: Annotated[
        Optional[int], typer.Option("-k", "--top", min=1, max=1000, help="How many quotes at most [default: all; 10 with --about].")
    ] = None,
    sort: Annotated[
        Optional[QuoteSort], typer.Option("--sort", help="date: oldest first [default]; relevance [default with --about].")
    ] = None,
    outlet: Outlet = None,
    author: Author = None,
    title: Title = None,
    since: Since = None,
    until: Until = None,
    path: PathGlob = None,
    undated: Undated = False,
    as_json: JsonFlag = False,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """Who said what: a speaker's quotes, oldest first and grouped by article.

    Example: qa quotes Peskov --about tanks --since 2023
    """
    from qa.cli.render import quotes_to_text, speakers_to_text
    from qa.index.layout import find_index_dir
    from qa.index.store import Store
    from qa.quotes.query import answer_quotes, answer_to_list, check_attributed, speakers
    from qa.search.filters import Filters

    scope = Filters.build(outlet, author, title, since, until, path, undated)
    index_dir = find_index_dir(index_dir)
    searcher = None
    if about is not None:
        from qa.search.searcher import Searcher

        searcher = Searcher(index_dir, model, notice=notice)
        store = searcher.store
    else:
        store = Store.open(index_dir)
    try:
        if list_speakers:
            check_attributed(store)
            rows = speakers(store, scope)[: k or None]
            if as_json:
                sys.stdout.write(json.dumps([{"speaker": n, "quotes": c} for n, c in rows],
                                            ensure_ascii=False) + "\n")
            else:
                out.print(speakers_to_text(rows), soft_wrap=True)
            return
        answer = answer_quotes(store, speaker, about, scope, k, sort.value if sort else None, searcher)
    finally:
        (searcher or store).close()
    if as_json:
        sys.stdout.write(json.dumps(answer_to_list(answer), ensure_ascii=False) + "\n")
    else:
        out.print(quotes_to_text(answer.quotes), soft_wrap=True)


@app.command()
@handle_errors
def sources(
    outlet: Outlet = None,
    author: Author = None,
    title: Title = None,
    since: Since = None,
    until: Until = None,
    path: PathGlob = None,
    undated: Undated = False,
    as_json: JsonFlag = False,
    index_dir: IndexDir = None,
) -> None:
    """List the indexed articles: outlet, date, title, path, passage count.

    Example: qa sources --outlet Reuters --json
    """
    from qa.cli.render import sources_to_text
    from qa.index.layout import find_index_dir
    from qa.index.store import Store
    from qa.search.filters import Filters
    from qa.search.results import article_to_dict

    scope = Filters.build(outlet, author, title, since, until, path, undated)
    index_dir = find_index_dir(index_dir)
    store = Store.open(index_dir)
    try:
        articles = store.articles(*scope.where())
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps([article_to_dict(a) for a in articles], ensure_ascii=False))
        sys.stdout.write("\n")
    else:
        out.print(f"Index: {index_dir}/ ({vectors_line(index_dir)})", style="dim", soft_wrap=True)
        out.print(sources_to_text(articles), soft_wrap=True)


@app.command()
@handle_errors
def show(
    ref: Annotated[str, typer.Argument(help="An indexed file, or PATH#RECORD for a dump's record.")],
    as_json: JsonFlag = False,
    index_dir: IndexDir = None,
) -> None:
    """Show an article as qa parsed it: metadata, then its passages.

    Example: qa show data/little-ground-for-optimism.txt
    """
    from qa.cli.render import article_to_text
    from qa.index.layout import find_index_dir
    from qa.index.store import Store
    from qa.search.results import show_to_dict
    from qa.search.searcher import article_by_ref

    store = Store.open(find_index_dir(index_dir))
    try:
        article, passages = article_by_ref(store, ref)
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(show_to_dict(article, passages), ensure_ascii=False) + "\n")
    else:
        out.print(article_to_text(article, passages), soft_wrap=True)


@app.command()
@handle_errors
def bench(
    dataset: Annotated[
        Path,
        typer.Argument(help="Labelled questions (.jsonl), or a BEIR folder (corpus.jsonl, queries, qrels)."),
    ],
    corpus: Annotated[
        Optional[list[Path]],
        typer.Option("--corpus", help="Index these folders/files first (questions file only; repeatable)."),
    ] = None,
    split: Annotated[
        Optional[str], typer.Option("--split", help="Only questions of this split (e.g. dev).")
    ] = None,
    mode: Annotated[
        BenchMode, typer.Option("--mode", help="A retrieval mode, or all (one row each).")
    ] = BenchMode.HYBRID,
    fusion: Annotated[
        Fusion, typer.Option("--fusion", help="How hybrid mode fuses.")
    ] = Fusion.CONVEX,
    as_json: JsonFlag = False,
    index_dir: Annotated[
        Optional[Path],
        typer.Option("--index-dir", help="Index to use or keep [default: a temporary folder for a "
                     "BEIR set; the usual index for questions without --corpus]."),
    ] = None,
    model: Model = None,
) -> None:
    """Measure retrieval quality on your own labelled questions, or on a BEIR data set.

    Questions: one JSON object a line, {"question", "path", "any": [phrases], "answer"?:
    [phrases], "record"?, "page"?, "split"?}; prints hit@1, hit@3, hit@5, MRR@10, answer@1
    and the misses.

    Example: qa bench my-questions.jsonl --corpus ~/news
    """
    from qa.cli.progress import RichProgress
    from qa.cli.render import bench_to_text, question_bench_to_text

    modes = list(Mode) if mode == BenchMode.ALL else [Mode(mode.value)]
    with RichProgress(err) as progress:
        if dataset.is_file():
            from qa.evaluation.questions import run_question_bench
            from qa.index.layout import find_index_dir

            folder = index_dir if index_dir or corpus else find_index_dir(None)
            rows = run_question_bench(dataset, corpus or [], modes, folder, model, progress, fusion, split)
        else:
            from qa.evaluation.beir import run_bench

            rows = run_bench(dataset, modes, index_dir, model, progress, fusion)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif dataset.is_file():
        out.print(question_bench_to_text(rows), soft_wrap=True)
    else:
        out.print(bench_to_text(rows))


for _command in (cli_commands.shell, cli_commands.serve, cli_commands.mcp):
    app.command()(_command)  # their frameworks load inside each, when it runs


def vectors_line(index_dir: Path) -> str:
    """What `qa sources` says of the vector index: its type, parameters and why."""
    from qa.index.layout import read_manifest
    from qa.index.index_types import VectorPlan
    from qa.index.layout import IndexLayout

    manifest = read_manifest(IndexLayout(index_dir))
    info = manifest.get("vectors")
    engine = f"backend: {manifest['backend']}; " if manifest.get("backend", "local") != "local" else ""
    try:
        return engine + ("vectors: " + VectorPlan.from_info(info).summary() if info else "vectors: none yet")
    except (KeyError, TypeError, ValueError):
        return engine + "vectors: unknown"


def main() -> None:
    app()
