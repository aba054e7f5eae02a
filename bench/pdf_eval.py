"""PDF extraction quality and speed: qa's reader vs the raw text of pypdf, pypdfium2, pdfplumber.

Per real PDF (a folder, e.g. what bench/pdfs/get.py copies out):

- coverage: the share of the raw extractor's words (a multiset of lowercase word tokens, line-end
  hyphenation undone) that qa's paragraphs keep; what is dropped should be running headers,
  footers and page numbers only; "body" is the same against PDFium's raw text less the lines
  that repeat on 40 % of its pages and bare numbers;
- glued words per 1,000 words: tokens that are two vocabulary words joined ("inemerging"), a
  lowercase word running into a capitalised one across a full stop ("slowdown.Economic") or a
  word running into an amount ("repurchased$793"); capitalised words are taken for names
  unless a capital follows inside ("slowdownEconomic"). The vocabulary is /usr/share/dict/words
  (Debian's wamerican) plus every word seen twice in the BBC corpus (news words such as
  "healthcare" that the dictionary lacks);
- phrase recall (reading order): of the labelled answer phrases in bench/pdfs/questions.jsonl,
  the share found verbatim (whitespace-normalised) on the labelled page; a phrase spans several
  words and lines, so interleaved columns or a glued word lose it;
- seconds to read the file.

The synthetic reading-order cases (fpdf2: one column; two columns written column by column or
row by row) are kept: word-bigram recall against the text that was placed.

    .venv/bin/python bench/pdf_eval.py --folder /tmp/pdfs --questions bench/pdfs/questions.jsonl \
        [--baseline /work/main/qa/ingest/pdf.py]   # adds "before": another copy of the reader
    .venv/bin/python bench/pdf_eval.py --speed /tmp/pdfs/speed/irs-irm-100p.pdf \
        --baseline /work/main/qa/ingest/pdf.py
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from qa.ingest.pdf import read  # noqa: E402
from qa.ingest.readers import ReadOptions  # noqa: E402

DICT = Path("/usr/share/dict/words")
BBC = ROOT.parent / "shared" / "corpora" / "bbc"
_SHORT = {"a", "i", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it",
          "me", "my", "no", "of", "on", "or", "so", "to", "up", "us", "we"}

Pages = list[str]  # the text of each page


# --------------------------------------------------------------------------- extractors


def pypdf_pages(path: Path) -> Pages:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(path).pages]


def pdfium_pages(path: Path) -> Pages:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def plumber_pages(path: Path) -> Pages:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


def qa_pages(path: Path, reader: Callable = read) -> Pages:
    """qa's paragraphs, grouped by the page each starts on."""
    article = next(iter(reader(path, ReadOptions(), lambda _m: None)))
    pages: dict[int, list[str]] = {}
    for page, text in zip(article.pages or [], article.paragraphs, strict=True):
        pages.setdefault(page, []).append(text)
    if article.meta.title:
        pages.setdefault(1, []).insert(0, article.meta.title)
    last = max(pages, default=0)
    return ["\n".join(pages.get(n, [])) for n in range(1, last + 1)]


RAW = {"pypdf": pypdf_pages, "pypdfium2": pdfium_pages, "pdfplumber": plumber_pages}


# --------------------------------------------------------------------------- measures


def words(text: str) -> list[str]:
    text = re.sub(r"(\w)[-\u00ad\x02]\s*\n\s*(\w)", r"\1\2", text)  # line-end hyphenation
    return re.findall(r"[^\W_]+", text.lower())


def body(pages: Pages) -> str:
    """The raw text less its furniture: lines repeated (digits aside) on 40 % of the pages
    (3 at least), and bare numbers. Computed on the raw text, independently of qa's reader."""
    def key(line: str) -> str:
        return " ".join(re.sub(r"\d+", "#", line.lower()).split())

    seen = Counter(k for page in pages for k in {key(x) for x in page.splitlines()})
    need = max(3, 0.4 * len(pages))
    return "\n".join(
        x for page in pages for x in page.splitlines()
        if seen[key(x)] < need and not re.fullmatch(r"[\s\W\d]*", x)
    )


def coverage(raw: str, got: str) -> float:
    want, have = Counter(words(raw)), Counter(words(got))
    total = sum(want.values())
    return sum(min(n, have[w]) for w, n in want.items()) / total if total else 1.0


def vocabulary() -> set[str]:
    vocab = {w.strip().lower() for w in DICT.read_text(encoding="utf-8").split()} if DICT.exists() else set()
    seen: Counter[str] = Counter()
    for file in BBC.rglob("*.txt"):
        seen.update(re.findall(r"[a-z]+", file.read_text(encoding="utf-8", errors="replace").lower()))
    vocab |= {w for w, n in seen.items() if n >= 2}
    return {w for w in vocab if len(w) > 2 or w in _SHORT}


_SENTENCE_GLUE = re.compile(r"[a-z]{2,}[.;:!?][A-Z][a-z]{2,}")
_AMOUNT_GLUE = re.compile(r"[A-Za-z]{3,}[$€£]\d")


def glued(text: str, vocab: set[str]) -> list[str]:
    """The glued tokens of ``text`` (see the module docstring).

    A word written the same way three times or more in the document is taken for a word of
    its field ("flightcrew", "cybersecurity"), not for an accident of extraction.
    """
    out = []
    common = {w for w, n in Counter(re.findall(r"[a-z]+", text.lower())).items() if n >= 3}
    for token in text.split():
        if "@" in token or "/" in token or "www" in token.lower():
            continue
        core = token.strip("\"'“”‘’()[],;:.!?*")
        if _SENTENCE_GLUE.search(core) or _AMOUNT_GLUE.search(core):
            out.append(core)
            continue
        if core[:1].isupper() and not any(c.isupper() for c in core[1:]):
            continue  # a name ("Westmead") rather than two words run together
        camel = re.fullmatch(r"([a-z]{2,})([A-Z][a-z]{2,})", core)
        if camel and camel.group(1) in vocab and camel.group(2).lower() in vocab:
            out.append(core)
            continue
        low = core.lower()
        if not low.isalpha() or not core.islower() or len(low) < 5 or low in vocab or low in common or _inflected(low, vocab):
            continue
        if any(low[:i] in vocab and low[i:] in vocab for i in range(1, len(low))):
            out.append(core)
    return out


def _inflected(word: str, vocab: set[str]) -> bool:
    for suffix, repl in (("s", ""), ("es", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"),
                         ("ly", ""), ("er", ""), ("ers", ""), ("ies", "y"), ("ied", "y")):
        if word.endswith(suffix) and word[: -len(suffix)] + repl in vocab:
            return True
    return False


def _norm(text: str) -> str:
    text = re.sub(r"(\w)[-\u00ad\x02]\s*\n\s*(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def phrase_recall(pages: Pages, labels: list[dict]) -> tuple[int, int]:
    found = 0
    for label in labels:
        page = label.get("page")
        text = _norm(pages[page - 1]) if page and page <= len(pages) else ""
        found += any(_norm(p) in text for p in label["any"])
    return found, len(labels)


# --------------------------------------------------------------------------- runs


def real_pdfs(folder: Path, questions: Path | None, baseline: Path | None = None) -> None:
    vocab = vocabulary()
    labels = [json.loads(x) for x in questions.read_text().splitlines() if x.strip()] if questions else []
    extractors: list[tuple[str, Callable]] = [("qa", qa_pages)]
    if baseline is not None:
        old = load_baseline(baseline)
        extractors.append(("before", lambda p: qa_pages(p, old)))
    extractors += list(RAW.items())
    names = [n for n, _ in extractors]
    print(f"vocabulary: {len(vocab):,} words")
    print(f"{'file':34} {'pages':>5} {'words':>6}  coverage of raw (pypdf/pdfium/plumber/pdfium body[/before: pypdf/body])  "
          f"glued/1000 ({'/'.join(names)})  phrases ({'/'.join(names)})  seconds")
    totals: dict[str, list[float]] = {n: [0, 0, 0, 0, 0.0] for n in names}  # glued, words, found, n, s
    for path in sorted(folder.glob("*.pdf")):
        texts: dict[str, Pages | None] = {}
        secs: dict[str, float] = {}
        for name, extract in extractors:
            start = time.perf_counter()
            try:
                texts[name] = extract(path)
            except Exception as exc:  # an extractor that fails on a real file is a result too
                print(f"  {name} failed on {path.name}: {type(exc).__name__}: {str(exc)[:80]}")
                texts[name] = None
            secs[name] = time.perf_counter() - start
        qa_text = "\n".join(texts["qa"] or [])
        cov = [coverage("\n".join(texts[n]), qa_text) if texts[n] is not None else float("nan")
               for n in RAW]
        cov.append(coverage(body(texts["pypdfium2"]), qa_text))
        if "before" in texts and texts["before"] is not None:
            before = "\n".join(texts["before"])
            cov += [coverage("\n".join(texts["pypdf"]), before), coverage(body(texts["pypdfium2"]), before)]
        mine = [lb for lb in labels if path.name.endswith(lb["path"])]
        cells_g, cells_p = [], []
        for name in names:
            pages = texts[name]
            if pages is None:
                cells_g.append("  -  ")
                cells_p.append("-")
                continue
            text = "\n".join(pages)
            g, n = len(glued(text, vocab)), max(len(text.split()), 1)
            found, count = phrase_recall(pages, mine)
            for i, v in enumerate((g, n, found, count, secs[name])):
                totals[name][i] += v
            cells_g.append(f"{1000 * g / n:5.2f}")
            cells_p.append(f"{found}/{count}")
        pages_n = len(texts["pypdfium2"] or texts["pypdf"] or [])
        print(f"{path.name:34} {pages_n:5} {len(qa_text.split()):6}  "
              + " / ".join(f"{c:.3f}" for c in cov).ljust(60)
              + " " + " ".join(cells_g).ljust(34) + " " + " ".join(cells_p).ljust(22)
              + " " + " ".join(f"{secs[n]:.2f}" for n in names))
    print("all files: glued/1000 " + ", ".join(
        f"{n} {1000 * t[0] / max(t[1], 1):.2f}" for n, t in totals.items())
        + "; phrases " + ", ".join(f"{n} {int(t[2])}/{int(t[3])}" for n, t in totals.items())
        + "; seconds " + ", ".join(f"{n} {t[4]:.1f}" for n, t in totals.items()))
    if "--show-glued" in sys.argv:
        for path in sorted(folder.glob("*.pdf")):
            print(path.name, glued("\n".join(qa_pages(path)), vocab)[:40])


def load_baseline(path: Path) -> Callable:
    """The ``read`` of another copy of qa/ingest/pdf.py (e.g. main's, before this change)."""
    spec = importlib.util.spec_from_file_location("baseline_pdf", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_pdf"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.read


def speed(path: Path, baseline: Path | None, runs: int = 3) -> None:
    readers: dict[str, Callable] = {"qa (this tree)": read}
    if baseline is not None:
        readers["baseline " + str(baseline)] = load_baseline(baseline)
    readers.update({f"raw {n}": (lambda f: (lambda p, *_a: f(p)))(f) for n, f in RAW.items()})
    for name, reader in readers.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            out = reader(path, ReadOptions(), lambda _m: None)
            if not isinstance(out, list):
                out = list(out)
            times.append(time.perf_counter() - start)
        print(f"{name:60} median {statistics.median(times):6.2f} s of {runs} "
              f"({', '.join(f'{t:.2f}' for t in times)})")


def bigram_recall(truth: str, got: str) -> float:
    """Share of the truth's adjacent word pairs found adjacent in ``got`` (with multiplicity)."""
    want = Counter(zip(words(truth), words(truth)[1:], strict=False))
    have = Counter(zip(words(got), words(got)[1:], strict=False))
    total = sum(want.values())
    return sum(min(n, have[pair]) for pair, n in want.items()) / total if total else 1.0


def synthetic() -> None:
    from pdf_fixtures import column_lines, paragraphs, write_report, write_two_columns

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = []
        body = paragraphs(30, seed=11)
        path = folder / "one-column.pdf"
        write_report(path, body, header="Quarterly Review")
        cases.append(("one column, 30 paragraphs", path, " ".join(body)))
        for interleaved in (False, True):
            left_text, right_text = paragraphs(2, seed=12, per=(5, 5))
            path = folder / f"two-columns-{interleaved}.pdf"
            write_two_columns(path, column_lines(left_text), column_lines(right_text),
                              interleaved=interleaved)
            name = "two columns, " + ("row by row" if interleaved else "column by column")
            cases.append((name, path, f"{left_text} {right_text}"))
        methods = {"qa": qa_pages, **RAW}
        print(f"{'synthetic case':34} " + " ".join(f"{m:>11}" for m in methods))
        for name, path, truth in cases:
            print(f"{name:34} " + " ".join(
                f"{bigram_recall(truth, chr(10).join(m(path))):11.3f}" for m in methods.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--speed", type=Path)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--show-glued", action="store_true")
    args = parser.parse_args()
    if args.folder:
        real_pdfs(args.folder, args.questions, args.baseline)
    if args.speed:
        speed(args.speed, args.baseline)
    if not args.folder and not args.speed:
        synthetic()


if __name__ == "__main__":
    main()
