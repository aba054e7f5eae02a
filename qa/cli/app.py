"""The `qa` command line: parse options, call the core, render. Nothing else lives here."""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from qa.errors import QAError
from qa.search.modes import Fusion, Mode

if TYPE_CHECKING:
    from qa.index.indexer import IndexReport

app = typer.Typer(
    help="Ask questions of a folder of news articles, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

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



class BenchMode(StrEnum):
    """`qa bench --mode`: one retrieval mode, or all of them."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"
    ALL = "all"


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


@app.command()
@handle_errors
def index(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Folders or .txt/.md files to index [default: data/]."),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Start from an empty index (e.g. to change model).")
    ] = False,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """Index articles: new and changed files are embedded, vanished ones removed.

    Example: qa index data/
    """
    from qa.cli.progress import RichProgress
    from qa.index.indexer import run_index
    from qa.index.layout import find_index_dir

    index_dir = find_index_dir(index_dir)
    with RichProgress(err) as progress:
        report = run_index(index_dir, paths or [Path("data")], model, progress, rebuild=rebuild)
    out.print(_report_line(report, index_dir), soft_wrap=True)


def _report_line(report: IndexReport, index_dir: Path) -> str:
    parts = [
        f"{len(report.added)} added",
        f"{len(report.updated)} updated",
        f"{len(report.removed)} removed",
        f"{report.unchanged} unchanged",
    ]
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped")
    return (
        f"Indexed into {index_dir}/: {', '.join(parts)}; "
        f"{report.embedded} passages embedded, {report.reused} reused; "
        f"now {report.articles} articles, {report.passages} passages ({report.seconds:.1f} s)"
    )


@app.command()
@handle_errors
def ask(
    question: Annotated[str, typer.Argument(help="The question, or - to read one per line.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="How many passages.")] = 5,
    mode: Annotated[Mode, typer.Option("--mode", help="Which retrievers rank.")] = Mode.HYBRID,
    fusion: Annotated[
        Fusion, typer.Option("--fusion", help="How hybrid mode fuses.")
    ] = Fusion.CONVEX,
    as_json: JsonFlag = False,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """Ask a question; print the best passages with their answer sentence and source.

    Example: qa ask "what did Peskov say about tanks"
    """
    from qa.cli.render import answer_to_dict, hits_to_text
    from qa.index.layout import find_index_dir
    from qa.search.searcher import Searcher

    searcher = Searcher(find_index_dir(index_dir), model, notice=_notice)
    try:
        for q in _questions(question):
            hits = searcher.ask(q, k=k, mode=mode, fusion=fusion)
            if as_json:
                sys.stdout.write(json.dumps(answer_to_dict(q, hits), ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                tty = out.is_terminal
                out.print(hits_to_text(q, hits, wrap_width=tty), soft_wrap=not tty)
    finally:
        searcher.close()


def _questions(question: str) -> Iterator[str]:
    if question != "-":
        yield question
        return
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


@app.command()
@handle_errors
def sources(
    as_json: JsonFlag = False,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """List the indexed articles: outlet, date, title, path, passage count.

    Example: qa sources --json
    """
    from qa.cli.render import article_to_dict, sources_to_text
    from qa.index.layout import find_index_dir
    from qa.index.store import Store

    index_dir = find_index_dir(index_dir)
    store = Store.open(index_dir)
    try:
        articles = store.articles()
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps([article_to_dict(a) for a in articles], ensure_ascii=False))
        sys.stdout.write("\n")
    else:
        out.print(f"Index: {index_dir}/", style="dim")
        out.print(sources_to_text(articles), soft_wrap=True)


@app.command()
@handle_errors
def bench(
    dataset: Annotated[Path, typer.Argument(help="A BEIR folder: corpus.jsonl, queries*.jsonl, qrels/test.tsv.")],
    mode: Annotated[
        BenchMode, typer.Option("--mode", help="A retrieval mode, or all (one row each).")
    ] = BenchMode.HYBRID,
    fusion: Annotated[
        Fusion, typer.Option("--fusion", help="How hybrid mode fuses.")
    ] = Fusion.CONVEX,
    as_json: JsonFlag = False,
    index_dir: Annotated[
        Optional[Path],
        typer.Option("--index-dir", help="Keep the benchmark index here [default: a temporary folder]."),
    ] = None,
    model: Model = None,
) -> None:
    """Measure retrieval quality: nDCG@10, Recall@10, Recall@100, MRR@10.

    Example: qa bench ../shared/corpora/scifact --mode all
    """
    from qa.evaluation.beir import run_bench
    from qa.cli.progress import RichProgress
    from qa.cli.render import bench_to_text

    modes = list(Mode) if mode == BenchMode.ALL else [Mode(mode.value)]
    with RichProgress(err) as progress:
        rows = run_bench(dataset, modes, index_dir, model, progress, fusion)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row) + "\n")
    else:
        out.print(bench_to_text(rows))


def _notice(message: str) -> None:
    err.print(f"[yellow]notice:[/yellow] {message}", soft_wrap=True)


def main() -> None:
    app()
