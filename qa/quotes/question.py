"""'What did Peskov say about tanks?' -> (the speakers meant, the topic), or None.

A question asks for someone's words when it names a person the index quotes (their surname
or full name) right before a speech or opinion word ("Peskov say", "Peskov also warned",
"Blair's reaction"). The earliest-named such person wins ("what did Peskov say about Russia"
is Peskov's). Organisations are left out: what "the Kremlin said" is mostly filed under its
spokesman's name, and boosting the few sentences attributed to "the Kremlin" itself hurt.
"""

from __future__ import annotations

import re

from qa.quotes.names import ORGANISATION_WORDS

SPEECH_WORDS = frozenset(
    "say says said saying tell tells told think thinks thought warn warns warned warning "
    "react reacts reacted reaction respond responds responded response comment comments "
    "commented remark remarks statement statements view views position stance opinion "
    "claim claims claimed argue argues argued believe believes believed feel feels felt "
    "insist insisted reply replied quote quotes words announce announced admit admitted "
    "deny denied predict predicted promise promised accuse accused criticise criticised "
    "criticize criticized describe described explain explained stress stressed".split()
)
_FRAME = frozenset(
    "what did does do has have had was is how why when who the a an about on of to regarding "
    "concerning over anything something say says said think thought tell told react reacted "
    "respond responded comment commented 's ’s mr mrs ms dr".split()
)
_IGNORED_PARTS = frozenset("the a an of and for mr mrs ms dr sir & de".split())


def _words(text: str) -> list[str]:
    return re.findall(r"'s|[\w&-]+", text.lower().replace("’", "'").replace("'s", " 's"))


_BETWEEN = frozenset("also ever really actually just first last then later publicly "
                     "recently earlier previously once not".split())
_NOUNS = frozenset("reaction reactions comments comment remarks remark view views position "
                   "stance response responses statement statements words warning warnings "
                   "claims claim opinion opinions thoughts take quote quotes verdict".split())


def _asks_for_words(words: list[str], at: int, length: int) -> bool:
    """Whether the name at ``words[at:at+length]`` is the one speaking: followed by a speech
    verb ("Peskov say", "Peskov also warned") or a speech noun ("Kremlin's reaction")."""
    i = at + length
    if i < len(words) and words[i] == "'s":
        return i + 1 < len(words) and words[i + 1] in _NOUNS
    while i < len(words) and words[i] in _BETWEEN:
        i += 1
    return i < len(words) and (words[i] in SPEECH_WORDS or words[i] in _NOUNS)


def speaker_question(question: str, known: list[str]) -> tuple[list[str], str] | None:
    """The speakers a "what did X say" question asks about, and its topic; None otherwise.

    Args:
        question: the question as asked.
        known: every speaker in the index.

    Returns:
        (all known speakers the named one may be, e.g. ["Dmitry Peskov", "Peskov"], the topic
        words left once the speaker and the question frame are taken out), or None.
    """
    words = _words(question)
    if not any(w in SPEECH_WORDS for w in words):
        return None
    position = {}
    for i, w in enumerate(words):
        position.setdefault(w, i)
    best: tuple[int, int, str] | None = None
    for name in known:
        if not is_person(name):
            continue
        at = _named_at(name, words, position)
        if at is None or not _asks_for_words(words, at, _span(name, words, at)):
            continue
        if best is None or at < best[0]:  # known is most quoted first: the first wins a tie
            best = (at, len(name), name)
    if best is None:
        return None
    key = _key_words(best[2])
    names = [n for n in known if n == best[2] or _bare(n) == key]
    spelled = {w for n in names for w in _words(n)}
    topic = " ".join(w for w in words
                     if w not in _FRAME and w not in spelled and w not in SPEECH_WORDS)
    return names, topic


def is_person(name: str) -> bool:
    """A named person ("Dmitry Peskov"), not an organisation, place or group: only people's
    words are looked for first (an organisation's are often its spokesman's, filed under
    the spokesman's name)."""
    parts = [p for p in _words(name) if p not in _IGNORED_PARTS]
    words = name.split()
    return (name[:1].isupper() and len(parts) >= 2 and words[-1][:1].isupper()
            and not any(p in ORGANISATION_WORDS for p in parts))


def _key_words(name: str) -> list[str]:
    parts = [p for p in _words(name) if p not in _IGNORED_PARTS and p != "'s"]
    if not parts:
        return []
    is_person = name[:1].isupper() and not any(p in ORGANISATION_WORDS for p in parts)
    if is_person and len(parts) >= 2 and parts[-1][:1].isalpha():
        return [parts[-1]]  # a person: the surname
    return parts


def _named_at(name: str, words: list[str], position: dict[str, int]) -> int | None:
    """Where the question names this speaker (its surname, or all its words), or None."""
    key = _key_words(name)
    if not key or (len(key) == 1 and len(key[0]) < 3):
        return None
    if all(k in position for k in key):  # where its first word the question spells starts
        return min(position[w] for w in _bare(name) if w in position)
    return None


def _span(name: str, words: list[str], at: int) -> int:
    """How many question words from ``at`` spell this speaker's key words."""
    key = set(_bare(name))
    n = 0
    while at + n < len(words) and (words[at + n] in key or words[at + n] in _IGNORED_PARTS):
        n += 1
    return max(n, 1)


def _bare(name: str) -> list[str]:
    """A name's words without honorifics: "Mr Blair" -> ["blair"]."""
    return [p for p in _words(name) if p not in _IGNORED_PARTS]
