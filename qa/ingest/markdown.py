"""Markdown -> plain lines: front matter, headings, links, emphasis and images undone.

A light line-based reading, enough for saved articles (not a CommonMark parser): the text a
reader sees stays, the markup goes. Stdlib only.
"""

from __future__ import annotations

import re

from qa.ingest.keylines import key_value
from qa.ingest.paragraphs import SPACES

__all__ = ["front_matter", "markdown_lines"]

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)|\[([^\]]+)\]\[[^\]]*\]")
_MD_REF_DEF = re.compile(r"^\[[^\]]+\]:\s*\S+.*$")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)(?:\s+#+)?$")
_MD_RULE = re.compile(r"^(?:[-*_]\s*){3,}$")
_MD_EMPHASIS = re.compile(r"(?<![\w*])(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_PREFIX = re.compile(r"^(?:>\s*)+|^[-*+]\s+")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


def front_matter(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split YAML-ish ``---`` front matter off the top of markdown lines.

    Args:
        lines: Normalised lines.

    Returns:
        Known metadata fields found in the front matter, and the lines after it.
    """
    start = next((i for i, line in enumerate(lines) if line), None)
    if start is None or lines[start] != "---":
        return {}, lines
    end = next((i for i in range(start + 1, len(lines)) if lines[i] in ("---", "...")), None)
    if end is None:
        return {}, lines
    meta: dict[str, str] = {}
    for line in lines[start + 1 : end]:
        kv = key_value(line)
        if kv:
            meta.setdefault(*kv)
    return meta, lines[end + 1 :]


def _inline(line: str) -> str:
    """Strip inline markdown from one line: images, links, emphasis, code ticks, tags."""
    line = _MD_IMAGE.sub("", line)
    line = _MD_LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), line)
    for _ in range(2):
        line = _MD_EMPHASIS.sub(r"\2", line)
    line = line.replace("`", "")
    line = _HTML_TAG.sub("", line)
    return SPACES.sub(" ", line).strip()


def markdown_lines(lines: list[str]) -> list[str]:
    """Turn markdown lines into plain lines; headings become their own blocks.

    Args:
        lines: Normalised lines after the front matter.

    Returns:
        Plain lines ('' where a block ends).
    """
    out: list[str] = []
    for line in lines:
        if _MD_RULE.match(line) or _MD_REF_DEF.match(line):
            out.append("")
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            out.extend(["", _inline(heading.group(1)), ""])
            continue
        out.append(_inline(_MD_PREFIX.sub("", line)))
    return out
