"""The search page and article view as HTML, one pure function each (no templates engine).

Everything user- or index-supplied goes through :func:`html.escape`; the pages need no
JavaScript, load nothing from other hosts, and link only to this server.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from qa.search.modes import Mode

if TYPE_CHECKING:
    from qa.index.store import ArticleRow, PassageRow
    from qa.search.results import Answer, Hit

NO_MATCH_LINE = "Nothing in the index answers this closely; the nearest passages:"


@cache
def static_text(name: str) -> str:
    """A file of ``qa/interfaces/static/`` (read once)."""
    return resources.files("qa.interfaces").joinpath("static", name).read_text("utf-8")


def page(title: str, body: str) -> str:
    """The page skeleton around ``body`` (already HTML)."""
    return Template(static_text("page.html")).substitute(title=escape(title), body=body)


def search_page(
    form: dict[str, Any],
    outlets: list[str],
    answer: Answer | None = None,
    error: str | None = None,
) -> str:
    """The search form, then the answer (or an error) when a question was asked.

    Args:
        form: the submitted values (q, k, mode, outlet, since, until) to fill the form with.
        outlets: the outlets in the index, for the outlet menu.
    """
    parts = [_form(form, outlets)]
    if error is not None:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    elif answer is not None:
        parts.append(_answer_html(answer))
    title = f"{form['q']} - qa" if form.get("q") else "qa - ask the news archive"
    return page(title, "\n".join(parts))


def _form(form: dict[str, Any], outlets: list[str]) -> str:
    q = escape(str(form.get("q") or ""))
    mode_options = "".join(
        _option(m.value, m.value, form.get("mode") == m.value) for m in Mode
    )
    chosen = form.get("outlet") or ""
    outlet_options = _option("", "any outlet", not chosen) + "".join(
        _option(o, o, o == chosen) for o in outlets
    )
    k = escape(str(form.get("k") or 5))
    return f"""<form class="ask" method="get" action="/" role="search">
  <div class="askrow">
    <input type="search" name="q" value="{q}" placeholder="Ask a question, e.g. what did Peskov say about tanks"
           aria-label="Question" maxlength="2000" required autofocus>
    <button type="submit">Ask</button>
  </div>
  <details class="options"{' open' if _scoped(form) else ''}>
    <summary>Options</summary>
    <div class="optgrid">
      <label>Passages <input type="number" name="k" min="1" max="100" value="{k}"></label>
      <label>Mode <select name="mode">{mode_options}</select></label>
      <label>Outlet <select name="outlet">{outlet_options}</select></label>
      <label>Since {_date_input("since", form)}</label>
      <label>Until {_date_input("until", form)}</label>
    </div>
  </details>
</form>"""


def _date_input(name: str, form: dict[str, Any]) -> str:
    value = escape(str(form.get(name) or ""))
    return f'<input type="text" name="{name}" value="{value}" placeholder="YYYY[-MM[-DD]]">'


def _scoped(form: dict[str, Any]) -> bool:
    return any(form.get(key) for key in ("outlet", "since", "until")) or form.get("mode") not in (
        None, "", Mode.HYBRID.value
    )


def _option(value: str, label: str, selected: bool) -> str:
    return f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(label)}</option>'


def _answer_html(answer: Answer) -> str:
    if answer.excluded_by is not None:
        return f'<p class="notice">No indexed article matches the filters ({escape(answer.excluded_by)}).</p>'
    if not answer.hits:
        return '<p class="notice">No passage matches this question.</p>'
    parts = []
    if answer.filters:
        scope = ", ".join(f"{k}={v}" for k, v in answer.filters.items())
        parts.append(f'<p class="scope">Scope: {escape(scope)}</p>')
    if answer.no_match:
        parts.append(f'<p class="notice">{escape(NO_MATCH_LINE)}</p>')
    items = "\n".join(hit_html(hit) for hit in answer.hits)
    klass = "results dim" if answer.no_match else "results"
    parts.append(f'<ol class="{klass}">\n{items}\n</ol>')
    return "\n".join(parts)


def hit_html(hit: Hit) -> str:
    """One result: the source line, where in the file, the passage with its answer marked."""
    from qa.cli.render import where_text

    meta = hit.source.meta
    link = article_href(hit.source.ref, hit.source.paragraph)
    title = f'<a class="title" href="{escape(link)}">{escape(meta.title or "(untitled)")}</a>'
    pieces = [escape(p) for p in (meta.outlet, meta.date) if p] + [title]
    source = '<span class="sep"> · </span>'.join(pieces)
    start, end = hit.answer_start, hit.answer_start + len(hit.answer)
    text = (
        escape(hit.text[:start]) + "<mark>" + escape(hit.text[start:end]) + "</mark>"
        + escape(hit.text[end:])
    )
    also = ""
    if hit.also_in:
        copies = "; ".join(
            escape(" ".join(p for p in (c.meta.outlet, c.meta.date) if p) or c.path)
            for c in hit.also_in
        )
        also = f'\n  <p class="also">Also in: {copies}</p>'
    return (
        f'<li>\n  <p class="source"><span class="rank">{hit.rank}.</span>{source} '
        f'<span class="relevance">[{hit.relevance:.2f}]</span></p>\n'
        f'  <p class="where">{escape(where_text(hit))}</p>\n'
        f'  <p class="passage">{text}</p>{also}\n</li>'
    )


def article_href(ref: str, paragraph: int | None = None) -> str:
    """The article view's address for an index reference (and paragraph anchor)."""
    anchor = f"#p{paragraph}" if paragraph is not None else ""
    return f"/article?{urlencode({'ref': ref})}{anchor}"


def article_page(article: ArticleRow, passages: list[PassageRow]) -> str:
    """An indexed article as qa parsed it: metadata, then numbered passages."""
    from qa.search.results import article_ref, paragraph_span

    ref = article_ref(article)
    rows = [
        f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>"
        for name, value in article.meta.to_dict().items()
        if name != "title" and value
    ]
    rows.append(f"<dt>file</dt><dd>{escape(ref)}</dd>")
    seen: set[int] = set()
    paras = []
    for p in passages:
        anchor = "" if p.paragraph in seen else f' id="p{p.paragraph}"'
        seen.add(p.paragraph)
        span = paragraph_span(p.paragraph, p.paragraph_end)
        page_no = f" p.{p.page}" if p.page is not None else ""
        paras.append(
            f'<div class="para"{anchor}><span class="num">{escape(span + page_no)}</span>'
            f"<p>{escape(p.text)}</p></div>"
        )
    title = article.meta.title or "(untitled)"
    body = (
        f'<article>\n<h1>{escape(title)}</h1>\n<dl class="meta">{"".join(rows)}</dl>\n'
        + "\n".join(paras)
        + "\n</article>"
    )
    return page(f"{title} - qa", body)


def error_page(message: str) -> str:
    """A page that only says what went wrong."""
    return page("qa - error", f'<p class="error" role="alert">{escape(message)}</p>')
