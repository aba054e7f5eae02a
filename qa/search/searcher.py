"""Search: dense (FAISS), lexical (FTS5 BM25) and hybrid (reciprocal rank fusion) -> Hits."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from qa.search import answer as answers
from qa.search.modes import Fusion, Mode
from qa.errors import BadInputError, IndexError_
from qa.ingest.files import display_path
from qa.search.fusion import convex_fusion, reciprocal_rank_fusion
from qa.embed.model import resolve_model
from qa.index.store import ArticleRow, PassageRow, Store
from qa.backends import open_search_backend
from qa.backends.base import Scope
from qa.search.filters import Filters
from qa.search.relevance import features as relevance_features
from qa.search.relevance import model as relevance_model
from qa.search.relevance import question_signals, term_coverage
from qa.search.results import Answer, Copy, Hit, HitSource, publication_order
from qa.search.terms import content_terms, stems_of
from qa.quotes.lookup import QuoteLookup, speaker_of
from qa.quotes.question import speaker_question
from qa.index.shingles import NEAR_IDENTICAL, shingle_hashes

if TYPE_CHECKING:
    from qa.embed.query_encoder import QueryEncoder

# Chosen on the dev questions and SciFact (bench/README.md): convex fusion of min-max normalised
# scores, 100 candidates a side; the dense side adds the best sentence's cosine.
CANDIDATES = 100  # how deep each side of a hybrid search looks
DENSE_WEIGHT = 0.6
SENTENCE_WEIGHT = 1.0
MAX_QUERY_TERMS = 64
POSTINGS_BUDGET = 50_000  # matching rows BM25 may score per question (large archives)
SPEAKER_DEPTH = 10  # "what did X say": X's passages among this many best move first


class Searcher:
    """An open index ready for questions; load once, ask many times."""

    def __init__(
        self, index_dir: Path, model: str | None, notice: Callable[[str], None]
    ) -> None:
        self.store = Store.open(index_dir)
        self.notice = notice
        meta = self.store.meta()
        built_with = meta.get("model")
        if not built_with or "dimension" not in meta:
            raise IndexError_(f"the index in {index_dir}/ is empty", "Run `qa index PATH` first")
        if model is not None and resolve_model(model).name != built_with:
            raise IndexError_(
                f"the index in {index_dir}/ was built with model {built_with}, not {model}",
                f"Drop --model, or rebuild with `qa index --rebuild --model {model}`",
            )
        self.model = built_with
        self.dim = int(meta["dimension"])
        self._encoder: QueryEncoder | None = None
        try:  # the engine that searches (qa.backends): FTS5 + FAISS, or Milvus
            self.backend = open_search_backend(self.store, self.dim, notice)
        except BaseException:
            self.store.close()
            raise
        # per generation: (generation, passages, document frequency of each term asked about)
        self._df: tuple[int, int, dict[str, int]] = (-1, 0, {})
        self.quotes = QuoteLookup(self.store)  # who said what (qa/quotes/)

    def close(self) -> None:
        self.backend.close()
        self.store.close()

    @property
    def encoder(self) -> QueryEncoder:
        if self._encoder is None:
            from qa.embed.query_encoder import load_query_encoder

            self._encoder = load_query_encoder(
                self.store.layout.encoder_dir, resolve_model(self.model)
            )
        return self._encoder

    def ask(
        self,
        question: str,
        k: int = 5,
        mode: Mode = Mode.HYBRID,
        fusion: Fusion = Fusion.CONVEX,
        filters: Filters | None = None,
        collapse: bool = True,
        min_relevance: float | None = None,
        query_vector: np.ndarray | None = None,
    ) -> Answer:
        """The ``k`` best passages for ``question`` within ``filters``, best first.

        With ``collapse``, copies of one passage (the same text, or a near-duplicate found at
        indexing: wire copy republished elsewhere) are one hit whose ``also_in`` names the
        other copies; ``k`` distinct hits are still returned when the index has them. Hits
        under ``min_relevance`` are dropped. ``query_vector``: the question already encoded
        (a server batching the questions that arrive together).

        Raises:
            BadInputError: an empty question, or an unknown mode or fusion.
        """
        question = question.strip()
        if not question:
            raise BadInputError("the question is empty", 'Ask something, e.g. qa ask "who won?"')
        mode, fusion = _choice(Mode, mode), _choice(Fusion, fusion)
        filters = filters or Filters()
        if query_vector is None:
            query_vector = self.encoder.encode([question])[0]
        self.backend.begin()  # one snapshot for the whole search
        try:
            allowed = self.backend.scope(filters)
            if allowed is not None and len(allowed) == 0:
                return Answer(question, [], True, filters.given, self._excluder(filters))
            ranked = self._rank(question, query_vector, mode, fusion, k, filters, allowed)
            ranked, asked = self._speaker_first(question, ranked, allowed)
            picked, shadowed = self._pick(ranked, k, collapse)
            said = self.quotes.of_passages([row.id for _, row in picked])
            copies = self._copies(picked, shadowed) if collapse else {}
            cosines = self._cosines(query_vector, [row.id for _, row in picked])
            terms = content_terms(question)
            signals = question_signals(question, terms, self.backend.mentions)
        finally:
            self.backend.end()
        hits, no_match = _hits(question, picked, copies, cosines, signals, query_vector, terms,
                               said, asked)
        if min_relevance is not None:
            hits = [replace(h, rank=i) for i, h in enumerate(
                (h for h in hits if h.relevance >= min_relevance), start=1
            )]
        return Answer(question, hits, no_match, filters.given)

    def sources(self, filters: Filters | None = None) -> list[ArticleRow]:
        """The indexed articles within ``filters``."""
        where, args = (filters or Filters()).where()
        return self.store.articles(where, args)

    def show(self, ref: str) -> tuple[ArticleRow, list[PassageRow]]:
        """An indexed article by reference (``path`` or ``path#record``), with its passages.

        Raises:
            BadInputError: nothing in the index has that reference.
        """
        return article_by_ref(self.store, ref)

    def _cosines(self, query_vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of each passage to the question (for relevance; fused scores are relative)."""
        if not ids:
            return {}
        vectors = self.backend.vectors(np.asarray(ids, dtype=np.int64))
        return dict(zip(ids, (vectors @ query_vector.astype(np.float32)).tolist()))

    def _excluder(self, filters: Filters) -> str:
        """Which filter leaves nothing in scope: the first that matches nothing on its own,
        else the combination."""
        for key, value in filters.given.items():
            alone = Filters.from_mapping({key: value, **({"undated": True} if key == "undated" else {})})
            scope = self.backend.scope(alone) if key != "undated" else None
            if scope is not None and len(scope) == 0:
                return alone.describe()
        return filters.describe()

    def _rank(
        self, question: str, query_vector: np.ndarray, mode: Mode, fusion: Fusion, k: int,
        filters: Filters, allowed: Scope | None,
    ) -> list[tuple[int, float]]:
        depth = max(CANDIDATES, 2 * k)
        dense = self.backend.dense(query_vector, depth, allowed) if mode != "lexical" else []
        lexical = self._lexical(question, depth, allowed) if mode != "dense" else []
        if mode == "lexical":
            ranked = lexical
        elif mode == "dense":
            ranked = self._dense_evidence(query_vector, dict(dense), [])
        elif fusion == "rrf":
            ranked = reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in lexical]])
        else:
            evidence = self._dense_evidence(query_vector, dict(dense), [i for i, _ in lexical])
            bm25 = dict(lexical)  # every candidate scored on both sides: unmatched BM25 is 0
            ranked = convex_fusion(
                [evidence, [(pid, bm25.get(pid, 0.0)) for pid, _ in evidence]],
                [DENSE_WEIGHT, 1 - DENSE_WEIGHT],
            )
        return ranked

    def _speaker_first(
        self, question: str, ranked: list[tuple[int, float]], allowed: Scope | None,
    ) -> tuple[list[tuple[int, float]], tuple[set[str], str] | None]:
        """'What did Peskov say about tanks': of the best-ranked passages, those holding the
        asked speaker's quotes come first (qa/quotes/question.py says who is asked and about
        what). Returns the ranking and (the asked speakers, the topic) or None."""
        asked = speaker_question(question, self.quotes.speakers())
        if asked is None:
            return ranked, None
        names, topic = asked
        theirs = set(self.quotes.passages_by(names))
        first = [(pid, s) for pid, s in ranked[:SPEAKER_DEPTH] if pid in theirs]
        moved = {pid for pid, _ in first}
        return first + [(pid, s) for pid, s in ranked if pid not in moved], (set(names), topic)

    def rank_within(
        self, text: str, ids: list[int], depth: int, query_vector: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[tuple[int, float]]]:
        """Hybrid ranking of ``text`` over these passages only (`qa quotes --about`)."""
        if query_vector is None:
            query_vector = self.encoder.encode([text])[0]
        self.backend.begin()
        try:
            ranked = self._rank(text, query_vector, Mode.HYBRID, Fusion.CONVEX, depth, Filters(),
                                self.backend.id_scope(ids))
        finally:
            self.backend.end()
        return query_vector, ranked

    def sentence_cosines(
        self, query_vector: np.ndarray, ids: list[int]
    ) -> dict[int, dict[tuple[int, int], float]]:
        """passage id -> {sentence span: cosine to the query}."""
        out: dict[int, dict[tuple[int, int], float]] = {}
        for pid, row in self.store.passages(ids).items():
            spans = np.frombuffer(row.spans, dtype=np.int32).reshape(-1, 2)
            cosines = row.sentence_vectors @ query_vector.astype(np.float32)
            out[pid] = {(int(a), int(b)): float(c) for (a, b), c in zip(spans, cosines)}
        return out

    def _pick(
        self, ranked: list[tuple[int, float]], k: int, collapse: bool
    ) -> tuple[list[tuple[float, PassageRow]], dict[int, list[PassageRow]]]:
        """The first ``k`` ranked passages, one per story when collapsing.

        Collapsing passes over a passage in the duplicate group of one already picked, with
        its text, or sharing :data:`NEAR_IDENTICAL` of the smaller one's 4-word shingles with
        it (the last safeguard: copies the index did not link). Returns the picked passages
        and, by picked passage id, the passages passed over for it.
        """
        picked: list[tuple[float, PassageRow]] = []
        shadowed: dict[int, list[PassageRow]] = {}
        seen: dict[object, int] = {}
        postings: dict[int, list[int]] = {}  # shingle -> picked passages holding it
        sizes: dict[int, int] = {}
        window = 2 * k
        for start in range(0, len(ranked), window):
            chunk = ranked[start : start + window]
            rows = self.backend.passages(pid for pid, _ in chunk)
            for pid, score in chunk:
                row = rows.get(pid)
                if row is None:
                    continue
                if collapse:
                    keys = (("group", row.group), ("text", row.text))
                    hashes = shingle_hashes(row.text).tolist()
                    owner = next((seen[key] for key in keys if key in seen), None)
                    if owner is None:
                        owner = _near_identical(hashes, postings, sizes)
                    if owner is not None:
                        shadowed.setdefault(owner, []).append(row)
                        continue
                    seen.update((key, row.id) for key in keys)
                    sizes[row.id] = len(hashes)
                    for h in hashes:
                        postings.setdefault(h, []).append(row.id)
                picked.append((score, row))
                if len(picked) == k:
                    return picked, shadowed
        return picked, shadowed

    def _copies(
        self, picked: list[tuple[float, PassageRow]], shadowed: dict[int, list[PassageRow]]
    ) -> dict[int, list[tuple[int, int, ArticleRow]]]:
        """Each picked passage's copies in other articles, by its group: one per article,
        earliest published first (its group, the links found at indexing, those passed over)."""
        ids = [row.id for _, row in picked]
        groups = self.backend.copies([row.group for _, row in picked])
        links = self.store.copy_links(ids)
        found: dict[int, list[tuple[int, int, ArticleRow]]] = {}
        for _, row in picked:
            every = groups.get(row.group, []) + links.get(row.id, []) + [
                (r.id, r.paragraph, r.article) for r in shadowed.get(row.id, [])
            ]
            one: dict[int, tuple[int, int, ArticleRow]] = {}
            for copy in every:
                if copy[2].id != row.article.id:
                    one.setdefault(copy[2].id, copy)
            found[row.group] = sorted(
                one.values(),
                key=lambda c: publication_order(c[2].meta, display_path(c[2].path), c[2].record),
            )
        return found

    def _dense_evidence(
        self, query_vector: np.ndarray, dense: dict[int, float], others: list[int]
    ) -> list[tuple[int, float]]:
        """Dense score of every candidate: the passage's cosine plus its best sentence's.

        A packed passage covers several paragraphs; the question is usually answered by one
        sentence, whose own vector (late-chunked at indexing) says so more sharply than the
        passage's mean. Candidates found only by BM25 get their exact cosine from SQLite.
        """
        missing = [i for i in dict.fromkeys(others) if i not in dense]
        if missing:
            vectors = self.backend.vectors(np.asarray(missing, dtype=np.int64))
            dense = {**dense, **dict(zip(missing, (vectors @ query_vector).tolist()))}
        ids = list(dense)
        sentences = self.backend.sentence_vectors(ids)
        parts = [sentences[pid] for pid in ids if pid in sentences]
        counts = np.array([len(sentences[pid]) if pid in sentences else 0 for pid in ids])
        best = np.zeros(len(ids), dtype=np.float32)
        if counts.sum():  # one matrix product for every sentence of every candidate
            cosines = np.concatenate(parts) @ query_vector.astype(np.float32)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            has = counts > 0
            best[has] = np.maximum.reduceat(cosines, starts[has])
        scores = np.array([dense[pid] for pid in ids], dtype=np.float32) + SENTENCE_WEIGHT * best
        order = np.argsort(-scores, kind="stable")
        return [(ids[i], float(scores[i])) for i in order]

    def _lexical(
        self, question: str, depth: int, allowed: Scope | None
    ) -> list[tuple[int, float]]:
        terms = self._affordable(content_terms(question)[:MAX_QUERY_TERMS])
        return self.backend.lexical(terms, depth, allowed) if terms else []

    def _affordable(self, terms: list[str]) -> list[str]:
        """The question's terms, rarest first, while their postings fit :data:`POSTINGS_BUDGET`.

        FTS5 scores every passage matching any term before it can sort; on a large archive a
        common word ("said", "government") matches hundreds of thousands. Such a word carries
        little BM25 weight (low IDF), so it is left out once the rarer words already cost the
        budget; the two rarest always stay. Archives under the budget are unaffected.
        """
        if len(terms) <= 2:
            return terms
        generation = self.backend.generation
        if self._df[0] != generation:  # counting 1M passages costs more than the question
            self._df = (generation, self.backend.counts()[1], {})
        _, passages, cache = self._df
        if passages <= POSTINGS_BUDGET:
            return terms
        for term in terms:
            if term not in cache:
                cache[term] = self.backend.document_frequency(term)
        kept, total = [], 0
        for term in sorted(terms, key=lambda t: cache[t]):
            if len(kept) >= 2 and total + cache[term] > POSTINGS_BUDGET:
                break
            kept.append(term)
            total += cache[term]
        return kept


def _near_identical(
    hashes: list[int], postings: dict[int, list[int]], sizes: dict[int, int]
) -> int | None:
    """The picked passage sharing most of a text's shingles, if that is :data:`NEAR_IDENTICAL`
    of the smaller one's."""
    shared: dict[int, int] = {}
    for h in hashes:
        for pid in postings.get(h, ()):
            shared[pid] = shared.get(pid, 0) + 1
    ratios = {pid: n / max(min(len(hashes), sizes[pid]), 1) for pid, n in shared.items()}
    best = max(ratios, key=ratios.__getitem__, default=None)
    return best if best is not None and ratios[best] >= NEAR_IDENTICAL else None


def _choice(kind: type[StrEnum], value: object) -> StrEnum:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise BadInputError(f"unknown {kind.__name__.lower()} {value!r}", f"Use one of: {choices}") from None


def article_by_ref(store: Store, ref: str) -> tuple[ArticleRow, list[PassageRow]]:
    """The article a reference names (``path`` or ``path#record``), with its passages.

    Raises:
        BadInputError: nothing in the index has that reference.
    """
    path, number = ref, None
    head, sep, tail = ref.rpartition("#")
    if sep and tail.isdigit():
        path, number = head, int(tail)
    for candidate in dict.fromkeys([os.path.abspath(path), path]):
        article = store.article(candidate, number)
        if article is not None:
            return article, store.article_passages(article.id)
    raise BadInputError(
        f"{ref} is not in the index", "See `qa sources` for what is indexed (a dump's record: PATH#N)"
    )


def answer_passage(row: PassageRow, quotes: list | None = None) -> answers.Passage:
    """A stored passage as the answer choice reads it (sentence spans and vectors decoded;
    with its quotes, who each sentence quotes)."""
    spans = np.frombuffer(row.spans, dtype=np.int32).reshape(-1, 2)
    speakers = [speaker_of(quotes, int(a), int(b)) for a, b in spans] if quotes else None
    return answers.Passage(row.text, spans, row.sentence_vectors, row.paragraph, speakers)


def _asked_speaker(passage: answers.Passage, asked: tuple[set[str], str] | None) -> str | None:
    """The name a "what did X say" question asks about as this passage's quotes spell it, for
    the answer model's "speaker" signal (None: not such a question, or none of X's quotes)."""
    if asked is None or not passage.speakers:
        return None
    return next((s for s in passage.speakers if s in asked[0]), None)


def _hits(
    question_text: str,
    picked: list[tuple[float, PassageRow]],
    copies: dict[int, list[tuple[int, int, ArticleRow]]],
    cosines: dict[int, float],
    signals: tuple[int, float],
    query_vector: np.ndarray,
    terms: list[str],
    said: dict[int, list] | None = None,
    asked: tuple[set[str], str] | None = None,
) -> tuple[list[Hit], bool]:
    """The hits with answer sentence, copies and relevance; and whether nothing answers.

    ``said``: each passage's quotes (the answer passages learn who each sentence quotes, and a
    hit's speaker is its answer sentence's); ``asked``: the speakers a "what did X say"
    question names, and its topic (passed to the answer model as its speaker signal)."""
    said = said or {}
    hits: list[Hit] = []
    found: list[np.ndarray] = []
    question = answers.Question.of(question_text, terms)
    passages = [answer_passage(row, said.get(row.id, [])) for _, row in picked]
    weights = answers.rarity(passages, question)
    for (score, row), passage in zip(picked, passages):
        choice = answers.choose(question, passage, query_vector, weights,
                                speaker=_asked_speaker(passage, asked),
                                speaker_only=asked is not None and not asked[1].strip())
        article = row.article
        source = HitSource(
            display_path(article.path), article.record, row.paragraph, row.paragraph_end,
            row.page, article.meta,
        )
        also = tuple(
            Copy(display_path(a.path), a.record, paragraph, a.meta)
            for pid, paragraph, a in copies.get(row.group, [])
            if pid != row.id and a.id != article.id
        )
        found.append(relevance_features(
            cosines.get(row.id, 0.0), choice.best_cosine, term_coverage(stems_of(row.text), terms)
        ))
        speaker = passage.speakers[choice.sentence] if passage.speakers and len(passage.spans) else None
        hits.append(Hit(len(hits) + 1, score, 0.0, row.id, row.text,
                        row.text[choice.start:choice.end], choice.start, source, also, speaker))
    relevance, no_match = relevance_model().judge(found, *signals)
    return [replace(hit, relevance=r) for hit, r in zip(hits, relevance)], no_match
