"""The retrieval choices a question can be asked with (light: the CLI imports it at start)."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """Which retrievers rank the passages."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


class Fusion(StrEnum):
    """How hybrid mode combines the dense and lexical rankings."""

    CONVEX = "convex"
    RRF = "rrf"
