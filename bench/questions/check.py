"""Checks the hand-written question sets in this folder and prints a summary.

    python bench/questions/check.py            # from the repository root (or anywhere)

Checks: every line parses as JSON; required keys and no unknown ones; split in {dev, test};
the path resolves (seeds under the repository root, BBC under ../shared/corpora); every phrase
of "any" occurs in the file, exactly once, within one line (= one paragraph: the seed and BBC
files keep each paragraph on one line); all phrases of a question come from the same paragraph;
all questions about one BBC article share a split; unrelated.jsonl has only question + split.
Reports the word overlap between each question and its answering paragraph (share of the
question's content words that occur in that paragraph, after crude stemming), per file.
Exits 1 if any check fails.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared" / "corpora"

STOP = set("""a an the and or but if of to in on at by for with from as is are was were be been
being am do does did doing have has had having what which who whom whose when where why how that
this these those there here it its it's he she they them their his her him we us our you your i me
my not no nor so than too very can could will would shall should may might must about into over
after before during up down out off again further then once any all both each few more most other
some such only own same just also did does according say said says tell told get got s t""".split())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:['’][a-z]+)?", text.lower())


def stem(w: str) -> str:
    w = re.sub(r"['’]s$", "", w)
    for suf in ("ingly", "edly", "ing", "ies", "ied", "es", "ed", "ly", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[: -len(suf)]
    return w


def content(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOP and len(w) > 1]


def overlap(question: str, paragraph: str) -> float | None:
    q = content(question)
    if not q:
        return None
    p = set(content(paragraph))
    return sum(1 for w in q if w in p) / len(q)


def resolve(path: str, kind: str) -> Path:
    if kind == "seeds":
        return REPO / path
    return SHARED / path


_BBC_TEXTS: dict[str, str] | None = None


def bbc_texts() -> dict[str, str]:
    """Every BBC article, to catch answers that are duplicated in another file of the corpus
    (the BBC corpus has near-identical copies of some stories; `qa` shows a paragraph that
    occurs in two files once, under one of them, so such a label could never be matched)."""
    global _BBC_TEXTS
    if _BBC_TEXTS is None:
        _BBC_TEXTS = {
            str(p.relative_to(SHARED)): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted((SHARED / "bbc").glob("*/*.txt"))
        }
    return _BBC_TEXTS


def check_labelled(name: str, errors: list[str]) -> tuple[list[dict], list[float]]:
    rows, overlaps = [], []
    split_of_article: dict[str, set[str]] = defaultdict(set)
    kind = "seeds" if name == "seeds.jsonl" else "bbc"
    for n, line in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), 1):
        where = f"{name}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: not JSON ({e})")
            continue
        keys = set(row)
        if keys - {"answer"} != {"question", "path", "any", "split"}:
            errors.append(f"{where}: keys {sorted(keys)}")
            continue
        q, path, phrases, split = row["question"], row["path"], row["any"], row["split"]
        if split not in {"dev", "test"}:
            errors.append(f"{where}: split {split!r}")
        if not isinstance(q, str) or not q.strip():
            errors.append(f"{where}: empty question")
        if not isinstance(phrases, list) or not 1 <= len(phrases) <= 3:
            errors.append(f"{where}: 'any' must be a list of 1-3 phrases")
            continue
        if kind == "bbc" and not re.fullmatch(r"bbc/(business|entertainment|politics|sport|tech)/\d{3}\.txt", path):
            errors.append(f"{where}: bbc path {path!r}")
        if kind == "seeds" and not path.startswith("data/"):
            errors.append(f"{where}: seed path {path!r}")
        file = resolve(path, kind)
        if not file.is_file():
            errors.append(f"{where}: {file} not found")
            continue
        text = file.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        para_lines = set()
        for ph in phrases:
            if "\n" in ph:
                errors.append(f"{where}: phrase has a line break: {ph!r}")
            count = text.count(ph)
            if count == 0:
                errors.append(f"{where}: phrase not in file: {ph!r}")
                continue
            if count > 1:
                errors.append(f"{where}: phrase occurs {count} times: {ph!r}")
            nw = len(ph.split())
            if not 3 <= nw <= 8:
                errors.append(f"{where}: phrase of {nw} words: {ph!r}")
            para_lines |= {i for i, ln in enumerate(lines) if ph in ln}
        if len(para_lines) > 1:
            errors.append(f"{where}: phrases come from different paragraphs {sorted(para_lines)}")
        if "answer" in row:
            check_answer(where, row["answer"], lines, errors)
        if para_lines and kind == "bbc":
            paragraph = lines[min(para_lines)]
            for other, other_text in bbc_texts().items():
                if other == path:
                    continue
                if paragraph in other_text:
                    errors.append(f"{where}: answering paragraph also in {other}")
                elif any(ph in other_text for ph in phrases):
                    notes.append(f"{where}: a phrase also occurs in {other} (different paragraph)")
        if para_lines:
            paragraph = lines[min(para_lines)]
            ov = overlap(q, paragraph)
            if ov is not None:
                overlaps.append(ov)
                row["_overlap"] = ov
            # BBC files: line 0 headline, line 2 the lead (first body) paragraph
            row["_lead"] = kind == "bbc" and min(para_lines) == 2
        split_of_article[path].add(split)
        rows.append(row)
    if kind == "bbc":
        for path, splits in split_of_article.items():
            if len(splits) > 1:
                errors.append(f"{name}: article {path} has questions in both splits")
        for path in split_of_article:
            if all(r.get("_lead") for r in rows if r["path"] == path):
                errors.append(f"{name}: article {path} has no question beyond the lead paragraph")
    return rows, overlaps


def check_answer(where: str, answer: object, lines: list[str], errors: list[str]) -> None:
    """'answer': 1-4 phrases, each once in the file and inside one sentence (a second phrase may
    name another sentence that answers the question as well)."""
    from qa.ingest.passages import split_sentences

    if not isinstance(answer, list) or not 1 <= len(answer) <= 4:
        errors.append(f"{where}: 'answer' must be a list of 1-4 phrases")
        return
    sentences = [ln[a:b] for ln in lines for a, b in split_sentences(ln)]
    for ph in answer:
        count = sum(ln.count(ph) for ln in lines) if isinstance(ph, str) else 0
        if count != 1:
            errors.append(f"{where}: answer phrase occurs {count} times: {ph!r}")
        elif not any(ph in sentence for sentence in sentences):
            errors.append(f"{where}: answer phrase spans two sentences: {ph!r}")


def check_unrelated(errors: list[str]) -> list[dict]:
    rows = []
    seen = Counter()
    for n, line in enumerate((HERE / "unrelated.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        where = f"unrelated.jsonl:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: not JSON ({e})")
            continue
        if set(row) != {"question", "split"}:
            errors.append(f"{where}: keys {sorted(row)}")
            continue
        if row["split"] not in {"dev", "test"}:
            errors.append(f"{where}: split {row['split']!r}")
        seen[row["question"].strip().lower()] += 1
        rows.append(row)
    for q, c in seen.items():
        if c > 1:
            errors.append(f"unrelated.jsonl: duplicate question {q!r}")
    return rows


notes: list[str] = []


def main() -> int:
    errors: list[str] = []
    print(f"{'file':<18}{'questions':>10}{'dev':>6}{'test':>6}{'articles':>10}{'overlap':>9}")
    all_ov = []
    for name in ("seeds.jsonl", "bbc.jsonl"):
        rows, ovs = check_labelled(name, errors)
        all_ov += ovs
        splits = Counter(r["split"] for r in rows)
        arts = len({r["path"] for r in rows})
        print(f"{name:<18}{len(rows):>10}{splits['dev']:>6}{splits['test']:>6}{arts:>10}"
              f"{mean(ovs) if ovs else float('nan'):>9.3f}")
        if name == "bbc.jsonl":
            topics = Counter(r["path"].split("/")[1] for r in rows)
            print("  bbc questions per topic:", dict(sorted(topics.items())))
            per_topic_articles = Counter(p.split("/")[1] for p in {r["path"] for r in rows})
            print("  bbc articles per topic:", dict(sorted(per_topic_articles.items())))
            art_split = Counter(s for p, s in {(r["path"], r["split"]) for r in rows})
            print("  bbc articles per split:", dict(sorted(art_split.items())))
        if name == "bbc.jsonl":
            lead = sum(1 for r in rows if r.get("_lead"))
            print(f"  answer in the lead paragraph: {lead}/{len(rows)}")
        print(f"  questions with overlap >= 0.75: {sum(1 for o in ovs if o >= 0.75)}/{len(ovs)}")
    un = check_unrelated(errors)
    splits = Counter(r["split"] for r in un)
    print(f"{'unrelated.jsonl':<18}{len(un):>10}{splits['dev']:>6}{splits['test']:>6}")
    print(f"mean question/paragraph content-word overlap (seeds + bbc): {mean(all_ov):.3f}")
    if notes:
        print(f"\n{len(notes)} note(s), not errors:")
        for n in notes:
            print("  " + n)
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
