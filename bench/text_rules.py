"""What the plain-text reader's rules keep and drop: BBC body text and the seed articles.

Two measurements of :func:`qa.ingest.text.parse_article` (rules in ``docs/text-rules.md``):

* **BBC** (``../shared/corpora/bbc``: 2,225 clean articles, title line, blank line,
  paragraphs). Nothing in them is page junk, so every body paragraph the parser does not keep is
  a false positive of some rule. Counted: articles, paragraphs and words kept against the file's
  own paragraphs, titles equal to the first line, and per drop reason the paragraphs and words
  lost, with examples. A paragraph kept inside a longer one, or as several paragraphs (a block of
  list lines keeps one paragraph per line), counts as regrouped, not lost.
* **Pages** (``../shared/corpora/html``: 13 real web pages from outlets the rules were not
  written for), each flattened to plain text as a browser's "save as text" does (scripts and
  styles gone, one line per block element), so the text keeps the page's menus, share buttons,
  cookie notices and footers. The reader's body is scored against trafilatura's body of the
  same page (:func:`qa.ingest.html.parse_html`, body F1 ~0.96 on labelled pages) with 4-word
  shingles: recall = how much of the story survives, precision = how little else does; junk
  rule drops are listed with examples to check by eye.
* **Seeds** (``data/`` and ``../shared/corpora/seeds``: five scraped news pages, junk
  included): title, outlet, date, author, paragraphs and words kept, and the reasons for each
  dropped paragraph.

Usage::

    python bench/text_rules.py [--bbc DIR] [--pages DIR] [--seeds DIR ...] [--examples N] [--json]
    python bench/text_rules.py --module /path/to/old_text.py   # an older copy, for before/after

``--module`` takes a dotted module name or a ``.py`` file with ``parse_article``; a module
whose ``parse_article`` has no ``dropped`` argument gets its drops counted as ``unattributed``.
Nothing is written.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.ingest.decode import decode_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "corpora"
Parse = Callable[..., Any]


def load_parser(spec: str) -> tuple[Parse, bool]:
    """``parse_article`` of a dotted module or a ``.py`` file, and whether it reports drops."""
    if spec.endswith(".py"):
        module_spec = importlib.util.spec_from_file_location("text_under_test", spec)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(spec)
    parse = module.parse_article
    return parse, "dropped" in inspect.signature(parse).parameters


def parse(parser: tuple[Parse, bool], text: str, suffix: str) -> tuple[Any, list[tuple[str, str]]]:
    """The article and its ``(reason, paragraph)`` drops."""
    function, reports = parser
    if not reports:
        return function(text, suffix), []
    dropped: list[tuple[str, str]] = []
    return function(text, suffix, dropped=dropped), dropped


def _norm(text: str) -> str:
    return " ".join(text.split())


def bbc_truth(text: str) -> tuple[str, list[list[str]]]:
    """The BBC file's own title and body paragraphs (blank-line separated blocks of lines)."""
    lines = text.strip().splitlines()
    title = _norm(lines[0]) if lines else ""
    blocks: list[list[str]] = []
    block: list[str] = []
    for line in [*lines[1:], ""]:
        if line.strip():
            block.append(_norm(line))
        elif block:
            blocks.append(block)
            block = []
    return title, blocks


def _regrouped(block: list[str], kept: set[str], joined: str) -> bool:
    """A block kept as one paragraph per line, or inside a longer paragraph."""
    if all(line in kept for line in block):
        return True
    text = " ".join(block)
    return len(text.split()) >= 3 and text in joined


def bench_bbc(parser: tuple[Parse, bool], folder: Path, examples: int) -> dict[str, Any]:
    """Kept and lost BBC body text, with the reasons for each loss."""
    files = sorted(folder.glob("*/*.txt"))
    totals: Counter[str] = Counter()
    lost_pars: Counter[str] = Counter()
    lost_words: Counter[str] = Counter()
    shown: dict[str, list[str]] = defaultdict(list)
    started = time.perf_counter()
    for path in files:
        text = decode_text(path.read_bytes())
        title, truth = bbc_truth(text)
        article, dropped = parse(parser, text, path.suffix)
        reasons = {_norm(par): reason for reason, par in dropped}
        kept = {_norm(p) for p in article.paragraphs}
        joined = "\n".join(kept)
        totals.update(articles=1, titles_right=int(article.meta.title == title),
                      paragraphs=len(truth), words=sum(len(" ".join(b).split()) for b in truth),
                      paragraphs_out=len(article.paragraphs),
                      words_out=sum(len(p.split()) for p in article.paragraphs))
        for block in truth:
            par = " ".join(block)
            if par in kept:
                continue
            if _regrouped(block, kept, joined):
                totals["regrouped"] += 1
                continue
            reason = reasons.get(par, "unattributed")
            lost_pars[reason] += 1
            lost_words[reason] += len(par.split())
            if len(shown[reason]) < examples:
                shown[reason].append(f"{path.parent.name}/{path.name}: {par[:140]}")
    return {
        "files": len(files), "seconds": round(time.perf_counter() - started, 2), **totals,
        "lost": {r: {"paragraphs": lost_pars[r], "words": lost_words[r], "examples": shown[r]}
                 for r in sorted(lost_pars, key=lost_words.__getitem__, reverse=True)},
    }


_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "section",
           "article", "header", "footer", "nav", "aside", "blockquote", "figcaption", "ul", "ol",
           "table", "form", "main", "dd", "dt", "pre", "figure")


def page_as_text(data: bytes) -> str:
    """A saved web page flattened to text as a browser's "save as text" would do."""
    import lxml.html

    from qa.ingest.html import decode_html

    root = lxml.html.fromstring(decode_html(data))
    for element in root.xpath("//script|//style|//noscript|//template|//svg|//head"):
        element.drop_tree()
    for element in root.iter(*_BLOCKS):
        element.text = "\n\n" + (element.text or "")
        element.tail = "\n\n" + (element.tail or "")
    return root.text_content()


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text.lower())
    return Counter(tuple(tokens[i : i + 4]) for i in range(max(0, len(tokens) - 3)))


def bench_pages(parser: tuple[Parse, bool], folder: Path, examples: int) -> dict[str, Any]:
    """Unseen outlets' pages as plain text: story kept (recall) and junk left (precision)."""
    from qa.ingest.html import parse_html

    rows, drops = [], Counter()
    shown: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.glob("*.htm*")):
        data = path.read_bytes()
        truth = _shingles("\n".join(parse_html(data).paragraphs))
        raw = page_as_text(data)
        article, dropped = parse(parser, raw, ".txt")
        got, everything = _shingles("\n".join(article.paragraphs)), _shingles(raw)
        tp = sum((truth & got).values())
        rows.append({"page": path.name, "recall": tp / max(1, sum(truth.values())),
                     "precision": tp / max(1, sum(got.values())),
                     "precision_unfiltered": sum((truth & everything).values())
                     / max(1, sum(everything.values()))})
        for reason, par in dropped:
            drops[reason] += 1
            if len(shown[reason]) < examples:
                shown[reason].append(f"{path.name}: {par[:100]}")
    mean = {k: round(statistics.mean(r[k] for r in rows), 3) if rows else None
            for k in ("recall", "precision", "precision_unfiltered")}
    return {"pages": len(rows), **mean, "rows": rows,
            "dropped": {r: {"paragraphs": n, "examples": shown[r]} for r, n in drops.most_common()}}


def bench_seeds(parser: tuple[Parse, bool], folders: list[Path]) -> list[dict[str, Any]]:
    """Metadata, kept text and drop reasons for each seed article."""
    rows = []
    for folder in folders:
        for path in sorted(folder.glob("*.txt")):
            article, dropped = parse(parser, decode_text(path.read_bytes()), path.suffix)
            rows.append({
                "file": f"{folder.name}/{path.name}", **article.meta.to_dict(),
                "paragraphs": len(article.paragraphs),
                "words": sum(len(p.split()) for p in article.paragraphs),
                "dropped": dict(Counter(reason for reason, _ in dropped)),
            })
    return rows


def _print_pages(pages: dict[str, Any]) -> None:
    """Human-readable report of the web-pages-as-text measurement."""
    print(f"Pages as text: {pages['pages']} pages; story recall {pages['recall']}, precision "
          f"{pages['precision']} (all page text: {pages['precision_unfiltered']})")
    for row in pages["rows"]:
        print(f"  {row['page']}: recall {row['recall']:.3f} precision {row['precision']:.3f}")
    for reason, info in pages["dropped"].items():
        print(f"  dropped by {reason}: {info['paragraphs']}")
        for example in info["examples"]:
            print(f"    e.g. {example}")


def _print_report(bbc: dict[str, Any] | None, seeds: list[dict[str, Any]]) -> None:
    """Human-readable report."""
    if bbc:
        print(f"BBC: {bbc['articles']} articles ({bbc['seconds']} s), titles right "
              f"{bbc['titles_right']}/{bbc['articles']}")
        print(f"  paragraphs kept {bbc['paragraphs_out']} of {bbc['paragraphs']} "
              f"(kept regrouped: {bbc.get('regrouped', 0)}); words kept {bbc['words_out']} "
              f"of {bbc['words']}")
        for reason, lost in bbc["lost"].items():
            print(f"  lost by {reason}: {lost['paragraphs']} paragraphs, {lost['words']} words")
            for example in lost["examples"]:
                print(f"    e.g. {example}")
        if not bbc["lost"]:
            print("  lost: nothing")
    for row in seeds:
        print(f"{row['file']}: title={row['title']!r} outlet={row['outlet']!r} "
              f"date={row['date']} author={row['author']!r} url={row['url']!r}")
        print(f"  {row['paragraphs']} paragraphs, {row['words']} words; dropped {row['dropped']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="qa.ingest.text", help="module or .py with parse_article")
    parser.add_argument("--bbc", type=Path, default=SHARED / "bbc")
    parser.add_argument("--pages", type=Path, default=SHARED / "html",
                        help="saved web pages to read as plain text ('' to skip)")
    parser.add_argument("--seeds", type=Path, nargs="*",
                        default=[ROOT / "data", SHARED / "seeds"])
    parser.add_argument("--examples", type=int, default=3, help="examples shown per drop reason")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    article_parser = load_parser(args.module)
    bbc = bench_bbc(article_parser, args.bbc, args.examples) if args.bbc.is_dir() else None
    if bbc is None:
        print(f"note: no BBC corpus at {args.bbc}; skipped", file=sys.stderr)
    pages = None
    if str(args.pages) not in ("", ".") and args.pages.is_dir():
        pages = bench_pages(article_parser, args.pages, args.examples)
    seeds = bench_seeds(article_parser, [f for f in args.seeds if f.is_dir()])
    if args.json:
        print(json.dumps({"module": args.module, "bbc": bbc, "pages": pages, "seeds": seeds},
                         indent=1))
    else:
        _print_report(bbc, seeds)
        if pages:
            _print_pages(pages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
