"""`qa index`: its options, where embedding runs, and the lines it prints (also with --watch).

Registered by ``qa/cli/app.py`` with ``cls=IndexCommand`` (a bare ``--ray``).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from qa.cli.console import err, handle_errors, note, out
from qa.cli.options import IndexDir, Model
from qa.embed.devices import Device
from qa.errors import QAError
from qa.index.index_types import IndexType

if TYPE_CHECKING:
    from qa.index.indexer import IndexReport


@handle_errors
def index(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Folders or .txt/.md files to index [default: data/]."),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Start from an empty index (e.g. to change model).")
    ] = False,
    fields: Annotated[
        Optional[str],
        typer.Option(
            "--fields",
            help="For JSONL/JSON/CSV/TSV/Parquet dumps: the column of each field, e.g. "
            "text=body,title=headline (text, title, date, outlet, author, url) "
            "[default: detected from common column names].",
        ),
    ] = None,
    index_type: Annotated[
        Optional[IndexType],
        typer.Option(
            "--index-type",
            help="Vector index: auto picks flat, hnsw or ivfpq by size [default: keep the "
            "index's current choice; auto for a new index].",
        ),
    ] = None,
    device: Annotated[
        Device, typer.Option("--device", help="Where to embed: auto picks a GPU when there is one.")
    ] = Device.AUTO,
    ray: Annotated[
        Optional[str],
        typer.Option(
            "--ray", metavar="[local|auto|HOST:PORT]", rich_help_panel="Cluster",
            help="Embed on a Ray cluster: local (start one here; also a bare --ray), auto (the "
            "running cluster) or HOST:PORT. Needs pip install -e '.[ray]'.",
        ),
    ] = None,
    ray_workers: Annotated[
        int, typer.Option("--ray-workers", min=1, help="Ray actors, one model each.", rich_help_panel="Cluster")
    ] = 1,
    batch_size: Annotated[
        Optional[int], typer.Option("--batch-size", min=1, help="Passages per batch.", rich_help_panel="Cluster")
    ] = None,
    backend: Annotated[
        Optional[str],
        typer.Option(
            "--backend", help="Search engine: local (SQLite FTS5 + FAISS), milvus:FILE.db (Milvus "
            "Lite) or milvus://HOST:19530/COLLECTION; recorded for every later command "
            "[default: the index's, else local]. Milvus needs pip install -e '.[milvus]'.",
            rich_help_panel="Cluster",
        ),
    ] = None,
    token: Annotated[
        Optional[str],
        typer.Option(
            "--token", envvar="QA_MILVUS_TOKEN", show_envvar=False,
            help="Milvus token (user:password or API key) [default: $QA_MILVUS_TOKEN]; never stored.",
            rich_help_panel="Cluster",
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Then keep watching the paths and index each batch "
                           "of changes (Ctrl-C stops).", rich_help_panel="Watch"),
    ] = False,
    debounce: Annotated[
        float, typer.Option("--debounce", min=0.0, max=3600.0, help="With --watch: seconds without a change "
                            "before a batch is indexed.", rich_help_panel="Watch"),
    ] = 2.0,
    index_dir: IndexDir = None,
    model: Model = None,
) -> None:
    """Index articles: new and changed files are embedded, vanished ones removed.

    Example: qa index data/   (or qa index data/ --watch, to follow an archive that grows)
    """
    from qa.cli.progress import RichProgress
    from qa.index.indexer import run_index
    from qa.index.layout import find_index_dir

    from qa.ingest.fields import parse_fields_option
    from qa.ingest.readers import ReadOptions

    options = ReadOptions(fields=parse_fields_option(fields) if fields else {}, note=note)
    embedding = _embedding(device, ray, ray_workers, batch_size)
    index_dir = find_index_dir(index_dir)
    with RichProgress(err) as progress:
        if watch:
            from qa.index.watch import watch_index

            if backend is not None:  # the watcher's runs use the recorded backend
                raise QAError(
                    "--watch does not take --backend",
                    "Run `qa index PATH --backend ...` once, then `qa index PATH --watch` "
                    "(a Milvus token from $QA_MILVUS_TOKEN)",
                )

            batches = watch_index(index_dir, paths or [Path("data")], model, progress, debounce,
                                  rebuild, options, index_type, embedding)
            return _print_batches(batches, index_dir)
        report = run_index(
            index_dir, paths or [Path("data")], model, progress, rebuild=rebuild,
            options=options, index_type=index_type, embedding=embedding, backend=backend,
            token=token,
        )
    out.print(_report_line(report, index_dir), soft_wrap=True)


def _embedding(device: Device, ray: str | None, workers: int, batch_size: int | None) -> Any:
    """Check where embedding will run before anything is written (one-line errors)."""
    from qa.index.indexer import Embedding

    if ray is None:
        if device in (Device.CUDA, Device.MPS):  # asked for: fail here, not mid-run
            from qa.embed.devices import resolve_device

            resolve_device(device)  # imports torch: only when a GPU was asked for
        return Embedding(device.value, None, workers, batch_size)
    from qa.embed.ray_embed import check_address, ray_available

    if not ray_available():
        raise QAError("--ray needs Ray, which is not installed", "Run: pip install -e '.[ray]'")
    check_address(ray)
    return Embedding(device.value, ray, workers, batch_size)


def _print_batches(batches: Any, index_dir: Path) -> None:
    """`qa index --watch`: the full run's line, then a line for each batch that changed something."""
    try:
        with contextlib.closing(batches):
            for batch in batches:
                r = batch.report
                if batch.first:
                    out.print(_report_line(r, index_dir), soft_wrap=True)
                    note("watching for changes; Ctrl-C stops")
                elif batch.changed:
                    out.print(f"{time.strftime('%H:%M:%S')} {len(r.added)} added, {len(r.updated)} "
                              f"updated, {len(r.removed)} removed; {r.embedded} passages embedded; now "
                              f"{r.articles} articles, {r.passages} passages ({r.seconds:.1f} s)", soft_wrap=True)
                if batch.waiting:
                    note(f"{len(batch.waiting)} file(s) still being written; indexed in a later batch")
    except KeyboardInterrupt:
        err.print("Stopped watching; every finished batch is in the index (the next `qa index` "
                  "indexes the rest).")
        raise typer.Exit(130) from None


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
