"""Which outlet published an article, from what its own text says about itself.

Only self-references count: a copyright line (``© 2024 Reuters``), a subscription or
"our website" blurb naming the site, an invitation to read the outlet's own report. A source the
story merely cites ("..., writes Bloomberg", "according to TASS", "Additional reporting by
Reuters") is not the outlet. When the text names no outlet, the host of the article's URL is
used. Stdlib only.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from qa.ingest.junk import junk_rule
from qa.ingest.paragraphs import words

__all__ = ["find_outlet", "url_outlet"]

_NAME = r"(?P<name>[A-Z][\w&.'’-]*(?: (?:[A-Z][\w&.'’-]*|of|the|de|du|al)){0,4})"
# "<Name>('s) website/app ...": the subject of a paywall blurb is the outlet itself.
_SITE_SUBJECT = re.compile(
    r"^(?:The )?" + _NAME + r"(?:['’]s)? (?:website|web site|site|app|service|newsletter|edition)\b"
)
# "© 2024 Reuters", "Copyright (c) 2021 Example News Ltd."
_COPYRIGHT = re.compile(
    r"^(?:©|\([cC]\)|[Cc]opyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?,?\s*)?"
    r"(?P<name>[A-Z][\w&'’-]*(?:\.\w+)*(?: [A-Z][\w&'’-]*(?:\.\w+)*){0,4})"
)
# A teaser inviting the reader to the outlet's own piece: "Read in Realnoe Vremya's report
# what ...", "Find out more in Example Times' interview", "Watch on Example TV's channel".
_OWN_PIECE = re.compile(
    r"\b(?:Read|Find out|Learn|See|Watch|Listen)(?: more| the (?:full )?(?:story|report|details))?"
    r" (?:in|on|at) (?:the )?(?P<name>[A-Z][\w.&-]*(?: [A-Z][\w.&-]*){0,3})(?:['’]s?)? (?:report|"
    r"article|story|piece|material|interview|coverage|review|analysis|channel|podcast|website)\b"
)
_NOT_NAMES = frozenset(("all", "the", "all rights", "this", "our", "your", "website", "site", "app"))


def _self_named(paragraphs: list[str]) -> list[str]:
    """Names the text gives itself: paywall-blurb subjects, copyright holders, own-piece teasers."""
    blurbs = [par for par in paragraphs if junk_rule(par) == "paywall-blurb"]
    found: list[str] = []
    for pattern, pars in ((_SITE_SUBJECT, blurbs), (_COPYRIGHT, paragraphs), (_OWN_PIECE, paragraphs)):
        for par in pars:
            match = pattern.search(par) if len(words(par)) <= 80 else None
            if match:
                found.append(match.group("name"))
    return found


_NOT_NAMES = frozenset(("all", "the", "all rights"))


def find_outlet(paragraphs: list[str]) -> str | None:
    """The outlet an article names as itself, else None.

    Args:
        paragraphs: All of the article's paragraphs, junk included (the blurbs that name the
            outlet are junk for the body).

    Returns:
        The outlet's name as written, e.g. ``'Anadolu Agency'``.
    """
    for name in _self_named(paragraphs):
        name = re.sub(r"\s+All$", "", name).strip(" .,-")
        if name and name.lower() not in _NOT_NAMES:
            return name
    return None


def url_outlet(url: str | None) -> str | None:
    """The URL's host without 'www.', e.g. 'https://www.rt.com/news/1' -> 'rt.com'."""
    if not url:
        return None
    try:
        host = urlparse(url if "://" in url else f"http://{url}").hostname or ""
    except ValueError:  # e.g. 'http://[abc': an unclosed IPv6 bracket
        return None
    host = host.removeprefix("www.")
    return host or None
