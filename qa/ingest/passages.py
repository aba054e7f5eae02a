"""Article paragraphs -> passages that fit the encoder's window.

One passage per paragraph: tiny fragments (headings, captions, one-liners) are folded into a
neighbour, and paragraphs over the token budget are split at sentence boundaries (then words,
then characters). Every passage is made of verbatim slices of the input. Stdlib only: the
token counter is injected (see :func:`token_counter`). A paged article (PDF) is packed page by
page with :func:`page_passages`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["Passage", "make_passages", "page_passages", "split_sentences", "token_counter"]

TokenCounter = Callable[[list[str]], list[int]]


@dataclass(frozen=True)
class Passage:
    """One unit of retrieval.

    Attributes:
        paragraph: 1-based number of the (first) article paragraph it comes from.
        text: The passage text (verbatim pieces of the paragraphs, joined by ' ' or '\\n').
        paragraph_end: The last paragraph when it spans several, else None.
        page: The page it starts on, for paged formats (set by the indexer), else None.
    """

    paragraph: int
    text: str
    paragraph_end: int | None = None
    page: int | None = None


def token_counter(tokenizer_file: Path) -> TokenCounter:
    """A batched counter of content word pieces (special tokens excluded) for a tokenizer.

    Args:
        tokenizer_file: The model's ``tokenizer.json``.

    Returns:
        A function mapping a list of texts to their token counts.
    """
    from tokenizers import Tokenizer  # lazy: keeps `qa --help` light

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(texts: list[str]) -> list[int]:
        if not texts:
            return []
        encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]

    return count


# --------------------------------------------------------------------------- sentences

_CANDIDATE = re.compile(r"(?:[.!?]+|…)[\"'”’»)\]]*(?=\s|$)")
_ALWAYS_CONTINUE = frozenset(
    "mr mrs ms dr prof st sr jr gen sen rep gov lt col capt sgt maj cpl adm cmdr rev hon "
    "pres supt insp mt ft messrs mme mlle no nos vol vols fig figs approx vs v cf al".split()
)
_ABBREVIATIONS = frozenset(
    "jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp bros dept est univ "
    "etc ca".split()
)
_STARTERS = frozenset(
    "the a an he she it they we i you this that these those there but and so yet in on at "
    "after before when while however meanwhile his her its their our my if as".split()
)
_NEXT_WORD = re.compile(r"\S+")


def _word_before(line: str, end: int) -> str:
    """The whitespace-delimited word ending at ``end`` (scans backwards: no rescans)."""
    start = end
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    return line[start:end]


def _is_boundary(line: str, dot_start: int, end: int) -> bool:
    """Whether the terminator at ``line[dot_start:end]`` really ends a sentence."""
    nxt = _NEXT_WORD.search(line, end)
    if nxt is None:
        return True
    next_word = nxt.group().lstrip("\"'“‘(«[")
    if next_word[:1].islower():
        return False
    if line[dot_start] != "." or line[dot_start : dot_start + 2] == "..":
        return True
    word = _word_before(line, dot_start).lstrip("\"'“‘(«[").lower()
    if word in _ALWAYS_CONTINUE:
        return False
    is_initial = len(word) == 1 and word.isalpha()
    is_initialism = "." in word and all(len(part) <= 2 for part in word.split("."))
    if is_initial or is_initialism or word in _ABBREVIATIONS:
        return next_word.lower().strip(",;:") in _STARTERS and not is_initial
    return True


def _line_sentences(line: str, offset: int) -> list[tuple[int, int]]:
    """Sentence spans within one line (no newlines), shifted by ``offset``."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CANDIDATE.finditer(line):
        if _is_boundary(line, match.start(), match.end()):
            spans.append((start, match.end()))
            start = match.end()
    spans.append((start, len(line)))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        piece = line[s:e]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            out.append((offset + s + lead, offset + s + lead + len(stripped)))
    return out


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, in order.

    The spans cover all non-space content and are never empty. Handles abbreviations
    (Mr., Dr., U.S., Jan.), decimals, initials, closing quotes after the terminator, '?'
    and '!'; a newline always ends a sentence.

    Args:
        text: Any text.

    Returns:
        ``(start, end)`` spans such that ``text[start:end]`` is one stripped sentence.
    """
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            spans.extend(_line_sentences(line, offset))
        offset += len(line) + 1
    return spans


# --------------------------------------------------------------------------- splitting

_MAX_CHUNK_CHARS = 2000  # longest word piece kept whole
_MAX_PASSAGE_CHARS = 4000  # longest passage, whatever its token count
Span = tuple[int, int, int]  # start, end, tokens


def _split_chars(text: str, start: int, end: int,
                 count: TokenCounter, max_tokens: int) -> list[Span]:
    """Cut one over-long 'word' into character chunks within the budget."""
    sample = text[start : min(end, start + 1000)]
    per_char = max(count([sample])[0], 1) / len(sample)
    size = max(1, min(_MAX_CHUNK_CHARS, int(max_tokens / per_char * 0.9)))
    pending = [(s, min(s + size, end)) for s in range(start, end, size)]
    done: list[Span] = []
    while pending:
        counts = count([text[s:e] for s, e in pending])
        retry: list[tuple[int, int]] = []
        for (s, e), c in zip(pending, counts):
            if c <= max_tokens:
                done.append((s, e, c))
            elif e - s > 1:
                mid = s + (e - s) // 2
                retry.extend([(s, mid), (mid, e)])
            # a single character over the budget cannot be kept: dropped
        pending = retry
    return sorted(done)


def _counted(text: str, spans: list[tuple[int, int]], count: TokenCounter) -> list[int | None]:
    """Token counts of the spans short enough to keep whole; None for the others."""
    short = [i for i, (s, e) in enumerate(spans) if e - s <= _MAX_CHUNK_CHARS]
    counts: list[int | None] = [None] * len(spans)
    if short:
        for i, c in zip(short, count([text[spans[i][0] : spans[i][1]] for i in short])):
            counts[i] = c
    return counts


def _split_words(text: str, start: int, end: int,
                 count: TokenCounter, max_tokens: int) -> list[Span]:
    """Word spans of an over-long sentence; over-long words are cut into characters."""
    words = [(m.start(), m.end()) for m in _NEXT_WORD.finditer(text, start, end)]
    out: list[Span] = []
    for (s, e), c in zip(words, _counted(text, words, count)):
        if c is None or c > max_tokens:
            out.extend(_split_chars(text, s, e, count, max_tokens))
        else:
            out.append((s, e, c))
    return out


def _pack(spans: list[Span], max_tokens: int) -> list[list[Span]]:
    """Greedily group consecutive spans while their summed tokens (and length) fit."""
    groups: list[list[Span]] = []
    total = 0
    for span in spans:
        fits = groups and span[1] - groups[-1][0][0] <= _MAX_PASSAGE_CHARS
        if fits and total + span[2] <= max_tokens:
            groups[-1].append(span)
            total += span[2]
        else:
            groups.append([span])
            total = span[2]
    return groups


def _verified(text: str, groups: list[list[Span]],
              count: TokenCounter, max_tokens: int) -> list[Span]:
    """Group extents with their real counts; over-budget groups are halved (for tokenizers
    whose counts are not additive). Single spans are already within budget."""
    result: list[Span] = []
    while groups:
        result.extend(g[0] for g in groups if len(g) == 1)
        groups = [g for g in groups if len(g) > 1]
        extents = [(g[0][0], g[-1][1]) for g in groups]
        counts = count([text[s:e] for s, e in extents]) if groups else []
        retry: list[list[Span]] = []
        for group, extent, c in zip(groups, extents, counts):
            if c <= max_tokens:
                result.append((*extent, c))
            else:
                half = len(group) // 2
                retry.extend([group[:half], group[half:]])
        groups = retry
    return sorted(result)


def split_long(text: str, count: TokenCounter, max_tokens: int) -> list[tuple[str, int]]:
    """Split a text over the budget at sentences, then words, then characters.

    Args:
        text: The over-long text.
        count: Batched token counter.
        max_tokens: The budget every piece must fit.

    Returns:
        ``(piece, tokens)`` for verbatim slices of ``text`` in order, each within budget.
    """
    sentences = split_sentences(text)
    spans: list[Span] = []
    for (s, e), c in zip(sentences, _counted(text, sentences, count)):
        if c is None or c > max_tokens:
            spans.extend(_split_words(text, s, e, count, max_tokens))
        else:
            spans.append((s, e, c))
    extents = _verified(text, _pack(spans, max_tokens), count, max_tokens)
    return [(text[s:e], c) for s, e, c in extents if text[s:e].strip()]


# --------------------------------------------------------------------------- folding

PACK_WORDS = 200  # neighbouring paragraphs share a passage up to this many words (bench/README.md)
_FINAL = re.compile(r"[.!?…][\"'”’»)\]]*$")
_TINY_CHARS = 200


@dataclass
class _Unit:
    """A passage under construction."""

    paragraph: int
    text: str
    tokens: int
    kind: str  # "heading", "fragment" or "body"
    joined: bool = False  # built by folding: its summed token estimate needs a real count
    last: int = 0  # the last paragraph it holds (0: the same as ``paragraph``)

    @property
    def end(self) -> int:
        return max(self.last, self.paragraph)


def _kind(text: str) -> str:
    """Classify a whole paragraph: heading (tiny, unpunctuated), fragment or body."""
    n = len(text.split())
    if len(text) > _TINY_CHARS:
        return "body"
    final = bool(_FINAL.search(text))
    if not final and n < 16:
        return "heading"
    return "fragment" if n < 8 else "body"


def _units(paragraphs: list[str], count: TokenCounter, max_tokens: int) -> list[_Unit]:
    """Whole paragraphs as units; over-budget ones split into body chunks."""
    numbered = [(i + 1, p.strip()) for i, p in enumerate(paragraphs) if p.strip()]
    fitting = [text for _, text in numbered if len(text) <= _MAX_PASSAGE_CHARS]
    counted = iter(count(fitting) if fitting else [])
    units: list[_Unit] = []
    for number, text in numbered:
        tokens = next(counted) if len(text) <= _MAX_PASSAGE_CHARS else max_tokens + 1
        if tokens <= max_tokens:
            units.append(_Unit(number, text, tokens, _kind(text)))
            continue
        for piece, piece_tokens in split_long(text, count, max_tokens):
            units.append(_Unit(number, piece, piece_tokens, "body"))
    return units


def _fold(units: list[_Unit], max_tokens: int) -> list[_Unit]:
    """Prefix headings to the following unit, append fragments to the previous one."""
    out: list[_Unit] = []
    pending: list[_Unit] = []  # headings (and leading fragments) waiting for a body
    for unit in units:
        if unit.kind == "fragment" and out and not pending:
            prev = out[-1]
            if prev.tokens + unit.tokens <= max_tokens:
                prev.text, prev.tokens = f"{prev.text} {unit.text}", prev.tokens + unit.tokens
                prev.joined, prev.last = True, unit.end
                continue
        if unit.kind == "heading" or (unit.kind == "fragment" and not out):
            pending.append(unit)
            continue
        out.extend(_attach(pending, unit, max_tokens))
        pending = []
    if pending and not out:
        out.extend(_attach(pending[:-1], pending[-1], max_tokens))
    return out


def _attach(heads: list[_Unit], unit: _Unit, max_tokens: int) -> list[_Unit]:
    """Prefix as many trailing ``heads`` to ``unit`` as fit; the rest stay separate."""
    joined = _Unit(unit.paragraph, unit.text, unit.tokens, "body", last=unit.end)
    kept = list(heads)
    while kept and joined.tokens + kept[-1].tokens <= max_tokens:
        head = kept.pop()
        joined = _Unit(head.paragraph, f"{head.text}\n{joined.text}",
                       joined.tokens + head.tokens, "body", joined=True, last=joined.end)
    separate = [_Unit(h.paragraph, h.text, h.tokens, "body") for h in kept]
    return [*separate, joined]


def _pack_neighbours(units: list[_Unit], pack_words: int, max_tokens: int,
          count_tokens: TokenCounter) -> list[_Unit]:
    """Join neighbouring paragraphs into passages of up to ``pack_words`` words.

    Wire copy writes one or two sentences a paragraph; alone, such a paragraph lacks the
    context that names who and what it is about. Each passage stays within the model window
    (checked with a real count; a pack over it is undone).
    """
    groups: list[list[_Unit]] = []
    words = 0
    for unit in units:
        n = len(unit.text.split())
        if groups and words + n <= pack_words and sum(u.tokens for u in groups[-1]) + unit.tokens <= max_tokens:
            groups[-1].append(unit)
            words += n
        else:
            groups.append([unit])
            words = n
    packed = [g for g in groups if len(g) > 1]
    counts = count_tokens(["\n".join(u.text for u in g) for g in packed]) if packed else []
    fits = {id(g): c for g, c in zip(packed, counts) if c <= max_tokens}
    out: list[_Unit] = []
    for group in groups:
        if len(group) == 1 or id(group) not in fits:
            out.extend(group)
            continue
        out.append(_Unit(group[0].paragraph, "\n".join(u.text for u in group), fits[id(group)],
                         "body", last=group[-1].end))
    return out


def make_passages(paragraphs: list[str], count_tokens: TokenCounter,
                  max_tokens: int, pack_words: int = PACK_WORDS) -> list[Passage]:
    """Turn article paragraphs into passages within the token budget.

    Args:
        paragraphs: Cleaned body paragraphs (paragraph number = index + 1).
        count_tokens: Batched counter of content word pieces (no special tokens).
        max_tokens: Usable budget per passage (model window minus special tokens).
        pack_words: Neighbouring paragraphs are joined while the passage stays within this
            many words (0: one passage per paragraph).

    Returns:
        Non-empty passages in article order, each within ``max_tokens``.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    folded = _fold(_units(paragraphs, count_tokens, max_tokens), max_tokens)
    joined = [unit for unit in folded if unit.joined]
    for unit, tokens in zip(joined, count_tokens([u.text for u in joined]) if joined else []):
        unit.tokens = tokens
    fitting: list[_Unit] = []
    for unit in folded:
        if unit.tokens <= max_tokens:
            fitting.append(unit)
        else:
            pieces = split_long(unit.text, count_tokens, max_tokens)
            fitting.extend(_Unit(unit.paragraph, piece, c, "body") for piece, c in pieces)
    if pack_words > 0:
        fitting = _pack_neighbours(fitting, pack_words, max_tokens, count_tokens)
    return [
        Passage(u.paragraph, u.text, u.end if u.end > u.paragraph else None) for u in fitting
    ]


def page_passages(paragraphs: list[str], count: TokenCounter, budget: int) -> list[Passage]:
    """One page's passages, keeping the short unpunctuated lines that end a page.

    ``make_passages`` holds such lines back as headings for the paragraph that follows; at the
    end of its input none follows and they were lost, which packing page by page made happen at
    every page end (a heading whose text is on the next page, a table's last rows). They join
    the page's last passage when it has room, else become a passage of their own.
    """
    passages = make_passages(paragraphs, count, budget)
    covered = max((p.paragraph_end or p.paragraph for p in passages), default=0)
    rest = [(n, text) for n, text in enumerate(paragraphs, start=1) if n > covered and text.strip()]
    if not rest:
        return passages
    tail = "\n".join(text.strip() for _, text in rest)
    if passages:
        last = passages[-1]
        joined = f"{last.text}\n{tail}"
        if len(joined.split()) <= PACK_WORDS and count([joined])[0] <= budget:
            passages[-1] = replace(last, text=joined, paragraph_end=rest[-1][0])
            return passages
    offset = rest[0][0] - 1
    for p in make_passages([text for _, text in rest], count, budget, pack_words=0):
        end = p.paragraph_end + offset if p.paragraph_end is not None else None
        passages.append(replace(p, paragraph=p.paragraph + offset, paragraph_end=end))
    return passages
