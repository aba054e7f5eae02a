"""Which encoder serves a model: the hashing test embedder, or sentence-transformers."""

from __future__ import annotations

from typing import Any

from qa.embed import hashing
from qa.embed.model import ModelRef


def passage_encoder(ref: ModelRef, **options: Any) -> Any:
    """The indexing encoder for ``ref`` (``options`` go to PassageEncoder, e.g. ``device``)."""
    if ref.name == hashing.NAME:
        return hashing.HashingEncoder()
    from qa.embed.passage_encoder import PassageEncoder

    return PassageEncoder(ref, **options)
