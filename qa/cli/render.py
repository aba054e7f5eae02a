"""Output formats, one pure function each: Rich text and JSON for hits and sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from qa.ingest.files import display_path
from qa.index.store import ArticleRow
from qa.search.terms import content_terms, term_spans

if TYPE_CHECKING:
    from qa.search.searcher import Hit  # numpy and faiss: not needed to list sources

ANSWER_STYLE = "bold"
TERM_STYLE = "underline yellow"


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    """One result in the JSON contract's shape."""
    s = hit.source
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "passage_id": hit.passage_id,
        "text": hit.text,
        "answer": hit.answer,
        "source": {
            "path": s.path,
            "paragraph": s.paragraph,
            "title": s.title,
            "outlet": s.outlet,
            "date": s.date,
            "url": s.url,
        },
    }


def answer_to_dict(question: str, hits: list[Hit]) -> dict[str, Any]:
    """The whole `qa ask --json` object."""
    return {"question": question, "results": [hit_to_dict(h) for h in hits]}


def hits_to_text(question: str, hits: list[Hit], wrap_width: bool = True) -> Group | Text:
    """Rank, score, outlet · date · title, path:paragraph, passage with the answer in bold.

    Args:
        wrap_width: True for a terminal (passages wrap, indented); False for a pipe or file
            (one line per passage, no padding), where the caller prints with soft wrapping.
    """
    if not hits:
        return Text("No passage matches this question.", style="dim")
    terms = content_terms(question)
    blocks: list[Any] = []
    for hit in hits:
        heading = Text.assemble(
            (f"{hit.rank}. ", "bold cyan"),
            (f"[{hit.score:.3f}] ", "dim"),
            (" · ".join(_source_parts(hit)), "bold"),
        )
        where = Text(f"{hit.source.path}:{hit.source.paragraph}", style="green")
        body = Text(hit.text)
        body.stylize(ANSWER_STYLE, hit.answer_start, hit.answer_start + len(hit.answer))
        for start, end in term_spans(hit.text, terms):
            body.stylize(TERM_STYLE, start, end)
        if wrap_width:
            blocks.append(Group(heading, Padding(Group(where, body), (0, 0, 1, 3), expand=False)))
        else:
            body = Text("\n   ").join(body.split("\n"))  # folded headings: keep the indent
            blocks.append(Group(heading, Text("   ") + where, Text("   ") + body, Text("")))
    return Group(*blocks)


def _source_parts(hit: Hit) -> list[str]:
    s = hit.source
    parts = [p for p in (s.outlet, s.date, s.title) if p]
    return parts or ["(untitled)"]


def article_to_dict(article: ArticleRow) -> dict[str, Any]:
    return {
        "path": display_path(article.path),
        "title": article.title,
        "outlet": article.outlet,
        "date": article.date,
        "author": article.author,
        "url": article.url,
        "passages": article.passages,
    }


def sources_to_text(articles: list[ArticleRow]) -> Text:
    """One line per article: outlet, date, title, path, passage count (print unwrapped)."""
    if not articles:
        return Text("The index holds no articles.", style="dim")
    out = Text()
    for a in articles:
        out.append(a.outlet or "-", style="bold")
        out.append(f"  {a.date or '-'}  ")
        out.append(a.title or "(untitled)")
        out.append(f"  {display_path(a.path)}", style="green")
        out.append(f"  {a.passages} passages\n", style="dim")
    out.rstrip()
    return out


def bench_to_text(rows: list[dict[str, Any]]) -> Table:
    """One row per mode: nDCG@10, Recall@10, Recall@100, MRR@10."""
    first = rows[0] if rows else {}
    table = Table(title=f"{first.get('dataset', '')}: {first.get('queries', 0)} queries")
    table.add_column("mode")
    for metric in ("ndcg@10", "recall@10", "recall@100", "mrr@10"):
        table.add_column(metric, justify="right")
    for row in rows:
        table.add_row(
            str(row["mode"]),
            *(f"{row[m]:.4f}" for m in ("ndcg@10", "recall@10", "recall@100", "mrr@10")),
        )
    return table
