"""A ``--backend`` value: which engine, where, and which collection (parsed, recorded, described).

Owned here so that the engines (``milvus``, ``milvus_writer``) and the package's factories
(``qa.backends``) import it one way.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from qa.errors import BadInputError

LOCAL = "local"
TOKEN_ENV = "QA_MILVUS_TOKEN"
DEFAULT_COLLECTION = "qa_passages"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$")
_USAGE = "Use --backend local, milvus:./archive.db or milvus://HOST:19530"


@dataclass(frozen=True)
class BackendSpec:
    """A parsed ``--backend`` value.

    Attributes:
        kind: ``local`` or ``milvus``.
        uri: for Milvus, the absolute path of a Milvus Lite file or ``http(s)://HOST:PORT``.
        collection: the Milvus collection.
    """

    kind: str = LOCAL
    uri: str = ""
    collection: str = ""

    @property
    def lite(self) -> bool:
        return self.kind == "milvus" and not self.uri.startswith(("http://", "https://"))

    def describe(self) -> str:
        """The spec as recorded (and accepted again by :func:`parse_backend`)."""
        if self.kind == LOCAL:
            return LOCAL
        if self.lite:
            suffix = "" if self.collection == DEFAULT_COLLECTION else f"#{self.collection}"
            return f"milvus:{self.uri}{suffix}"
        scheme = "milvus+https" if self.uri.startswith("https://") else "milvus"
        return f"{scheme}://{self.uri.split('://', 1)[1]}/{self.collection}"


def parse_backend(text: str, cwd: Path | None = None) -> BackendSpec:
    """A ``--backend`` value as a spec; a Milvus Lite path is made absolute (from ``cwd``).

    Raises:
        BadInputError: anything else, with the accepted forms.
    """
    value = (text or "").strip()
    if value in ("", LOCAL):
        return BackendSpec()
    for scheme, http in (("milvus://", "http"), ("milvus+https://", "https")):
        if value.startswith(scheme):
            return _server(value, value[len(scheme):], http)
    if value.startswith("milvus:"):
        return _lite(value, value[len("milvus:"):], cwd)
    raise BadInputError(f"unknown backend {value!r}", _USAGE)


def _server(value: str, rest: str, http: str) -> BackendSpec:
    host, _, name = rest.partition("/")
    name = name.strip("/") or DEFAULT_COLLECTION
    match = _HOST.match(host)
    if not host or not match or (match.group(1) and not 0 < int(match.group(1)) < 65536):
        raise BadInputError(f"backend {value!r} has no usable HOST:PORT", _USAGE)
    if not _NAME.match(name):
        raise BadInputError(
            f"backend {value!r}: {name!r} is not a Milvus collection name",
            "Use letters, digits and underscores, starting with a letter",
        )
    port = "" if match.group(1) else ":19530"
    return BackendSpec("milvus", f"{http}://{host}{port}", name)


def _lite(value: str, rest: str, cwd: Path | None) -> BackendSpec:
    path, _, name = rest.partition("#")
    name = name or DEFAULT_COLLECTION
    if not path.endswith(".db") or path.endswith("/.db"):
        raise BadInputError(
            f"backend {value!r}: a Milvus Lite file must end in .db", "e.g. --backend milvus:./archive.db"
        )
    if not _NAME.match(name):
        raise BadInputError(f"backend {value!r}: {name!r} is not a Milvus collection name")
    return BackendSpec("milvus", os.path.abspath(os.path.join(cwd or os.getcwd(), path)), name)


def recorded(meta: dict[str, str]) -> BackendSpec:
    """The backend an index folder was built for (``local`` when none is recorded)."""
    return parse_backend(meta.get("backend", LOCAL))


def token(given: str | None = None) -> str | None:
    """The Milvus token: the one given, else ``$QA_MILVUS_TOKEN``."""
    return given or os.environ.get(TOKEN_ENV) or None
