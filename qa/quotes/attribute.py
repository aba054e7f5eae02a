"""An article's passages -> the sentences that report speech, each with its speaker.

Two passes over the article: the first learns every full name and the titles bound to names
(:class:`~qa.quotes.names.Registry`); the second reads each sentence (``speech.read_sentence``)
in order and resolves its speaker: a name to the full name the article introduces, a pronoun
to the nearest preceding speaker, a title to the name it is bound to. A quoted sentence with
no speech verb of its own takes the speaker of the quotation it belongs to (the next
attribution in its paragraph, else the paragraph's previous speaker, else the last one).

Sentences are those of :func:`qa.ingest.passages.split_sentences` on each passage text, so a
quote's (start, end) is exactly a sentence span of the passage that answers use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.ingest.passages import split_sentences
from qa.quotes.names import STARTERS, TITLE_NOUNS, Registry
from qa.quotes.speech import Mention, Reading, read_sentence

ATTRIBUTION_VERSION = "2"  # bump when the rules change: `qa index` re-attributes old articles
MIN_QUOTED_WORDS = 3  # a quotation this long makes a sentence "direct"
MIN_QUOTE_SHARE = 0.5  # a sentence without a speech verb needs this much of it in quotes
MAX_SPEAKER_CHARS = 80
FORWARD = "\0"  # marks a speaker the article names in a later sentence ("a former minister")
FORWARD_WINDOW = 3  # ... within this many speech sentences


@dataclass(frozen=True)
class Quote:
    """One speech-reporting sentence of a passage.

    Attributes:
        passage: index of the passage within the article.
        start: character offset of the sentence in the passage text.
        end: its end.
        speaker: the full name (or organisation) the article gives the speaker.
        kind: "direct" (quotation marks) or "indirect" (reported speech).
    """

    passage: int
    start: int
    end: int
    speaker: str
    kind: str


@dataclass
class _Sentence:
    passage: int
    start: int
    end: int
    reading: Reading
    words: int
    text: str = ""
    speaker: str | None = None


class _Speakers:
    """The running state of the second pass: who spoke last."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.last: str | None = None
        self.recent: list[str] = []  # people who spoke or were named, latest last
        self.speakers: list[str] = []  # people who spoke, latest last
        self.phrases: list[str] = []  # unnamed speakers ("a spokesman for Darlington Council")
        self.organisations: list[str] = []
        self.named_organisations: list[str] = []  # organisations sentences open with
        self.sentence = ""  # the sentence being resolved
        self.known_organisations: set[str] = set()
        # names of people: not organisations, and not shown to be places or things
        self.people = {p.name for p in registry.people if p.is_person}

    def resolve(self, mention: Mention) -> str | None:
        words = list(mention.words)
        if mention.kind == "pronoun":
            if mention.words[0] in ("he", "she"):
                return (self._in_sentence(mention.words[0]) or self._person(mention.words[0])
                        or self.last or FORWARD + mention.words[0])  # named in a later sentence
            if mention.words[0] == "it":
                named = self._organisation_in_sentence()
                if named or self.organisations:
                    return named or self.organisations[-1]
                return self.last if self.last not in self.people else None
            return self.last
        if mention.kind == "title":
            return self.registry.resolve_title(mention.text) or self._unbound(mention)
        if mention.kind == "group":
            return self._group(mention)
        if mention.alt:
            alt = self.registry.resolve_name(list(mention.alt))
            if alt in self.people:
                return alt
        name = self.registry.resolve_name(words)
        if name is None:
            return None
        person = self.registry.person(name)
        if person is not None:
            person.learn_gender(words)
        if name not in self.people and words and words[0].lower() == "the":
            return "the " + name
        return name

    def _group(self, mention: Mention) -> str:
        """'the party' -> 'the Labour Party'; 'the company' -> the last organisation that spoke."""
        words = [w.lower() for w in mention.words]
        bound = self.registry.resolve_title(mention.text)
        if bound:
            return bound
        if words[0] == "the" or (words[0].endswith(("'s", "’s")) and len(words) > 1):
            if len(words) == 2 and (named := self.registry.by_last_word(words[1])):
                return "the " + named
            if words[-1] in ORGANISATION_NOUNS and self.organisations:
                return self.organisations[-1]
            if words[-1] in ORGANISATION_NOUNS:  # "Shares in Krispy Kreme fell after the firm ..."
                named = self._named_before(mention.text)
                if named:
                    self.known_organisations.add(named)
                    return named
                if self.named_organisations:  # "Acme Corp shares rose. The firm said ..."
                    return self.named_organisations[-1]
        return _tidy(mention.text)

    def _in_sentence(self, pronoun: str) -> str | None:
        """'... after Biden distinguished himself after he claimed': a person the sentence
        names before the pronoun, of a compatible sex."""
        head = self._before(pronoun)
        if re.fullmatch(r"[^,]*,\s*", head):
            return None  # "At a conference hosted by Gordon Brown, he said": the main clause's
        other = "m" if pronoun == "she" else "f"  # subject, not a name in the phrase before it
        best = None
        for name in self.registry.mentioned_in(head):
            person = self.registry.person(name)
            if name not in self.people or (person and person.gender == other):
                continue
            where = head.rfind(name.split()[-1])
            if _after_preposition(head, where):
                continue  # "a speech by Blair": the object of a preposition is not a subject
            if best is None or where > best[0]:
                best = (where, name)
        return best[1] if best else None

    def _organisation_in_sentence(self) -> str | None:
        """'Qantas shares fell after it warned': a name before the pronoun, not a person's."""
        head = self._before("it")
        for found in re.finditer(r"(?:[A-Z][\w&.'’-]*\s?)+", head):
            if _after_preposition(head, found.start()):
                continue  # "sent soldiers to Belarus"
            name = self.registry.resolve_name(found.group().split())
            if name and name not in self.people and name.split()[0].lower() not in STARTERS:
                return name
        return None

    def _before(self, pronoun: str) -> str:
        """The current sentence up to the pronoun's first use (all of it when absent: none)."""
        at = re.search(rf"\b{pronoun}\b", self.sentence, flags=re.IGNORECASE)
        return self.sentence[: at.start()] if at else ""

    def _named_before(self, phrase: str) -> str | None:
        """The first name the article knows that the current sentence gives before ``phrase``."""
        at = self.sentence.lower().find(phrase.lower())
        head = self.sentence[: at if at >= 0 else len(self.sentence)]
        found = [(head.find(p.name), p.name) for p in self.registry.people
                 if p.name in head and p.gender is None]
        return min(found)[1] if found else None

    def _unbound(self, mention: Mention) -> str | None:
        """A title no name is bound to: one that spoke before under that title, else the last
        person who spoke, when singular."""
        text = _tidy(mention.text)
        if mention.words[0].lower() in ("a", "an"):
            if self.last is None:  # "A former minister has called ...": named next
                return FORWARD + text
            return text
        same = _same_office(text, self.phrases)
        if same:
            return same
        head = [w for w in mention.words if w.lower() in TITLE_NOUNS]
        if head and not head[-1].lower().endswith("s") and mention.words[0].lower() == "the":
            if self.speakers:
                return self.speakers[-1]
        return _tidy(mention.text)

    def _person(self, pronoun: str) -> str | None:
        """The latest speaker a he/she can refer to (not one known to be of the other sex)."""
        genders = [(name, self.gender(name)) for name in reversed(self.recent)]
        if pronoun == "she":  # a known woman first: most unknowns are men in news copy
            for name, gender in genders:
                if gender == "f":
                    return name
            return next((name for name, gender in genders if gender is None), None)
        return next((name for name, gender in genders if gender != "f"), None)

    def spoke(self, speaker: str) -> None:
        self.last = speaker
        if speaker.startswith(FORWARD) or speaker.lower() in PEOPLE_GROUPS:
            return  # "Analysts said": not an organisation a later "the company" means
        if speaker in self.known_organisations or (
            " " not in speaker and speaker not in self.people
        ):
            self.organisations.append(speaker)  # "Moscow", "Pernod", the firm named before
        elif _is_person_phrase(speaker):
            self.phrases.append(speaker)  # "a spokeswoman for Royal Mail": a person
            self.mentioned(speaker)
            self.speakers.append(speaker)
        elif speaker in self.people:
            self.mentioned(speaker)
            self.speakers.append(speaker)
        elif "'s " not in speaker and "’s " not in speaker:
            self.organisations.append(speaker)

    def mentioned(self, speaker: str) -> None:
        """A person a later "he"/"she" may mean."""
        if speaker in self.recent:
            self.recent.remove(speaker)
        self.recent.append(speaker)

    def gender(self, name: str) -> str | None:
        person = self.registry.person(name)
        if person is not None:
            return person.gender
        words = set(name.lower().split())
        if words & {"spokeswoman", "chairwoman"}:
            return "f"
        if words & {"spokesman", "chairman"}:
            return "m"
        return None


def _after_preposition(text: str, at: int) -> bool:
    """Whether the word before position ``at`` of ``text`` is a preposition."""
    words_before = text[:at].split()
    return bool(words_before) and words_before[-1].lower() in PREPOSITIONS


UNRESOLVED = frozenset(("he", "she"))  # what a FORWARD pronoun stays when no one is named
PREPOSITIONS = frozenset("by with to from for of at on in about against".split())
PEOPLE_GROUPS = frozenset(
    "analysts economists experts critics officials sources observers investors traders "
    "campaigners lawyers doctors scientists researchers aides diplomats insiders leaders "
    "members supporters allies opponents rivals colleagues residents activists protesters "
    "some others many most".split()
)

ORGANISATION_NOUNS = frozenset(
    "company firm group bank carrier airline retailer lender giant maker manufacturer insurer "
    "operator producer business corporation conglomerate chain broadcaster".split()
)


def _is_person_phrase(speaker: str) -> bool:
    """'a spokeswoman for Royal Mail', 'the Darlington Council spokesman': an unnamed person
    (not 'the Office of the Deputy Prime Minister')."""
    words = speaker.split()
    if speaker[:1].isupper() or not words:
        return False
    if words[-1].lower() in TITLE_NOUNS:
        return True
    for word in words:
        if word[:1].isupper():
            return False
        if word.lower() in TITLE_NOUNS:
            return True
    return False


def _same_office(text: str, phrases: list[str]) -> str | None:
    """'the Darlington Council spokesman' -> 'a spokesman for Darlington Council' said before."""
    words = set(text.split())
    heads = {w for w in words if w.lower() in TITLE_NOUNS}
    capitals = {w for w in words if w[:1].isupper()}
    for phrase in reversed(phrases):
        other = set(phrase.split())
        if heads & other and capitals <= other:
            return phrase
    return None


def _tidy(text: str) -> str:
    words = text.split()
    if words and words[0] in ("The", "A", "An"):
        words[0] = words[0].lower()
    return " ".join(words)


def attribute(passages: list[str]) -> list[list[Quote]]:
    """The speech-reporting sentences of each passage of one article, in order."""
    registry = Registry()
    for text in passages:
        registry.learn(text)
    registry.settle()
    speakers = _Speakers(registry)
    found: list[list[Quote]] = [[] for _ in passages]
    spoken = [s for paragraph in _paragraphs(passages)
              for s in _attribute_paragraph(paragraph, speakers) if s.speaker]
    _resolve_forward(spoken, speakers.people)
    for sentence in spoken:
        if sentence.speaker in UNRESOLVED:
            continue  # a "he" no sentence of the article names
        r = sentence.reading
        quoted = r.quoted_words >= MIN_QUOTED_WORDS or (r.quoted_words and r.starts_quoted)
        kind = "direct" if quoted else "indirect"
        speaker = (sentence.speaker or "")[:MAX_SPEAKER_CHARS]
        found[sentence.passage].append(
            Quote(sentence.passage, sentence.start, sentence.end, speaker, kind)
        )
    return found


def _resolve_forward(spoken: list[_Sentence], people: set[str]) -> None:
    """'A former Home Office minister has called for ...' then 'Barbara Roche said ...'."""
    for i, sentence in enumerate(spoken):
        if not (sentence.speaker or "").startswith(FORWARD):
            continue
        later = [s.speaker for s in spoken[i + 1 : i + 1 + FORWARD_WINDOW]]
        named = next((name for name in later if name in people), None)
        sentence.speaker = named or sentence.speaker[len(FORWARD):]  # type: ignore[index]


def _paragraphs(passages: list[str]) -> list[list[_Sentence]]:
    """Sentences grouped by paragraph (a line of a passage), quotation state read in order."""
    out: list[list[_Sentence]] = []
    for index, text in enumerate(passages):
        line_start = 0
        for line in text.split("\n"):
            spans = split_sentences(line)
            sentences: list[_Sentence] = []
            open_ = False
            for start, end in spans:
                piece = line[start:end]
                reading = read_sentence(piece, open_)
                open_ = reading.open_after
                sentences.append(_Sentence(index, line_start + start, line_start + end,
                                           reading, len(piece.split()), piece))
            if sentences:
                out.append(sentences)
            line_start += len(line) + 1
    return out


def _leading_person(sentence: _Sentence, speakers: _Speakers) -> str | None:
    """The known person a sentence that reports no speech is about ("Mr Blair has been ...")."""
    mention = sentence.reading.lead
    if mention is None:
        return None
    name = speakers.registry.resolve_name(list(mention))
    return name if name in speakers.people else None


def _is_quoted(sentence: _Sentence) -> bool:
    """A sentence without a speech verb that is a quotation: it begins inside (or with) the
    quotation, or a long one makes most of it (not 'No «law on non-returnees» in sight')."""
    r = sentence.reading
    return r.quoted_words >= MIN_QUOTED_WORDS and (
        r.starts_quoted or (r.quoted_words >= 2 * MIN_QUOTED_WORDS
                            and r.quoted_words >= MIN_QUOTE_SHARE * sentence.words)
    )


def _attribute_paragraph(sentences: list[_Sentence], speakers: _Speakers) -> list[_Sentence]:
    pending: list[_Sentence] = []  # quoted sentences waiting for their attribution
    previous: str | None = None  # the paragraph's last speaker
    before: _Sentence | None = None
    for sentence in sentences:
        reading = sentence.reading
        if before is not None:
            _remember_mentions(before, speakers)
        carried = before is not None and before.reading.open_after and before.speaker
        before = sentence
        if carried and not (reading.speech and reading.subject is not None):
            sentence.speaker = previous  # a quotation that goes on from the last sentence
            continue
        if reading.speech and reading.subject is not None:
            speakers.sentence = reading.outside  # names inside the quote are not its speaker
            speaker = speakers.resolve(reading.subject)
            if speaker:
                sentence.speaker = speaker
                speakers.spoke(speaker)
                for waiting in pending:
                    waiting.speaker = speaker
                pending = []
                previous = speaker
                continue
        if _is_quoted(sentence):
            if previous is not None and not reading.starts_quoted:
                sentence.speaker = previous
            else:
                pending.append(sentence)
            continue
        for waiting in pending:  # the quotation ended without an attribution
            waiting.speaker = previous or speakers.last
        pending = []
    for waiting in pending:
        waiting.speaker = previous or speakers.last
    if before is not None:
        _remember_mentions(before, speakers)
    return sentences


def _remember_mentions(sentence: _Sentence, speakers: _Speakers) -> None:
    """The people a sentence names, for a later he/she: those it only mentions first, then its
    subject, then its speaker (the likeliest referent last)."""
    lead = _leading_person(sentence, speakers)
    if sentence.reading.lead and lead is None:
        name = speakers.registry.resolve_name(list(sentence.reading.lead))
        person = speakers.registry.person(name or "")
        if person is not None and person.is_organisation:
            speakers.named_organisations.append(person.name)
    for name in speakers.registry.mentioned_in(sentence.text):
        if name in speakers.people and name not in (sentence.speaker, lead):
            speakers.mentioned(name)
    for name in (lead, sentence.speaker):
        if name in speakers.people:
            speakers.mentioned(name)
