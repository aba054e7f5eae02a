"""Reading order of PDF text: pypdf plain vs pypdf layout vs qa's positional reader.

Generates PDFs with fpdf2 (one column; two columns written column by column; two columns
written row by row, as some generators do) and scores each extraction by word-bigram recall:
the share of the source text's adjacent word pairs that appear adjacent in the output. Column
mixing breaks bigrams at every line, so the score drops sharply when order is wrong.

    .venv/bin/python bench/pdf_eval.py
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pdf_fixtures import column_lines, paragraphs, write_report, write_two_columns  # noqa: E402

from qa.ingest.pdf import read  # noqa: E402
from qa.ingest.readers import ReadOptions  # noqa: E402


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.lower())


def bigram_recall(truth: str, got: str) -> float:
    """Share of the truth's adjacent word pairs found adjacent in ``got`` (with multiplicity)."""
    want = Counter(zip(_words(truth), _words(truth)[1:], strict=False))
    have = Counter(zip(_words(got), _words(got)[1:], strict=False))
    total = sum(want.values())
    return sum(min(n, have[pair]) for pair, n in want.items()) / total if total else 1.0


def _pypdf(mode: str) -> Callable[[Path], str]:
    def extract(path: Path) -> str:
        from pypdf import PdfReader

        return "\n".join(p.extract_text(extraction_mode=mode) for p in PdfReader(path).pages)

    return extract


def _qa(path: Path) -> str:
    return "\n".join(p for a in read(path, ReadOptions(), lambda _m: None) for p in a.paragraphs)


def _cases(folder: Path) -> list[tuple[str, Path, str]]:
    """(name, pdf, body text in reading order)."""
    out = []
    body = paragraphs(30, seed=11)
    path = folder / "one-column.pdf"
    write_report(path, body, header="Quarterly Review")
    out.append(("one column, 30 paragraphs", path, " ".join(body)))
    for interleaved in (False, True):
        left_text, right_text = paragraphs(2, seed=12, per=(5, 5))
        path = folder / f"two-columns-{interleaved}.pdf"
        write_two_columns(path, column_lines(left_text), column_lines(right_text),
                          interleaved=interleaved)
        name = "two columns, " + ("row by row" if interleaved else "column by column")
        out.append((name, path, f"{left_text} {right_text}"))
    return out


def main() -> None:
    methods = {"pypdf plain": _pypdf("plain"), "pypdf layout": _pypdf("layout"), "qa.ingest.pdf": _qa}
    with tempfile.TemporaryDirectory() as tmp:
        cases = _cases(Path(tmp))
        for extract in methods.values():  # warm up: imports and font tables
            extract(cases[0][1])
        print(f"{'case':40} " + " ".join(f"{m:>22}" for m in methods))
        for name, path, truth in cases:
            cells = []
            for extract in methods.values():
                start = time.perf_counter()
                got = extract(path)
                ms = (time.perf_counter() - start) * 1000
                cells.append(f"{bigram_recall(truth, got):6.3f} ({ms:6.1f} ms)")
            print(f"{name:40} " + " ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
