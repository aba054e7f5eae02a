"""Page-junk rules: paragraphs that are page furniture, not the story.

Scraped pages carry menus, share buttons, cookie notices, captions, player timers and
subscription blurbs around an article. Each rule here is a named, context-free test of one
paragraph (plus one rule that looks at what follows); ``docs/text-rules.md`` documents each with
its reason and an example. No rule names an outlet. Paragraphs over 80 words are never junk: page
furniture is short, and a false positive on a long paragraph would lose body text.
Stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from qa.ingest.paragraphs import JOIN_WORDS, SENTENCE_END, words

__all__ = ["RULES", "Dropped", "Rule", "drop_junk", "junk_rule"]

#: (reason, paragraph) pairs a caller collects to see what was dropped and why.
Dropped = list[tuple[str, str]]

_STANDALONE = re.compile(
    r"^(?:leave a (?:reply|comment)|post a comment|(?:\d+ )?comments?|add comment"
    r"|share(?: this)?(?: article| story| post| page)?(?: on \w+)?|advertisement|advert"
    r"|sponsored(?: content)?|(?:read|see) (?:more|also|next)|continue reading|related"
    r"(?: articles| stories| news| content| posts| topics)?|more on this story|most read"
    r"|top stories|you may also like|recommended(?: for you)?|subscribe(?: now)?"
    r"|sign up(?: now)?|sign in|log in|log ?out|sign out|register|my account|follow us(?: on \w+)?"
    r"|privacy(?: policy)?|terms of (?:use|service)|contact us|about us|print(?: this)?|e-?mail"
    r"|tweet|facebook|twitter|whatsapp|telegram|linkedin|skip to (?:main )?content"
    r"|back to top|menu|home|loading|click here(?: .*)?|tags?|topics?|copy link)"
    r"[\s.:!>»›→…|-]*$",
    re.I,
)
_READ_MORE = re.compile(r"^(?:read|see|watch|listen)(?: more| also| next)?\s*[:›»>|-]", re.I)
_TIMER = re.compile(r"^(?:\d{1,2}:)?\d{1,2}:\d{2}(?:\s*[/|-]?\s*(?:\d{1,2}:)?\d{1,2}:\d{2})*$")
_MEDIA_LABEL = re.compile(
    r"^(?:podcasts?|videos?|audio|listen|watch|gallery|photos?|live|play|pause)[\s:.]*$", re.I
)
_COOKIE = re.compile(r"\bcookies?\b", re.I)
# A cookie notice speaks to the reader; a news sentence about cookies does not.
_COOKIE_READER = re.compile(
    r"\b(?:we|our|you|your|this (?:web)?site|by continuing|accept|consent|agree"
    r"|cookie (?:policy|settings|preferences|notice))\b",
    re.I,
)
# Paywall and self-promotion blurbs, in three general shapes (none names an outlet):
_PAYWALL = re.compile(
    # a call to the reader: "Subscribe to our newsletter", "Please contact us for subscription
    # options", "Log in or register to continue reading"
    r"\b(?:subscribe|sign up|register|log in|contact us)\b[^.!?]{0,60}?"
    r"\b(?:subscri\w*|newsletters?|(?:full|unlimited) access|to (?:read|continue|keep reading))"
    # access limited to subscribers: "for subscribers only", "subscriber-only content"
    r"|\b(?:subscribers?[- ]only|only (?:available )?(?:to|for) (?:our )?subscribers"
    r"|(?:available|exclusive) (?:only )?to (?:our )?subscribers"
    r"|subscription (?:options|plans|offers|required|packages))\b"
    # the site describing itself: "<Name> website contains only a portion of the news stories",
    # "this app offers a selection of our reports"
    r"|\b(?:website|web site|site|app|service|edition)\b (?:only )?"
    r"(?:contains|carries|offers|shows|publishes|provides|features) (?:only )?(?:an? )?"
    r"(?:portion|part|selection|summary|summaries|excerpts?) of (?:the |our |its )?"
    r"(?:news|stories|reports|reporting|articles|content|coverage)\b",
    re.I,
)
_COPYRIGHT = re.compile(r"^(?:©|\(c\)\s*\d{4})|all rights reserved", re.I)
_COPYRIGHT_WORD = re.compile(r"^copyright\b(?=.*(?:©|\(c\)|\b(?:19|20)\d{2}\b))", re.I)
_CAPTION = re.compile(
    r"\b(?:photo|image|picture|photograph|pic|illustration|video|credit)s?(?: credit)?\s*:\s*\S"
    r"|\b(?:file photo|getty images|shutterstock|image caption|image source|photo credit"
    r"|ap photo|afp photo|reuters photo|via reuters|epa-efe)\b",
    re.I,
)
_CREDIT = re.compile(
    r"^\(?(?:additional )?(?:reporting|writing|editing|edited|compiled|translated|research"
    r"|fact-checking|produced|graphics|written) by\b",
    re.I,
)
# Icon-font and sprite class names that leak into scraped text ("cameraicon", "fa-twitter").
_UI_TOKEN = re.compile(r"icon|glyph|^fa-|^svg", re.I)
_BREADCRUMB_SEP = re.compile(r"\s[>|›»/]\s")
_PUNCTUATION = re.compile(r"[-.,;:!?\"“”()]")


def _is_menu(par: str) -> bool:
    """Icon/menu word runs: many icon-class tokens, or long lowercase-only word lists."""
    found = words(par)
    icons = sum(1 for w in found if _UI_TOKEN.search(w))
    if icons >= 3 and icons >= 0.3 * len(found):
        return True
    if len(found) < 8 or any(c.isupper() for c in par) or _PUNCTUATION.search(par):
        return False
    return sum(1 for w in found if w in JOIN_WORDS) < 0.1 * len(found)


def _is_breadcrumb(par: str) -> bool:
    """Navigation trails like 'Home > News > World' or 'News | Sport | Weather'."""
    parts = [p.strip() for p in _BREADCRUMB_SEP.split(par)]
    return len(parts) >= 3 and all(0 < len(words(p)) <= 3 for p in parts)


def _is_caption(par: str) -> bool:
    """Photo credits and captions: 'X. Photo: Y / Agency', '... FILE PHOTO', 'Getty Images'."""
    if not _CAPTION.search(par):
        return False
    return len(words(par)) <= 12 or not SENTENCE_END.search(par)


def _is_copyright(par: str) -> bool:
    """'© 2024 Reuters', '(c) 2021 X', 'Copyright 2024 X', '... All rights reserved.'."""
    if _COPYRIGHT.search(par) or _COPYRIGHT_WORD.match(par):
        return True
    return par.lower().startswith("copyright") and len(words(par)) <= 3


def _is_cookie_notice(par: str) -> bool:
    """'This website uses cookies ...', 'Accept cookies', 'Cookie policy', 'Use of cookies'."""
    if not _COOKIE.search(par):
        return False
    return len(words(par)) <= 4 or _COOKIE_READER.search(par) is not None


@dataclass(frozen=True)
class Rule:
    """One page-junk rule.

    Attributes:
        name: Short name, used in ``docs/text-rules.md`` and by ``bench/text_rules.py``.
        max_words: The rule only looks at paragraphs of at most this many words.
        matches: The test of one paragraph.
    """

    name: str
    max_words: int
    matches: Callable[[str], bool]


def _searcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda par: pattern.search(par) is not None


def _matcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda par: pattern.match(par) is not None


#: The context-free rules, tried in order; the first that fires names the reason.
RULES: tuple[Rule, ...] = (
    Rule("no-text", 80, lambda par: not any(c.isalnum() for c in par)),
    Rule("ui-label", 80, _matcher(_STANDALONE)),
    Rule("player-time", 80, _matcher(_TIMER)),
    Rule("menu", 80, _is_menu),
    Rule("breadcrumb", 80, _is_breadcrumb),
    Rule("paywall-blurb", 60, _searcher(_PAYWALL)),
    Rule("cookie-notice", 60, _is_cookie_notice),
    Rule("copyright", 40, _is_copyright),
    Rule("credit", 40, _matcher(_CREDIT)),
    Rule("read-more", 25, _matcher(_READ_MORE)),
    Rule("caption", 30, _is_caption),
)


def matches_any(par: str, names: Collection[str]) -> bool:
    """Whether ``par`` matches one of the named rules (within each rule's word limit).

    For readers that find the body another way (HTML) but share the page-furniture rules.
    """
    n = len(words(par))
    return any(n <= rule.max_words and rule.matches(par) for rule in RULES if rule.name in names)


def junk_rule(par: str) -> str | None:
    """The name of the first context-free junk rule that ``par`` matches, else None.

    Args:
        par: One paragraph.

    Returns:
        A rule name from :data:`RULES`, or None when the paragraph is not junk.
    """
    n = len(words(par))
    for rule in RULES:
        if n <= rule.max_words and rule.matches(par):
            return rule.name
    return None


def drop_junk(paragraphs: list[str], dropped: Dropped | None = None) -> list[str]:
    """Remove junk paragraphs, and media labels ('Podcasts') with nothing real after them.

    Args:
        paragraphs: The article's paragraphs in order.
        dropped: When given, each removed paragraph is appended as ``(rule name, paragraph)``.

    Returns:
        The paragraphs that are not junk, in order.
    """
    reasons = [junk_rule(p) for p in paragraphs]
    kept: list[str] = []
    for i, par in enumerate(paragraphs):
        reason = reasons[i]
        if reason is None and _MEDIA_LABEL.match(par):
            rest = reasons[i + 1 :]
            if all(rest) or (rest and _TIMER.match(paragraphs[i + 1])):
                reason = "media-label"
        if reason is None:
            kept.append(par)
        elif dropped is not None:
            dropped.append((reason, par))
    return kept
