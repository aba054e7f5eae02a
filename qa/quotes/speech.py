"""One sentence: what lies in quotation marks, and who a speech verb says is speaking.

The sentence is reduced to a *frame*: its words outside quotation marks, with one ``Q`` token
where quoted text stood (``§``) (so a verb inside a quote never attributes anything). The frame is
searched for a speech verb with its subject ("Peskov said", "the Kremlin spokesman added",
", said Mr Green", "according to the minister").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.quotes.names import (
    CONNECTORS, HONORIFICS, ORGANISATION_WORDS, STARTERS, TITLE_NOUNS, TITLE_WORDS, WORD, is_cap,
    is_title_noun,
)

_VERB_STEMS = (
    "say says said saying tell tells told add adds added stress stresses stressed note notes "
    "noted warn warns warned argue argues argued claim claims claimed insist insists insisted "
    "explain explains explained state stated announce announces announced comment comments "
    "commented remark remarked emphasise emphasised emphasises emphasize emphasized emphasizes "
    "declare declares declared admit admits admitted acknowledge acknowledges acknowledged "
    "suggest suggests suggested urge urges urged reply replies replied respond responds "
    "responded deny denies denied confirm confirms confirmed reveal reveals revealed predict "
    "predicts predicted wrote writes recalled recalls assured assures promised promises vowed "
    "vows maintained maintains conceded concedes complained complains criticised criticized "
    "accused accuses described describes expressed expresses hinted hints believes believed "
    "thinks ask asks asked reiterated reiterates underlined underlines observed "
    "cautioned cautions told predicted estimated forecast agreed objected protested "
    "blamed alleged announced quipped joked conceded countered retorted pledged disclosed "
    "refuted attributed specified indicated repeated remembers remembered recounts recounted "
    "whispers whispered shouted shouts agrees hailed hails praised praises condemned condemns"
)
PARTICIPLES = frozenset(
    "saying adding suggesting arguing insisting claiming warning noting stressing accusing "
    "describing telling explaining reiterating calling urging predicting stating".split()
)
SPEECH_VERBS = frozenset(_VERB_STEMS.split())
PHRASAL = {"pointed": ("out", "to"), "points": ("out", "to"), "point": "out",
           "spoken": ("of", "about"), "talked": ("about", "of"),
           "talks": ("about", "of"), "went": "on", "goes": "on",
           "called": ("for", "on"), "calls": ("for", "on"), "spelled": "out", "set": "out",
           "hit": "out", "hits": "out", "lashed": "out", "lashes": "out"}
# only count as speech when followed by that/: or a quote ("believes that ...")
WEAK_VERBS = frozenset(
    "believes believed thinks estimated agreed agrees described describes remembered state".split()
)

PRONOUNS = frozenset("he she they it we i".split())
GROUP_NOUNS = frozenset(
    "government ministers officials analysts experts critics company firm group bank union "
    "unions report reports statement party parties campaigners economists executives bosses "
    "sources observers investors traders ministry department office commission council "
    "supporters allies opponents rivals colleagues competitors headquarters residents "
    "activists protesters families relatives staff workers employees shareholders "
    "committee board authorities police lawyers doctors scientists researchers aides "
    "spokesmen organisation organization agency watchdog regulator insiders diplomats "
    "leaders opposition members mps meps newspaper paper broadcaster kremlin administration "
    "embassy industry association federation body charity chairman retailer airline carrier "
    "insurer lender operator producer maker manufacturer giant".split()
) | TITLE_NOUNS
SKIP_BEFORE_VERB = frozenset(
    "also has have had would will could may might later then repeatedly previously earlier "
    "recently further again publicly reportedly yesterday today once still even only just "
    "already did does do always separately subsequently immediately "
    "has also had also privately openly explicitly clearly flatly firmly".split()
)
PASSIVE = frozenset("was were been being is are be".split())
SAYING = frozenset("said says say told tells added adds".split())
NEGATIONS = frozenset("not never n't declined refused".split())
DATA_NOUNS = frozenset(
    "figures data estimates estimate survey research poll polls statistics study studies "
    "index forecasts calculations numbers results tables records analysis report reports "
    "website list ranking rankings documents document".split()
)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())

_ANY_QUOTE = re.compile("[\"“”„«»‘]")
_OPEN_DOUBLE = "“„«"
_CLOSE_DOUBLE = "”»"


@dataclass(frozen=True)
class Mention:
    """Who a sentence says is speaking, as written: kind is name, pronoun, title or group.

    ``alt``: a name just before it ("Colin Asplin, Blackpool Hotel Association said"), which
    wins when it is a person the article introduces.
    """

    kind: str
    words: tuple[str, ...]
    alt: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Reading:
    """What one sentence says about speech.

    Attributes:
        quoted_words: words inside quotation marks (counting a quote carried in).
        open_after: a quotation is still open at the sentence's end.
        subject: the speaker named by a speech verb, or None.
        speech: a speech frame was found (verb with subject, or "according to").
        starts_quoted: the sentence begins inside (or with) a quotation.
    """

    quoted_words: int
    open_after: bool
    subject: Mention | None
    speech: bool
    starts_quoted: bool
    lead: tuple[str, ...] | None = None  # the capitalised words the sentence starts with
    outside: str = ""  # the sentence's words outside quotation marks (§ where a quote stood)


def frame(sentence: str, open_in: bool) -> tuple[str, int, bool, bool]:
    """(frame text, words inside quotes, quote open at the end, starts inside a quote)."""
    if not open_in and not _ANY_QUOTE.search(sentence):
        return sentence, 0, False, False  # most sentences: nothing to take out
    out: list[str] = []
    inside: list[str] = []
    open_ = open_in
    single = False
    n = len(sentence)
    starts_quoted = open_in or sentence[:1] in '"“«‘„'
    placed = open_in
    if open_in:
        out.append(" § ")
    for i, ch in enumerate(sentence):
        prev = sentence[i - 1] if i else " "
        nxt = sentence[i + 1] if i + 1 < n else " "
        opening = None
        if ch == '"':
            opening = prev.isspace() or prev in "([{—–-:/" or i == 0
            if opening and nxt.isspace():
                opening = False
        elif ch in _OPEN_DOUBLE:
            opening = True
        elif ch in _CLOSE_DOUBLE:
            opening = False
        elif ch == "‘" and not open_ and (prev.isspace() or i == 0 or prev in "(["):
            single, opening = True, True
        elif ch == "’" and single and not nxt.isalpha():
            single, opening = False, False
        if opening is True:
            open_ = True
            if not placed:
                out.append(" § ")
                placed = True
            continue
        if opening is False:
            if open_:
                open_, placed = False, False
            continue
        (inside if open_ else out).append(ch)
    words = len("".join(inside).split())
    return "".join(out), words, open_, starts_quoted


def read_sentence(sentence: str, open_in: bool) -> Reading:
    """Quotation marks and the speech frame of one sentence."""
    text, words, open_after, starts = frame(sentence, open_in)
    tokens = WORD.findall(text)
    subject, speech = _speech_frame(tokens)
    lead = None
    if not speech:
        first = next((k for k, t in enumerate(tokens[:3]) if is_cap(t) and t.lower() not in STARTERS), None)
        if first is not None:
            lead = tuple(_cap_run_forward(tokens, first)) or None
    return Reading(words, open_after, subject, speech, starts, lead, text)


SUBORDINATORS = frozenset("as when while after before although though if since because once".split())


def _speech_frame(tokens: list[str]) -> tuple[Mention | None, bool]:
    lower = [t.lower() for t in tokens]
    first = 0  # "As Mr Brown announced the date, Ernst & Young urged him ...": the main clause
    if lower and lower[0] in SUBORDINATORS and "," in lower:
        first = lower.index(",") + 1
    if "according" in lower[:6] and "," in lower and not SAYING & set(lower):
        # "According to Lavrov, US envoys promised ...": Lavrov's claim (but "According to the
        # FT, Peter Chernin said ...": Chernin's words, relayed)
        mention, speech = _other_frames(tokens, lower)
        if speech and mention is not None:
            return mention, True
    found = _verb_frame(tokens, lower, first) or (first and _verb_frame(tokens, lower, 0))
    if found:
        return found, True
    return _other_frames(tokens, lower)


def _verb_frame(tokens: list[str], lower: list[str], first: int) -> Mention | None:
    for v in range(first, len(lower)):
        if lower[v] in PARTICIPLES and v > 0 and lower[v - 1] not in PASSIVE:
            subject = _participle_subject(tokens, lower, v)
            if subject is not None:
                return subject
            continue
        if v and lower[v - 1] in NEGATIONS:
            continue  # "did not comment", "never said": no speech reported
        if lower[v] == "quoted" and v > 1 and lower[v - 1] in PASSIVE:
            return _subject_before(tokens, lower, v - 1)  # "Mr Houston was quoted ... saying"
        if not _is_speech_verb(lower, v):
            continue
        if v and lower[v - 1] in PASSIVE and not lower[v].endswith("ing"):
            continue
        if v and (lower[v - 1].endswith(("'s", "’s")) or lower[v - 1] in ("the", "a", "his", "her", "their", "its", "these", "those")):
            continue  # "Peskov's comments", "the statement": a noun, not a verb
        subject = _subject_before(tokens, lower, v) or _inverted(tokens, lower, v)
        if subject is not None:
            return subject
    return None


def _participle_subject(tokens: list[str], lower: list[str], v: int) -> Mention | None:
    """'despite Mr Flight's allies saying ...': the noun right before a participle speaks
    (not in '... was quoted in the Herald newspaper saying', whose speaker comes first)."""
    head = lower[v - 1]
    if v < 2 or "quoted" in lower[max(0, v - 8) : v]:
        return None
    if head in GROUP_NOUNS or head.rstrip("s") in GROUP_NOUNS or (
        is_cap(tokens[v - 1]) and tokens[v - 1][0].isalpha()
    ):
        return _np_ending(tokens, lower, v - 1)
    return None


def _other_frames(tokens: list[str], lower: list[str]) -> tuple[Mention | None, bool]:
    for i in range(len(lower) - 3):  # "the paper quoted Mr Chernin as saying"
        if lower[i] == "quoted" and is_cap(tokens[i + 1]):
            run = _cap_run_forward(tokens, i + 1)
            if run and lower[i + 1 + len(run)] == "as":
                return Mention("name", tuple(run)), True
    for i, word in enumerate(lower):
        if word == "according" and i + 1 < len(lower) and lower[i + 1] == "to":
            mention = _forward_np(tokens, i + 2)
            if mention is not None:
                return mention, True
    if any(w in PARTICIPLES and lower[i] in (",", "by") for i, w in enumerate(lower[1:])):
        # "X echoed this, saying that ..." / "he tempered this by suggesting that ..."
        mention = _first_np(tokens, lower)
        if mention is not None:
            return mention, True
    return None, False


def _first_np(tokens: list[str], lower: list[str]) -> Mention | None:
    """The sentence's subject: its first name, pronoun or titled phrase."""
    for k in range(min(len(tokens), 12)):
        if lower[k] in PRONOUNS:
            return Mention("pronoun", (lower[k],))
        if is_cap(tokens[k]) and tokens[k][0].isalpha() and lower[k] not in STARTERS:
            end = k  # "Russian foreign minister Sergei Lavrov": title words, then the name
            while end < len(tokens) and ((is_cap(tokens[end]) and tokens[end][0].isalpha())
                                         or lower[end] in TITLE_WORDS or is_title_noun(lower[end])):
                end += 1
            if not is_cap(tokens[end - 1]):
                return None
            return Mention("name", tuple(tokens[k:end]))
        if lower[k] in GROUP_NOUNS:
            return _np_ending(tokens, lower, k)
    return None


def _is_speech_verb(lower: list[str], v: int) -> bool:
    word = lower[v]
    nxt = lower[v + 1] if v + 1 < len(lower) else ""
    if word in PHRASAL:
        wanted = PHRASAL[word]
        if word.startswith("call") and "§" in lower[v:]:
            return True  # "called this attack «the most powerful in four years»"
        return nxt in (wanted if isinstance(wanted, tuple) else (wanted,))
    if word in PARTICIPLES and v and lower[v - 1] in PASSIVE:
        return True  # "the firm is predicting that ...", "they are warning"
    if word not in SPEECH_VERBS:
        return False
    if word in WEAK_VERBS:
        return nxt in ("that", ":", "§", "it", "as", ".", ",", "") or word.startswith("descri")
    if word in ("ask", "asks", "asked") and nxt in ("for", "about"):
        return nxt == "about"
    return True


def _inverted(tokens: list[str], lower: list[str], v: int) -> Mention | None:
    """'..., said Mr Green.' / '«...,» added the spokesman.': the subject follows the verb and
    ends the clause."""
    if v == 0 or lower[v - 1] not in (",", "§") and not (v >= 2 and lower[v - 2] == "§"):
        return None
    if v + 1 >= len(tokens):
        return None
    nxt = tokens[v + 1]
    if lower[v + 1] in PRONOUNS:
        mention: Mention | None = Mention("pronoun", (lower[v + 1],))
        end = v + 2
    elif is_cap(nxt) and nxt[0].isalpha():
        run = _cap_run_forward(tokens, v + 1)
        mention = Mention("name", tuple(run)) if run else None
        end = v + 1 + len(run)
        k = end  # "said Apacs spokeswoman Jemma Smith": the name after the title
        while k < len(lower) and lower[k] in TITLE_WORDS and not is_cap(tokens[k]):
            k += 1
        if k > end and k < len(tokens) and is_cap(tokens[k]):
            after = _cap_run_forward(tokens, k)
            mention, end = Mention("name", tuple(after)), k + len(after)
    elif lower[v + 1] in ("the", "a", "an", "its", "his", "her", "their"):
        mention = _forward_np(tokens, v + 1)
        end = v + 1 + len(mention.words) if mention else v + 1
    elif (k := _after_lowercase_title(tokens, lower, v + 1)) is not None:
        run = _cap_run_forward(tokens, k)  # "said chief financial officer Peter Gregg"
        mention, end = Mention("name", tuple(run)), k + len(run)
    else:
        return None
    if end < len(lower) and lower[end] not in (".", ",", ";", ":", "!", "?", "in", "on", "at", "who", "(", "—", "–", "-"):
        return None
    return mention


def _after_lowercase_title(tokens: list[str], lower: list[str], i: int) -> int | None:
    """Where the name starts after up to four lower-case words ending in a title noun
    ("chief financial officer Peter Gregg", "analyst Jane Smith"), else None."""
    k = i
    while k < len(tokens) and k - i < 4 and tokens[k][0].isalpha() and not is_cap(tokens[k]):
        k += 1
    if k == i or k >= len(tokens) or not is_cap(tokens[k]) or not tokens[k][0].isalpha():
        return None
    return k if is_title_noun(lower[k - 1]) else None


def _subject_before(tokens: list[str], lower: list[str], v: int) -> Mention | None:
    k = v - 1
    if lower[v].endswith("ing"):
        while k >= 0 and lower[k] in PASSIVE:  # "is predicting"
            k -= 1
    while k >= 0 and (lower[k] in SKIP_BEFORE_VERB or lower[k] in WEEKDAYS
                      or (lower[k].endswith("ly") and len(lower[k]) > 4 and not is_cap(tokens[k]))
                      or (lower[k] == "on" and k + 1 < v and lower[k + 1] in WEEKDAYS)):
        k -= 1
    if k >= 1 and lower[k] in ("and", "but"):  # "AOL backed the cuts but said ...": the clause's subject
        return _first_np(tokens[:k], lower[:k])
    if k >= 0 and lower[k] == ")":  # "the Office of the Deputy Prime Minister (ODPM) has said"
        while k >= 0 and lower[k] != "(":
            k -= 1
        k -= 1
    if k < 0:
        return None
    if lower[k] == ",":  # "Peskov, in an interview with CNN, said"
        j = k - 1
        while j >= 0 and lower[j] not in (",", "§", ";", ":"):
            j -= 1
        if j <= 0 or lower[j] != ",":
            return None
        between = tokens[j + 1 : k]
        if between and all(is_cap(w) and w[0].isalpha() for w in between):
            return Mention("name", tuple(between))  # "the deputy secretary, Sergei Demedyuk, said"
        k = j - 1
    return _np_ending(tokens, lower, k)


def _np_ending(tokens: list[str], lower: list[str], k: int) -> Mention | None:
    word = lower[k]
    if word in PRONOUNS:
        return Mention("pronoun", (word,))
    if is_cap(tokens[k]) and tokens[k][0].isalpha():
        run = [tokens[k]]
        j = k - 1
        while j >= 0 and ((is_cap(tokens[j]) and tokens[j][0].isalpha())
                          or (lower[j] in CONNECTORS and j > 0 and is_cap(tokens[j - 1]))
                          or (lower[j] == "the" and j > 0 and lower[j - 1] in ("and", "of"))
                          or (lower[j] == "and" and j > 0 and is_cap(tokens[j - 1]))):
            run.insert(0, tokens[j])
            j -= 1
        if j >= 1 and lower[j] in ("in", "at", "from") and j + 1 == k - len(run) + 1:
            inner = j - 1  # "the Office (PCO) in Baghdad said": the place is not the speaker
            if lower[inner] == ")":
                while inner >= 0 and lower[inner] != "(":
                    inner -= 1
                inner -= 1
            if inner >= 0:
                before = _np_ending(tokens, lower, inner)
                if before is not None:
                    return before
        jj, lead = (j - 1, ("the",)) if j >= 0 and lower[j] == "the" else (j, ())
        if jj >= 1 and lower[jj] in ("for", "of", "at") and lower[jj - 1] in TITLE_NOUNS:
            head = _np_ending(tokens, lower, jj - 1)  # "a spokesman for Darlington Council"
            if head is not None:
                start = jj - len(head.words)
                if (start >= 2 and lower[start - 1] == "," and lower[start] not in ("the", "a", "an")
                        and is_cap(tokens[start - 2])):  # "Chris Panayis, managing director of X said"
                    named = _np_ending(tokens, lower, start - 2)
                    if named is not None and named.kind == "name":
                        return named
                return Mention("title", head.words + (tokens[jj],) + lead + tuple(run))
        if j >= 0 and lower[j] == "the":
            run.insert(0, "the")
        alt: tuple[str, ...] = ()
        if j >= 1 and lower[j] == "," and is_cap(tokens[j - 1]):
            before = _np_ending(tokens, lower, j - 1)  # only a name opening the sentence
            if before is not None and before.kind == "name" and j - len(before.words) <= 0:
                alt = before.words
        while run and run[0].lower() in STARTERS and run[0].lower() != "the":
            run = run[1:]
        for cut in range(len(run) - 1, 0, -1):  # "Labour's Paul Flynn", "Centre Mr Straw"
            if any(w.lower() in ORGANISATION_WORDS for w in run[cut:]):
                continue  # "the Pentagon's Project and Contract Office" stays whole
            if run[cut - 1].endswith(("'s", "’s")) or run[cut].lower().rstrip(".") in HONORIFICS:
                run = run[cut:] if run[cut - 1].endswith(("'s", "’s")) else run[cut:]
                break
        if not run or run == ["the"]:
            return None
        return Mention("name", tuple(run), alt)
    if word in GROUP_NOUNS or word.rstrip("s") in GROUP_NOUNS:
        phrase = [tokens[k]]
        j = k - 1
        while j >= 0 and len(phrase) < 6 and tokens[j][0].isalpha() and lower[j] not in (
            "and", "said", "says", "by", "to", "with", "that", "which", "who", "but", "of",
            "in", "on", "for", "as", "while", "when", "after", "because", "if", "despite",
            "amid", "against", "over", "from", "before", "under", "like", "than", "comes",
        ):
            phrase.insert(0, tokens[j])
            if lower[j] in ("the", "a", "an", "its", "his", "her", "their"):
                break
            if lower[j].endswith(("'s", "’s")) and is_cap(tokens[j]):  # "Mr Flight's allies"
                while j > 0 and is_cap(tokens[j - 1]) and tokens[j - 1][0].isalpha() \
                        and lower[j - 1] not in STARTERS and lower[j - 1] not in TITLE_WORDS:
                    j -= 1
                    phrase.insert(0, tokens[j])
                break
            j -= 1
        kind = "title" if word in TITLE_NOUNS else "group"
        return Mention(kind, tuple(phrase))
    return None


def _cap_run_forward(tokens: list[str], i: int) -> list[str]:
    run: list[str] = []
    while i < len(tokens) and ((is_cap(tokens[i]) and tokens[i][0].isalpha())
                               or (tokens[i].lower() in CONNECTORS and run
                                   and i + 1 < len(tokens) and is_cap(tokens[i + 1]))):
        run.append(tokens[i])
        i += 1
    return run


def _forward_np(tokens: list[str], i: int) -> Mention | None:
    """The noun phrase after 'according to' / an inverted verb, up to punctuation."""
    phrase: list[str] = []
    while i < len(tokens) and tokens[i][0].isalpha() and len(phrase) < 10:
        low = tokens[i].lower()
        if phrase and low in ("that", "which", "who", "and", "said", "says", "in", "on", "at", "as"):
            break
        phrase.append(tokens[i])
        i += 1
    if len(phrase) > 2 and phrase[1].lower() == "statement" and phrase[2].lower() in ("from", "by"):
        phrase = phrase[3:]  # "according to a statement from Mr Spitzer's office"
    if not phrase:
        return None
    low = [p.lower() for p in phrase]
    if any(w in DATA_NOUNS for w in low[:3]) and not any(is_cap(p) for p in phrase[1:2]):
        return None
    caps = [p for p in phrase if is_cap(p)]
    run = _cap_run_forward(phrase, 0) if caps and is_cap(phrase[0]) else []
    if run and len(run) < len(phrase) and (low[-1] in GROUP_NOUNS or low[-1].rstrip("s") in GROUP_NOUNS):
        return Mention("group", tuple(phrase))  # "Chinese state press reports"
    if run:
        return Mention("name", tuple(run))
    if any(w in TITLE_NOUNS for w in low):
        return Mention("title", tuple(phrase))
    if any(w in GROUP_NOUNS or w.rstrip("s") in GROUP_NOUNS for w in low):
        # "the Bank of England", "the head of the IMF": keep a capitalised tail
        return Mention("group", tuple(phrase))
    if len(caps) >= 1:
        return Mention("name", tuple(phrase))
    return None


SENTENCE_QUOTE = re.compile(r"[\"“”«»]")
