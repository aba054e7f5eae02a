"""Output formats, one pure function each: Rich text and JSON for hits and sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from qa.index.store import ArticleRow, PassageRow
from qa.search.results import article_ref, paragraph_span, source_ref
from qa.search.terms import content_terms, term_spans

if TYPE_CHECKING:
    from qa.search.results import Answer, Hit  # numpy and faiss: not needed to list sources

ANSWER_STYLE = "bold"
TERM_STYLE = "underline yellow"
NO_MATCH_LINE = "Nothing in the index answers this closely; the nearest passages:"


def answer_to_text(answer: Answer, wrap_width: bool = True) -> Group | Text:
    """Rank, relevance, outlet · date · title, where; then the paragraph holding the answer
    sentence, the sentence in bold (and marked with » for pipes, where bold is lost). A passage
    packs neighbouring paragraphs: the others are counted, and `qa show` or --json has them.

    Args:
        wrap_width: True for a terminal (passages wrap, indented); False for a pipe or file
            (one line per passage, no padding), where the caller prints with soft wrapping.
    """
    if answer.excluded_by is not None:
        return Text(f"No indexed article matches the filters ({answer.excluded_by}).", style="dim")
    if not answer.hits:
        return Text("No passage matches this question.", style="dim")
    terms = content_terms(answer.question)
    blocks: list[Any] = [Text(NO_MATCH_LINE, style="yellow")] if answer.no_match else []
    for hit in answer.hits:
        heading = Text.assemble(
            (f"{hit.rank}. ", "bold cyan"),
            (f"[{hit.relevance:.2f}] ", "dim"),
            (" · ".join(_source_parts(hit)), "bold"),
        )
        where = Text(where_text(hit), style="green")
        if hit.speaker:
            where.append(f"  said by {hit.speaker}", style="bold")
        if hit.also_in:
            where.append("  also in: " + "; ".join(_copy_text(c) for c in hit.also_in), style="dim")
        body = _answer_paragraph(hit, terms, answer.no_match, marked=not wrap_width)
        if wrap_width:
            blocks.append(Group(heading, Padding(Group(where, body), (0, 0, 1, 3), expand=False)))
        else:
            body = Text("\n   ").join(body.split("\n"))
            blocks.append(Group(heading, Text("   ") + where, Text("   ") + body, Text("")))
    return Group(*blocks)


def _answer_paragraph(hit: Hit, terms: list[str], dim: bool, marked: bool) -> Text:
    """The line of the passage that holds the answer sentence, styled; others counted."""
    start = hit.text.rfind("\n", 0, hit.answer_start) + 1
    end = hit.text.find("\n", hit.answer_start + len(hit.answer))
    end = len(hit.text) if end < 0 else end
    line = hit.text[start:end]
    a, b = hit.answer_start - start, hit.answer_start - start + len(hit.answer)
    if marked:
        line = f"{line[:a]}»{line[a:b]}«{line[b:]}"
        a, b = a + 1, b + 1
    body = Text(line, style="dim" if dim else "")
    body.stylize(ANSWER_STYLE, a, b)
    for s, e in term_spans(line, terms):
        body.stylize(TERM_STYLE, s, e)
    others = hit.text.count("\n") - line.count("\n")
    if others:
        body.append(f"\n(+{others} more paragraph{'s' if others > 1 else ''} in this passage: "
                    f"qa show {hit.source.ref})", style="dim")
    return body


def where_text(hit: Hit) -> str:
    """path[#record]:paragraph[-end][, p. N]: where to find the passage."""
    s = hit.source
    span = paragraph_span(s.paragraph, s.paragraph_end)
    page = f" (p. {s.page})" if s.page is not None else ""
    return f"{s.ref}:{span}{page}"


def _copy_text(copy: Any) -> str:
    ref = source_ref(copy.path, copy.record)
    parts = [p for p in (copy.meta.outlet, copy.meta.date) if p]
    return " ".join([*parts, f"({ref}:{copy.paragraph})"])


def _source_parts(hit: Hit) -> list[str]:
    m = hit.source.meta
    parts = [p for p in (m.outlet, m.date, m.title) if p]
    return parts or ["(untitled)"]


def sources_to_text(articles: list[ArticleRow]) -> Text:
    """One line per article: outlet, date, title, path, passage count (print unwrapped)."""
    if not articles:
        return Text("The index holds no articles.", style="dim")
    out = Text()
    for a in articles:
        ref = article_ref(a)
        out.append(a.meta.outlet or "-", style="bold")
        out.append(f"  {a.meta.date or '-'}  ")
        out.append(a.meta.title or "(untitled)")
        out.append(f"  {ref}", style="green")
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


def article_to_text(article: ArticleRow, passages: list[PassageRow]) -> Text:
    """`qa show`: the article's metadata, then its passages with paragraph (and page) numbers."""
    out = Text()
    ref = article_ref(article)
    out.append(f"{article.meta.title or '(untitled)'}\n", style="bold")
    for name, value in article.meta.to_dict().items():
        if name != "title" and value:
            out.append(f"{name}: ", style="dim")
            out.append(f"{value}\n")
    out.append(f"{ref}  {len(passages)} passages\n\n", style="green")
    for p in passages:
        span = paragraph_span(p.paragraph, p.paragraph_end)
        page = f" p.{p.page}" if p.page is not None else ""
        out.append(f"[{span}{page}] ", style="cyan")
        out.append(p.text + "\n\n")
    out.rstrip()
    return out


def question_bench_to_text(rows: list[dict[str, Any]]) -> Group:
    """hit@1/3/5, MRR@10 and answer@1 per mode, then the misses of the first mode."""
    first = rows[0] if rows else {}
    table = Table(title=f"{first.get('set', '')}: {first.get('questions', 0)} questions")
    table.add_column("mode")
    metrics = ("hit@1", "hit@3", "hit@5", "mrr@10")
    for metric in metrics:
        table.add_column(metric, justify="right")
    answers = first.get("answer_questions", 0)
    table.add_column(f"answer@1 ({answers})" if answers else "answer@1", justify="right")
    for row in rows:
        answer = row.get("answer@1")
        table.add_row(str(row["mode"]), *(f"{row[m]:.3f}" for m in metrics),
                      "-" if answer is None else f"{answer:.3f}")
    misses = Text()
    for miss in first.get("misses", []):
        rank = "not in top 10" if miss["rank"] is None else f"rank {miss['rank']}"
        wrong = "; answer sentence misses it" if miss.get("answer_ok") is False else ""
        misses.append(f"\n{miss['question']}", style="bold")
        misses.append(f"  ({rank}{wrong}; expected {miss['expected']})\n", style="dim")
        misses.append(f"   first: {miss['first']}  {miss['first_text'] or ''}\n")
        if miss.get("answer_ok") is False and miss.get("answer"):
            misses.append(f"   answer: {miss['answer']}\n", style="dim")
    return Group(table, misses)


def quotes_to_text(quotes: list[Any]) -> Text:
    """`qa quotes`: grouped by article (outlet · date · title, where), each quote with its
    speaker and kind (print unwrapped)."""
    if not quotes:
        return Text("No quotes in scope.", style="dim")
    out = Text()
    current: Any = None
    for q in quotes:
        if q.article_id != current:
            current = q.article_id
            if out:
                out.append("\n")
            m = q.source.meta
            out.append(" · ".join(p for p in (m.outlet, m.date, m.title) if p) or "(untitled)",
                       style="bold")
            out.append(f"  {q.source.ref}\n", style="green")
        out.append(f"  {q.speaker}", style="cyan")
        relevance = f" [{q.relevance:.2f}]" if q.relevance is not None else ""
        out.append(f" ({q.kind}){relevance}: ", style="dim")
        out.append(q.quote + "\n")
    out.rstrip()
    return out


def speakers_to_text(rows: list[tuple[str, int]]) -> Text:
    """`qa quotes --speakers`: one line per speaker with the number of quotes."""
    if not rows:
        return Text("No quotes in scope.", style="dim")
    out = Text()
    for name, count in rows:
        out.append(f"{count:6d}  ", style="dim")
        out.append(f"{name}\n")
    out.rstrip()
    return out
