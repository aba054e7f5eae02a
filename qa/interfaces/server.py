"""`qa serve`: the HTTP API and search page over one loaded index (FastAPI, served by uvicorn).

    GET  /ask?q=...&k=5&mode=...&outlet=...   the `qa ask --json` object
    POST /ask {"question": ..., "k": 5, ...}  the same
    GET  /sources?<filters>                   the `qa sources --json` list
    GET  /show?ref=PATH[#RECORD]              the `qa show --json` object (404 if not indexed)
    GET  /quotes?speaker=...&about=...&k=...  the `qa quotes --json` list (speakers=true:
                                              [{"speaker", "quotes"}] as `qa quotes --speakers`)
    GET  /healthz                             {"status": "ok"} (never needs the token)
    GET  /  and  /article?ref=...             the search page and article view (HTML)

Errors are JSON ``{"error": "..."}``: 413 (question over 2,000 characters, body over 64 KB),
422 (bad k, mode or filter), 404, 401 (token missing or wrong), 400 (a Host header that is not
this machine, when bound to loopback: a guard against DNS rebinding). No CORS headers are sent.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, AsyncIterator, Iterator, Optional

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.errors import BadInputError, QAError
from qa.interfaces.service import NotInIndexError, QAService, TooLargeError

if TYPE_CHECKING:
    from qa.search.filters import Filters

MAX_BODY_BYTES = 64 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
OPEN_PATHS = frozenset({"/healthz"})
HTML_PATHS = frozenset({"/", "/article", "/static/style.css"})
POST_KEYS = frozenset({"question", "k", "mode", "fusion", "outlet", "author", "title", "since",
                       "until", "path", "undated"})
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class ServerSettings:
    """What `qa serve` was asked for.

    Attributes:
        index_dir: the index folder.
        model: the --model option (checked against the index's), or None.
        token: the bearer token every request but /healthz must carry, or None.
        host: the address it binds to; on loopback, requests must name a loopback Host.
        workers: searchers answering in parallel (1: one at a time, behind a lock).
        max_body_bytes: the largest request body accepted.
    """

    index_dir: Path
    model: str | None = None
    token: str | None = None
    host: str = "127.0.0.1"
    workers: int = 1
    max_body_bytes: int = MAX_BODY_BYTES
    allowed_hosts: tuple[str, ...] | None = field(default=None)

    def host_names(self) -> tuple[str, ...] | None:
        """The Host header names accepted; None accepts any (a public bind has a token)."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return ("127.0.0.1", "localhost", "[::1]") if is_loopback(self.host) else None


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server on this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public address


def check_bind(host: str, token: str | None) -> None:
    """Refuse a public bind without a token.

    Raises:
        QAError: ``host`` is not loopback and no token was given.
    """
    if not is_loopback(host) and not token:
        raise QAError(
            f"refusing to serve on {host} without a token: anyone who can reach it could query "
            "the index",
            "Pass --token TOKEN (or set QA_TOKEN), or serve on 127.0.0.1",
        )


def create_app(settings: ServerSettings, service: QAService | None = None) -> FastAPI:
    """The FastAPI app for ``settings``; opens the index now (errors surface at start-up).

    Args:
        service: an already open service to share (the caller closes it); by default the
            app opens one and closes it at shutdown.
    """
    own = service is None
    svc = service or QAService(settings.index_dir, settings.model, workers=settings.workers)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if own:
            svc.close()

    app = FastAPI(title="qa", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.service = svc
    _add_error_handlers(app)
    _add_api_routes(app, svc)
    _add_page_routes(app, svc)
    app.add_middleware(Guard, settings=settings)  # type: ignore[arg-type]
    return app


# ---- JSON API ------------------------------------------------------------------------------
def _filters(
    outlet: list[str] | None, author: str | None, title: str | None, since: str | None,
    until: str | None, path: list[str] | None, undated: bool,
) -> Filters:
    from qa.search.filters import Filters

    return Filters.build(outlet, author, title, since, until, path, undated)


Many = Annotated[Optional[list[str]], Query()]


async def _json_body(request: Request) -> dict[str, Any]:
    """The POST body as a JSON object with only known keys (the Guard capped its size)."""
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadInputError('the body is not JSON', 'Send {"question": "...", "k": 5}') from None
    if not isinstance(body, dict):
        raise BadInputError("the body must be a JSON object", 'Send {"question": "..."}')
    unknown = sorted(set(body) - POST_KEYS)
    if unknown:
        raise BadInputError(
            f"unknown key {unknown[0]!r} in the body", f"Use: {', '.join(sorted(POST_KEYS))}"
        )
    return body


def _add_api_routes(app: FastAPI, svc: QAService) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ask")
    def ask_get(
        q: str, k: int = 5, mode: str = "hybrid", fusion: str = "convex", outlet: Many = None,
        author: str | None = None, title: str | None = None, since: str | None = None,
        until: str | None = None, path: Many = None, undated: bool = False,
    ) -> dict[str, Any]:
        filters = _filters(outlet, author, title, since, until, path, undated)
        return svc.ask_dict(q, k, mode=mode, fusion=fusion, filters=filters)

    @app.post("/ask")
    def ask_post(body: Annotated[dict[str, Any], Depends(_json_body)]) -> dict[str, Any]:
        from qa.search.filters import Filters

        question, k = body.get("question"), body.get("k", 5)
        if not isinstance(question, str):
            raise BadInputError('the body needs a "question" string')
        filters = Filters.from_mapping(body)
        mode, fusion = body.get("mode", "hybrid"), body.get("fusion", "convex")
        return svc.ask_dict(question, k, mode=mode, fusion=fusion, filters=filters)

    @app.get("/sources")
    def sources(
        outlet: Many = None, author: str | None = None, title: str | None = None,
        since: str | None = None, until: str | None = None, path: Many = None,
        undated: bool = False,
    ) -> list[dict[str, Any]]:
        from qa.search.results import article_to_dict

        filters = _filters(outlet, author, title, since, until, path, undated)
        return [article_to_dict(a) for a in svc.sources(filters)]

    @app.get("/quotes")
    def quotes(
        speaker: str | None = None, about: str | None = None, k: int | None = None,
        sort: str | None = None, speakers: bool = False, outlet: Many = None,
        author: str | None = None, title: str | None = None, since: str | None = None,
        until: str | None = None, path: Many = None, undated: bool = False,
    ) -> list[dict[str, Any]]:
        filters = _filters(outlet, author, title, since, until, path, undated)
        if speakers:
            return svc.speakers(filters)
        return svc.quotes_list(speaker=speaker, about=about, filters=filters, k=k, sort=sort)

    @app.get("/show")
    def show(ref: str) -> dict[str, Any]:
        from qa.search.results import show_to_dict

        return show_to_dict(*svc.show(ref))


# ---- HTML pages ----------------------------------------------------------------------------
def _add_page_routes(app: FastAPI, svc: QAService) -> None:
    from qa.interfaces import pages

    @app.get("/", response_class=HTMLResponse)
    def home(
        q: str = "", k: str = "5", mode: str = "hybrid", outlet: str = "", since: str = "",
        until: str = "",
    ) -> HTMLResponse:
        form = {"q": q, "k": k, "mode": mode, "outlet": outlet, "since": since, "until": until}
        outlets = svc.outlets()
        if not q.strip():
            return _html(pages.search_page(form, outlets))
        try:
            number = int(k) if k.strip() else 5
            filters = _filters([outlet] if outlet else None, None, None, since or None,
                               until or None, None, False)
            answer = svc.ask(q, number, mode=mode, filters=filters)
        except ValueError:
            message = f"k must be a whole number, not {k!r}"
            return _html(pages.search_page(form, outlets, error=message), 422)
        except QAError as exc:
            return _html(pages.search_page(form, outlets, error=str(exc)), _status(exc))
        return _html(pages.search_page(form, outlets, answer))

    @app.get("/article", response_class=HTMLResponse)
    def article(ref: str = "") -> HTMLResponse:
        try:
            return _html(pages.article_page(*svc.show(ref)))
        except QAError as exc:
            return _html(pages.error_page(str(exc)), _status(exc))

    @app.get("/static/style.css")
    def style() -> Response:
        return Response(pages.static_text("style.css"), media_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers={"Content-Security-Policy": CSP})


# ---- errors ------------------------------------------------------------------------------
def _status(exc: Exception) -> int:
    if isinstance(exc, TooLargeError):
        return 413
    if isinstance(exc, NotInIndexError):
        return 404
    if isinstance(exc, BadInputError):
        return 422
    return 503  # the index is missing, busy or damaged: the server is fine, the data is not


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QAError)
    async def qa_error(_: Request, exc: QAError) -> JSONResponse:
        return _error(_status(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        first = problems[0] if problems else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return _error(422, f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(sqlite3.DatabaseError)
    async def damaged(_: Request, exc: sqlite3.DatabaseError) -> JSONResponse:
        return _error(503, f"the index cannot be read ({exc}); run `qa index --rebuild`")


# ---- the guard: host, token, body size -----------------------------------------------------
class Guard:
    """Pure ASGI middleware run before routing: Host check, token check, body-size cap.

    It reads the whole body (at most ``max_body_bytes``) before the app sees the request, so
    a chunked upload without Content-Length cannot grow past the limit either.
    """

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = settings.host_names()
        self.token = settings.token.encode() if settings.token else None

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is None:
            replay, refusal = await self._read_body(headers, receive)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, replay, send)

    def _refusal(
        self, scope: MutableMapping[str, Any], headers: dict[str, bytes]
    ) -> Response | None:
        if self.hosts is not None:
            host = headers.get("host", b"").decode("latin-1").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.hosts:
                names = ", ".join(self.hosts)
                return _error(400, f"this server answers only to {names}, not {host!r}")
        if self.token is not None and scope["path"] not in OPEN_PATHS:
            if not _authorized(headers.get("authorization", b""), self.token):
                html = scope["path"] in HTML_PATHS
                challenge = 'Basic realm="qa", charset="UTF-8"' if html else 'Bearer realm="qa"'
                return _error(401, "missing or wrong token: send Authorization: Bearer TOKEN",
                              {"WWW-Authenticate": challenge})
        return None

    async def _read_body(
        self, headers: dict[str, bytes], receive: Any
    ) -> tuple[Any, Response | None]:
        limit = self.settings.max_body_bytes
        too_big = _error(413, f"the request body is over the limit of {limit // 1024} KB")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return receive, too_big if length.isdigit() else _error(400, "bad Content-Length")
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return receive, None  # disconnected: let the app see it
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return receive, too_big
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay, None


def _authorized(header: bytes, token: bytes) -> bool:
    """Bearer TOKEN, or Basic with TOKEN as the password (what a browser's prompt sends)."""
    scheme, _, value = header.partition(b" ")
    scheme = scheme.lower()
    if scheme == b"bearer":
        return secrets.compare_digest(value.strip(), token)
    if scheme == b"basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            return False
        return secrets.compare_digest(decoded.partition(b":")[2], token)
    return False


def check_port(host: str, port: int) -> None:
    """Fail with one line, before the index loads, when ``host:port`` cannot be bound.

    Raises:
        QAError: the port is taken, or the address is not one of this machine's.
    """
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise QAError(f"cannot resolve --host {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise QAError(
                f"cannot listen on {host}:{port}: {exc.strerror}", "Pick another --port"
            ) from None


def serve(settings: ServerSettings, port: int, notice: Callable[[str], None]) -> None:
    """Check the bind, open the index, and serve until Ctrl-C.

    Raises:
        QAError: a public host without a token, or an index that cannot be opened.
    """
    import uvicorn

    check_bind(settings.host, settings.token)
    check_port(settings.host, port)
    app = create_app(settings)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    notice(f"Serving {settings.index_dir}/ on http://{shown}:{port}/ (Ctrl-C stops)")
    uvicorn.run(app, host=settings.host, port=port, log_level="warning", server_header=False)


@contextmanager
def running(app: FastAPI, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a free port of ``host`` in a background thread; yields the base URL.

    For tests and benchmarks: the server stops when the block ends.
    """
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server on {host}:{port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
