"""File bytes -> text: binary sniffing and a decoding that never fails.

Used by every text-like reader (``.txt``/``.md`` here, saved web pages in :mod:`qa.ingest.html`).
Stdlib only.
"""

from __future__ import annotations

__all__ = ["decode_text", "looks_binary"]

_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_text(data: bytes) -> str:
    """Decode file bytes: UTF-8 (BOM stripped), else cp1252, else latin-1. Never raises.

    Args:
        data: Raw file content.

    Returns:
        The decoded text.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def looks_binary(data: bytes) -> bool:
    """Whether bytes look like a binary file rather than text (the caller skips those).

    Args:
        data: Raw file content (only the first 8 KiB are inspected).

    Returns:
        True for known binary signatures, NUL bytes or many control characters.
    """
    sample = data[:8192]
    if not sample or sample.startswith(_UTF16_BOMS):
        return False
    if sample.startswith(_BINARY_MAGIC) or b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in b"\t\n\r\x0b\x0c\x1b")
    return control / len(sample) > 0.1
