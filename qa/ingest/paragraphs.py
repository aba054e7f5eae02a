"""Plain text -> clean lines -> paragraphs (hard-wrapped lines joined).

General text handling shared by the plain-text reader's steps: unified line breaks and spaces,
blank-line separated blocks, and the few sentence/word helpers the junk and header rules use.
Stdlib only.
"""

from __future__ import annotations

import re

__all__ = ["JOIN_WORDS", "SENTENCE_END", "SPACES", "normalise_lines", "paragraphs", "words"]

_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
#: Runs of spaces other than line breaks.
SPACES = re.compile(r"[^\S\n]+")

_TERMINAL = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
#: A paragraph that ends a sentence (closing quotes and brackets allowed after the stop).
SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
#: English function words: a line ending in one continues on the next line; menus lack them.
JOIN_WORDS = frozenset(
    "a an the of and or but to in on at by for from with that as is was are were his her "
    "its their our your this these those who which than into over after before".split()
)


def words(text: str) -> list[str]:
    """Whitespace-separated words."""
    return text.split()


def normalise_lines(text: str) -> list[str]:
    """Unify line breaks and spaces; return stripped lines ('' for blank lines).

    Args:
        text: Decoded file content.

    Returns:
        The lines, with invisible characters removed and runs of spaces collapsed.
    """
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = SPACES.sub(" ", text)
    return [line.strip() for line in text.split("\n")]


def _is_wrapped(prev: str, nxt: str) -> bool:
    """Whether ``nxt`` continues ``prev`` (a hard-wrapped line) rather than starting anew."""
    if _TERMINAL.search(prev):
        return False
    if nxt[:1].islower():
        return True
    last = prev.rsplit(" ", 1)[-1].lower()
    return prev.endswith((",", "-", "–", "—", "(", "&")) or last in JOIN_WORDS


def _unwrap(block: list[str]) -> list[str]:
    """Join hard-wrapped lines of one block; other lines stay separate paragraphs."""
    out = [block[0]]
    for line in block[1:]:
        if _is_wrapped(out[-1], line):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def paragraphs(lines: list[str]) -> list[str]:
    """Paragraphs: blank-line separated blocks, or one per line when there are no blanks.

    Args:
        lines: Normalised lines (see :func:`normalise_lines`).

    Returns:
        Non-empty paragraphs; within a block, hard-wrapped lines are joined.
    """
    content = [line for line in lines if line]
    first = next((i for i, line in enumerate(lines) if line), 0)
    last = max((i for i, line in enumerate(lines) if line), default=0)
    if all(lines[first : last + 1]):
        return content
    found: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:
        if line:
            block.append(line)
        elif block:
            found.extend(_unwrap(block))
            block = []
    return found
