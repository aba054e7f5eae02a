"""What kind of answer a question expects, and what kinds of answer a sentence holds.

A question's wh-word and its first words say what would answer it: "how many soldiers" wants a
number, "when" a date, "who" a person or organisation, "where" a place, "why" a reason, "what did
Peskov say" a sentence that reports speech. A sentence's surface says what it holds: digits and
amounts, dates and weekdays, capitalised names, a preposition before a capitalised place,
causal connectives, quotation marks and speech verbs. Both are plain regular expressions over the
text (no tagger or NER model installs offline), cheap enough to run on every candidate sentence at
query time.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

NUMBER, DATE, PERSON, PLACE, REASON, SPEECH = "number", "date", "person", "place", "reason", "speech"
KINDS = (NUMBER, DATE, PERSON, PLACE, REASON, SPEECH)

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
SPEECH_VERBS = (
    "say|says|said|saying|tell|tells|told|telling|add|adds|added|note|notes|noted|stress|stresses|"
    "stressed|warn|warns|warned|claim|claims|claimed|insist|insists|insisted|argue|argues|argued|"
    "explain|explains|explained|state|states|stated|announce|announces|announced|admit|admits|"
    "admitted|deny|denies|denied|accuse|accuses|accused|describe|describes|described|call|calls|"
    "called|comment|comments|commented|remark|remarks|remarked|reply|replies|replied|respond|"
    "responds|responded|react|reacts|reacted|suggest|suggests|suggested|believe|believes|believed|"
    "think|thinks|thought|fear|fears|feared|vow|vows|vowed|promise|promises|promised|pledge|"
    "pledges|pledged|urge|urges|urged|dismiss|dismisses|dismissed|reject|rejects|rejected|"
    "welcome|welcomes|welcomed|criticise|criticised|criticize|criticized|praise|praised|"
    "brand|branded|refute|refuted|reiterate|reiterated|echo|echoed|predict|predicted|"
    "confirm|confirmed|acknowledge|acknowledged|concede|conceded|complain|complained|"
    "blame|blamed|condemn|condemned|view|views|viewed|see|sees|saw|ask|asks|asked"
)

_QUESTION_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (SPEECH, r"\b(?:what|how)\s+(?:did|does|do|has|have|had|was|is|were|are|will|would)\s+"
                 r"(?:[\w'’.-]+\s+){1,5}?(?:say|tell|warn|claim|think|believe|reply|respond|react|"
                 r"describe|view|see|feel|argue|insist|announce|comment|predict|promise|fear|"
                 r"suggest|call|admit|deny|accuse|threaten|stress|add|note)\b|"
                 r"\b(?:reaction|response|comment|comments|view|views|statement|remarks?)\s+"
                 r"(?:of|from|by)\b|\baccording to\b|\bsaid about\b|"
                 r"\bhow\s+did\s+(?:[\w'’.-]+\s+){1,4}?(?:react|respond|reply)\b"),
        (NUMBER, r"\bhow\s+(?:many|much|big|large|far|long|old|high|low|fast|often|tall|deep|"
                 r"heavy|small|serious|severe)\b|\bwhat\s+(?:percentage|percent|share|proportion|"
                 r"number|amount|price|cost|size|rate|sum|figure|total|value)\b|"
                 r"\b(?:how|what)\s+(?:is|was|are|were)\s+the\s+(?:cost|price|number|amount|size)\b"),
        (DATE, r"^\s*when\b|\bwhat\s+(?:year|month|day|date|time)\b|\bwhich\s+(?:year|month|"
               r"day|date)\b|\bsince\s+when\b|\bhow\s+soon\b"),
        (PLACE, r"^\s*where\b|\bwhich\s+(?:country|city|town|region|state|place|capital|"
                r"countries|cities|venue|site|province)\b|\bwhat\s+(?:country|city|town|"
                r"region|place|venue)\b|\bin\s+which\s+(?:country|city|town)\b"),
        (PERSON, r"^\s*(?:who|whom|whose)\b|\bwhich\s+(?:official|minister|company|firm|"
                 r"group|person|man|woman|player|team|band|actor|actress|singer|leader|party|"
                 r"organisation|organization|broadcaster|newspaper|club|country's)\b|"
                 r"\bwhat\s+(?:company|firm|group|organisation|organization|team|band)\b|"
                 r"\bnamed?\s+(?:the|as)\b"),
        (REASON, r"^\s*why\b|\bwhat\s+(?:caused|causes|led|prompted|drove|made)\b|\bfor\s+what"
                 r"\s+reason\b|\bhow\s+come\b|\bwhat\s+is\s+behind\b|\bwhat\s+was\s+behind\b"),
    )
)


@lru_cache(maxsize=4096)
def question_kind(question: str) -> str | None:
    """The kind of answer a question expects (one of :data:`KINDS`), or None."""
    for kind, pattern in _QUESTION_RULES:
        if pattern.search(question):
            return kind
    return None


_SENTENCE_RULES: dict[str, re.Pattern[str]] = {
    NUMBER: re.compile(
        r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
        r"forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|trillion|"
        r"dozen|dozens|half|third|quarter|double|doubled|triple|tripled)\b|[%$£€¥]|\bper\s*cent\b",
        re.IGNORECASE,
    ),
    DATE: re.compile(
        rf"\b(?:{_MONTHS})\b\.?|\b(?:{_DAYS})\b|\b(?:1[89]|20)\d\d\b|\b(?:yesterday|today|"
        r"tomorrow|tonight|last\s+(?:week|month|year)|next\s+(?:week|month|year)|this\s+"
        r"(?:week|month|year)|earlier\s+this|later\s+this|in\s+(?:the\s+)?(?:spring|summer|"
        r"autumn|fall|winter)|\d+\s+(?:days?|weeks?|months?|years?)\s+(?:ago|later))\b",
        re.IGNORECASE,
    ),
    PERSON: re.compile(
        r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sir|Lord|Lady|President|Minister|Secretary|Chancellor|"
        r"Spokesman|Spokeswoman|Chief|Director|Governor|Senator|King|Queen|Prince|Princess)\b\.?"
        r"\s+[A-Z]|\b[A-Z][a-z]+(?:\s+[A-Z][a-z'’-]+)+\b"
    ),
    PLACE: re.compile(
        r"\b(?:in|at|from|to|near|across|outside|inside|into|throughout)\s+(?:the\s+)?"
        r"[A-Z][\w'’-]+"
    ),
    REASON: re.compile(
        r"\b(?:because|due\s+to|owing\s+to|as\s+a\s+result|result\s+of|since|so\s+that|in\s+order"
        r"\s+to|amid|following|caused|blamed|thanks\s+to|after|reason|why|driven\s+by|led\s+to|"
        r"fears?\s+(?:of|that)|meaning|therefore)\b",
        re.IGNORECASE,
    ),
    SPEECH: re.compile(
        rf"[\"“”«»]|(?:^|\s)['‘](?=\w)|\b(?:{SPEECH_VERBS})\b|\baccording\s+to\b",
        re.IGNORECASE,
    ),
}


def sentence_kinds(sentence: str, only: Collection[str] = KINDS) -> frozenset[str]:
    """The kinds of answer a sentence could give (see :data:`KINDS`), of those in ``only``."""
    return frozenset(kind for kind in only if _SENTENCE_RULES[kind].search(sentence))
