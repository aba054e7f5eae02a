"""The `qa` command line: parse options, call the core, render. Nothing else lives here."""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from qa.errors import QAError

if TYPE_CHECKING:
    from qa.indexer import IndexReport

app = typer.Typer(
    help="Ask questions of a folder of news articles, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

IndexDir = Annotated[
    Path,
    typer.Option("--index-dir", envvar="QA_INDEX_DIR", help="Index folder.", show_default=True),
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
            from qa.store import damaged_database, db_path

            _error_line(damaged_database(db_path(Path(kwargs.get("index_dir") or "index")), exc))
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
    index_dir: IndexDir = Path("index"),
    model: Model = None,
) -> None:
    """Index articles: new and changed files are embedded, vanished ones removed.

    Example: qa index data/
    """
    from qa.indexer import run_index
    from qa.progress import RichProgress

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
    mode: Annotated[
        str, typer.Option("--mode", help="hybrid, dense or lexical.", show_default=True)
    ] = "hybrid",
    fusion: Annotated[
        str, typer.Option("--fusion", help="How hybrid mode fuses: convex or rrf.")
    ] = "convex",
    as_json: JsonFlag = False,
    index_dir: IndexDir = Path("index"),
    model: Model = None,
) -> None:
    """Ask a question; print the best passages with their answer sentence and source.

    Example: qa ask "what did Peskov say about tanks"
    """
    from qa.render import answer_to_dict, hits_to_text
    from qa.search import Searcher

    searcher = Searcher(index_dir, model, notice=_notice)
    try:
        for q in _questions(question):
            hits = searcher.ask(q, k=k, mode=mode, fusion=fusion)  # type: ignore[arg-type]
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
    index_dir: IndexDir = Path("index"),
    model: Model = None,
) -> None:
    """List the indexed articles: outlet, date, title, path, passage count.

    Example: qa sources --json
    """
    from qa.render import article_to_dict, sources_to_text
    from qa.store import Store

    store = Store.open(index_dir)
    try:
        articles = store.articles()
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps([article_to_dict(a) for a in articles], ensure_ascii=False))
        sys.stdout.write("\n")
    else:
        out.print(sources_to_text(articles), soft_wrap=True)


@app.command()
@handle_errors
def bench(
    dataset: Annotated[Path, typer.Argument(help="A BEIR folder: corpus.jsonl, queries*.jsonl, qrels/test.tsv.")],
    mode: Annotated[
        str, typer.Option("--mode", help="hybrid, dense, lexical, or all (one row each).")
    ] = "hybrid",
    fusion: Annotated[
        str, typer.Option("--fusion", help="How hybrid mode fuses: convex or rrf.")
    ] = "convex",
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
    from qa.bench import run_bench
    from qa.progress import RichProgress
    from qa.render import bench_to_text
    from qa.search import MODES

    modes = list(MODES) if mode == "all" else [mode]
    if any(m not in MODES for m in modes):
        raise QAError(f"unknown mode {mode!r}", "Use hybrid, dense, lexical or all")
    with RichProgress(err) as progress:
        rows = run_bench(dataset, modes, index_dir, model, progress, fusion)  # type: ignore[arg-type]
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row) + "\n")
    else:
        out.print(bench_to_text(rows))


def _notice(message: str) -> None:
    err.print(f"[yellow]notice:[/yellow] {message}", soft_wrap=True)


def main() -> None:
    app()
