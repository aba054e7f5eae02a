"""Names in an article: people and organisations, and the titles bound to them.

No statistical tagger: a name is a run of capitalised words (with "of", "de", "bin" ... inside),
cut where a title word ends ("Russian Foreign Minister Sergei Lavrov" = title + name). A title
is bound to a name when it stands right before it ("Kremlin spokesman Dmitry Peskov") or in
apposition after it ("Andrew Green, chairman of Migration Watch,").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from qa.quotes.first_names import FEMALE as FEMALE_NAMES
from qa.quotes.first_names import MALE as MALE_NAMES

WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ](?:[\w'’-]|\.(?=\w))*|\S")

HONORIFICS = frozenset("mr mrs ms miss dr prof mr. mrs. ms. dr. prof. lord lady dame".split())
KEPT_HONORIFICS = frozenset("sir lord lady dame baroness baron".split())
# words that head a person's title ("the Kremlin spokesman", "Foreign Minister")
TITLE_NOUNS = frozenset(
    "spokesman spokeswoman spokesperson minister secretary president chairman chairwoman chair "
    "chief executive governor director head leader premier chancellor mayor ambassador envoy "
    "commissioner senator mp mep adviser advisor economist analyst official aide counsel "
    "prosecutor judge general commander king queen prince emperor pope founder boss manager "
    "owner partner strategist deputy representative negotiator speaker lawyer attorney "
    "correspondent editor professor researcher officer chancellor".split()
)
# capitalised words that belong to titles, not names ("Foreign Minister", "Prime Minister")
TITLE_WORDS = TITLE_NOUNS | frozenset(
    "prime foreign home finance defence defense interior justice trade health education "
    "culture economy shadow former deputy vice acting presidential press first lord state "
    "lt col gen sgt capt maj brig adm".split()
)
DISTINGUISHING = frozenset("shadow former deputy vice acting ex assistant junior".split())
# capitalised words that start sentences, never names
STARTERS = frozenset(
    "the a an but and or so yet in on at after before when while however meanwhile his her "
    "its their our my if as this that these those there it he she they we i you also then "
    "still even now last next earlier later speaking asked according although though despite "
    "since until for from with without by of to about over under instead indeed thus "
    "moreover furthermore nevertheless meanwhile separately overall yesterday today "
    "following turning echoing referring commenting speaking replying responding "
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
CONNECTORS = frozenset("of de da del di van von bin al la le du der den &".split())
# words that make a capitalised run a place or a thing, not a person
PLACE_WORDS = frozenset(
    "street road square avenue lane house palace hall centre center building tower park "
    "nations states kingdom republic island islands city county province region valley "
    "river sea ocean bay airport station stadium cup league awards prize act bill treaty "
    "accord agreement day week year index".split()
)
DEMONYMS = frozenset(
    "american british english scottish welsh irish french german russian ukrainian chinese "
    "japanese korean indian pakistani italian spanish portuguese dutch belgian swiss "
    "austrian swedish norwegian danish finnish polish czech hungarian greek turkish "
    "israeli palestinian iranian iraqi syrian egyptian saudi african nigerian kenyan "
    "brazilian mexican canadian australian european asian western eastern northern "
    "southern belarusian georgian cameroonian colombian argentine argentinian".split()
)


def is_title_noun(word: str) -> bool:
    """'spokesman', 'analysts', 'chief executive' heads: a person's title, singular or plural."""
    word = word.lower()
    return word in TITLE_NOUNS or (word.endswith("s") and word[:-1] in TITLE_NOUNS)


def is_cap(word: str) -> bool:
    return word[:1].isupper()


def clean(word: str) -> str:
    """A word without trailing possessive or full stop (but keeps initials like "U.S.")."""
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    if word.endswith(".") and not re.fullmatch(r"(?:[A-Z]\.)+", word):
        word = word[:-1]
    return word


FEMALE_HONORIFICS = frozenset("mrs ms miss lady dame baroness madam mme".split())
MALE_HONORIFICS = frozenset("mr sir lord baron".split())
FEMALE_TITLES = frozenset("spokeswoman chairwoman queen princess".split())
ORGANISATION_WORDS = frozenset(
    "party council commission bank office ministry association corp corporation inc ltd plc "
    "group watch mail times journal service services department committee agency union "
    "international breweries industries motors airlines securities executive government "
    "parliament assembly court police news post press fund institute university society "
    "federation league board authority trust foundation club company co organisation "
    "organization church army navy treasury exchange".split()
)


@dataclass
class Person:
    """A name the article introduces, with its parts and titles."""

    name: str
    titles: list[str] = field(default_factory=list)
    gender: str | None = None  # "f", "m" or None (unknown)
    # seen as a person: a title or honorific with it, a common first name, or its surname
    # alone ("Peskov said")
    evidence: bool = False
    # seen as a place or thing: after "the", "in" or "at" ("the Pinot Noir"), or ending in
    # a place word ("Downing Street")
    thing: bool = False

    def learn_gender(self, words: list[str]) -> None:
        low = [w.lower().rstrip(".") for w in words]
        if any(w in FEMALE_HONORIFICS for w in low) or any(w in FEMALE_TITLES for w in low):
            self.gender, self.evidence = "f", True
        elif any(w in MALE_HONORIFICS for w in low):
            self.gender, self.evidence = "m", True
        elif self.parts and self.parts[0] in FEMALE_NAMES:
            self.evidence = True
            self.gender = self.gender or "f"
        elif self.parts and self.parts[0] in MALE_NAMES:
            self.evidence = True

    @property
    def is_person(self) -> bool:
        """One a he/she may mean: not an organisation, not opening with a nationality
        ("German Pinot"), and shown to be a person's or at least not a place or thing."""
        if self.is_organisation or self.name.split()[0].lower() in DEMONYMS:
            return False
        return self.evidence or not self.thing

    @cached_property
    def is_organisation(self) -> bool:
        words = self.name.split()
        return "&" in words or any(w.lower() in ORGANISATION_WORDS for w in words)

    @cached_property
    def parts(self) -> list[str]:
        return [p.lower() for p in self.name.split() if p.lower() not in KEPT_HONORIFICS]


def split_title(words: list[str]) -> tuple[list[str], list[str]]:
    """A capitalised run -> (title words, name words): the name follows the last title word.

    An organisation's name is not split ("the Home Office"); a person's affiliation after
    "of" is dropped ("Eric Schnaible of the PCO")."""
    if any(w.lower() in ORGANISATION_WORDS for w in words):
        if "of" in words[1:]:
            cut = words.index("of", 1)
            head = words[:cut]
            if len(head) >= 2 and not any(w.lower() in ORGANISATION_WORDS | TITLE_WORDS for w in head):
                return [], head
        return [], words
    if "of" in words[1:]:
        cut = words.index("of", 1)
        head = words[:cut]
        if len(head) >= 2 and head[-1].lower() not in TITLE_WORDS:
            words = head
    last = -1
    for i, w in enumerate(words):
        if w.lower() in TITLE_WORDS or is_title_noun(w):
            last = i
    return words[: last + 1], words[last + 1 :]


def strip_starters(words: list[str]) -> list[str]:
    while words and (words[0].lower() in STARTERS or words[0].lower() in HONORIFICS):
        if words[0].lower() in HONORIFICS and len(words) > 1:
            return words[1:]
        words = words[1:]
    while words and words[-1].lower() in CONNECTORS:
        words = words[:-1]
    return words


class Registry:
    """The people and organisations of one article, to resolve mentions to full names."""

    def __init__(self) -> None:
        self.people: list[Person] = []
        self.bound: list[tuple[str, Person]] = []  # (title text, person)
        self.aliases: dict[str, str] = {}  # "odpm" -> "Office of the Deputy Prime Minister"
        self._words: list[list[str]] = []  # each learned paragraph's words, for settle()

    def learn(self, text: str) -> None:
        """Collect full names and title bindings from one paragraph."""
        words = WORD.findall(text)
        self._words.append(words)
        i = 0
        while i < len(words):
            if not is_cap(words[i]) or not words[i][0].isalpha():
                i += 1
                continue
            j = i
            run: list[str] = []
            while j < len(words) and (
                (is_cap(words[j]) and words[j][0].isalpha())
                or (words[j].lower() in CONNECTORS and j + 1 < len(words) and is_cap(words[j + 1]))
                or (words[j] == "of" and j + 2 < len(words) and words[j + 1] == "the"
                    and is_cap(words[j + 2]))
                or (words[j] == "the" and run and run[-1] == "of" and j + 1 < len(words)
                    and is_cap(words[j + 1]))
            ):
                run.append(clean(words[j]))
                if words[j].endswith(("'s", "’s")) or (words[j].endswith(".") and len(words[j]) > 3):
                    j += 1
                    break
                j += 1
            self._learn_run(words, i, j, run)
            if j + 2 < len(words) and words[j] == "(" and words[j + 2] == ")" and words[j + 1].isupper():
                full = " ".join(strip_starters([clean(w) for w in run]))
                if full:
                    self.aliases.setdefault(words[j + 1].lower(), full)
            i = max(j, i + 1)

    def _learn_run(self, words: list[str], i: int, j: int, run: list[str]) -> None:
        run = [w for w in run if w]
        title, name = split_title(strip_starters(run))
        name = strip_starters(name)
        if len(name) == 1 and run[0].lower().rstrip(".") in HONORIFICS | KEPT_HONORIFICS:
            # "Ms Roche": a known person's gender
            known = self.person(self.resolve_name(run) or "")
            if known is not None:
                known.learn_gender(run)
        if len(name) < 2 and not (name and title):
            return
        if any(w.lower() in STARTERS for w in name):
            return
        person = self.add(" ".join(name))
        person.learn_gender(run)
        previous = words[i - 1].lower() if i else ""
        if (previous in ("the", "in", "at") or run[0].lower() == "the"
                or name[-1].lower() in PLACE_WORDS):
            person.thing = True
        if title:
            self._bind(" ".join(title), person)
        before = self._title_before(words, i)
        if before:
            self._bind(before, person)
        after = self._title_after(words, j)
        if after:
            self._bind(after, person)

    def _title_before(self, words: list[str], i: int) -> str | None:
        """'Kremlin spokesman' in 'Kremlin spokesman Dmitry Peskov'."""
        k = i - 1
        if k < 0 or words[k].lower() not in TITLE_NOUNS:
            return None
        parts = [words[k]]
        k -= 1
        while k >= 0 and len(parts) < 4 and words[k][0].isalpha() and words[k].lower() not in ("the", "a", "an", "and", "said", "says", "by", "to", "with", "of"):
            parts.insert(0, words[k])
            k -= 1
        return " ".join(parts)

    def _title_after(self, words: list[str], j: int) -> str | None:
        """'the Kremlin spokesman' in 'Dmitry Peskov, the Kremlin spokesman, said'."""
        if j >= len(words) or words[j] != ",":
            return None
        parts: list[str] = []
        k = j + 1
        while k < len(words) and words[k] not in (",", ".", ";", ":", "(", ")") and len(parts) < 8:
            parts.append(words[k])
            k += 1
        if not any(p.lower() in TITLE_NOUNS for p in parts[:4]):
            return None
        closed = k < len(words) and words[k] in (",", ")", ".")
        verbs = {"said", "says", "told", "added", "warned", "announced", "stressed", "noted"}
        if not closed or len(parts) > 7 or verbs & {p.lower() for p in parts}:
            return None  # "Condoleezza Rice, the prime minister said ...": not apposition
        return " ".join(parts)

    def _bind(self, title: str, person: Person) -> None:
        self.bound.append((title.lower(), person))
        person.titles.append(title)
        person.evidence = True
        person.learn_gender(title.split())

    def settle(self) -> None:
        """After every paragraph is learned: a name whose last word also stands alone in the
        article ("Peskov said", "Li's team"), not inside a longer capitalised run, is a person's."""
        waiting = {p.name.split()[-1]: p for p in self.people
                   if not p.evidence and not p.is_organisation and len(p.name.split()) >= 2}
        if not waiting:
            return
        for words in self._words:
            for k, word in enumerate(words):
                if not word[:1].isupper():
                    continue
                person = waiting.get(clean(word))
                if person is None or person.evidence:
                    continue
                before = words[k - 1] if k else ""
                after = words[k + 1] if k + 1 < len(words) else ""
                named_before = (is_cap(before) and before[0].isalpha()
                                and before.lower() not in STARTERS)
                if not named_before and not (is_cap(after) and after[0].isalpha()):
                    person.evidence = True

    def mentioned_in(self, text: str) -> list[str]:
        """The people of the article whose surname (or full name) this text contains."""
        lowered = set(re.findall(r"[\w'’-]+", text.lower()))
        return [p.name for p in self.people
                if not p.is_organisation and p.parts and p.parts[-1] in lowered]

    def person(self, name: str) -> Person | None:
        for person in self.people:
            if person.name == name:
                return person
        return None

    def add(self, name: str) -> Person:
        """The person of a full name (the first one the article introduced with these parts)."""
        key = [p.lower() for p in name.split() if p.lower() not in KEPT_HONORIFICS]
        for person in self.people:
            if person.parts == key:
                return person
        person = Person(name)
        self.people.append(person)
        return person

    def resolve_name(self, words: list[str]) -> str | None:
        """A capitalised mention ('Peskov', 'Mr Peskov', 'Dmitry Peskov') -> its full name."""
        last = len(words) - 1  # a possessive inside keeps its 's ("the Pentagon's ... Office")
        words = [w if i < last and w.endswith(("'s", "’s")) else clean(w)
                 for i, w in enumerate(words)]
        honoured = any(w.lower().rstrip(".") in HONORIFICS for w in words[:2])
        title, name = split_title(strip_starters(words))
        name = strip_starters(name)
        if not name:
            if not title:
                return None
            return self.resolve_title(" ".join(title)) or " ".join(title)
        key = [p.lower() for p in name if p.lower() not in KEPT_HONORIFICS]
        if not key:
            return None
        if len(key) == 1 and key[0] in self.aliases:
            return self.aliases[key[0]]
        for person in self.people:  # full name, or the surname of an introduced name
            parts = person.parts
            if parts == key or (len(key) == 1 and parts and parts[-1] == key[0]):
                return person.name
        for person in self.people:  # a first name or a middle part (never "Mr Howard")
            if len(key) == 1 and key[0] in person.parts and len(key[0]) > 2 and not honoured:
                return person.name
        return " ".join(name)

    def by_last_word(self, noun: str) -> str | None:
        """'the party' -> 'Labour Party': the first name the article gives ending in that noun."""
        for person in self.people:
            if person.parts and person.parts[-1] == noun.lower():
                return person.name
        return None

    def resolve_title(self, phrase: str) -> str | None:
        """'the Kremlin spokesman' -> the person that title is bound to (None: unbound)."""
        given = phrase.split()
        if given and given[0].lower() in ("a", "an", "one", "another"):
            return None  # "a State Department spokesman": someone else
        words = [w.lower() for w in given if w.lower() not in ("the", "a", "an")]
        heads = [w for w in words if w in TITLE_NOUNS]
        if not heads:
            return None
        capitals = {w.lower() for w in given if w[:1].isupper() and w.lower() != "the"}
        head = heads[-1]
        best, best_score = None, 0
        for title, person in self.bound:
            tw = title.split()
            if head not in tw or not capitals <= set(tw):
                continue
            if (set(tw) & DISTINGUISHING) - set(words):  # "shadow home secretary" is not
                continue                                 # "the home secretary"
            score = 1 + len(set(words) & set(tw))
            if score > best_score:
                best, best_score = person.name, score
        return best
