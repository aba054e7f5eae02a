"""`qa shell`: ask many questions with the model and index loaded once.

A line is a question, or a command starting with ``:`` (see :data:`HELP`). At a terminal the
prompt is prompt_toolkit's, with history kept in ``$XDG_STATE_HOME/qa/history`` (default
``~/.local/state/qa/history``); when stdin is not a terminal, lines are read plainly, so
``printf 'q1\\nq2\\n' | qa shell`` works.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from qa.errors import BadInputError, QAError
from qa.search.modes import Fusion, Mode

if TYPE_CHECKING:
    from qa.interfaces.service import QAService
    from qa.search.filters import Filters
    from qa.search.results import Answer

PROMPT = "qa> "
QUIT = frozenset({":quit", ":q", ":exit"})
TEXT_FILTERS = ("outlet", "author", "title", "since", "until", "path")
HELP = """\
Type a question, or a command:
  :k N                 how many passages (1-100)
  :mode M              hybrid, dense or lexical
  :fusion F            convex or rrf (hybrid mode)
  :outlet NAME         only this outlet (no value: any outlet)
  :author TEXT         byline contains TEXT
  :title TEXT          title contains TEXT
  :since DATE          from DATE on (YYYY, YYYY-MM or YYYY-MM-DD)
  :until DATE          up to DATE, inclusive
  :path GLOB           source path glob, ** allowed
  :undated on|off      keep undated articles when filtering by date
  :clear               drop every filter
  :show N              the article of the last answer's Nth passage
  :sources             the indexed articles within the filters
  :quotes NAME         NAME's quotes, oldest first (:quotes NAME / TOPIC: ranked by TOPIC)
  :speakers            who is quoted, with counts
  :settings            the current k, mode and filters
  :help                this text
  :quit                leave (or Ctrl-D)"""


@dataclass(frozen=True)
class Settings:
    """What the next question is asked with."""

    k: int = 5
    mode: Mode = Mode.HYBRID
    fusion: Fusion = Fusion.CONVEX
    scope: dict[str, Any] = field(default_factory=dict)  # Filters.build keyword arguments

    def filters(self) -> Filters:
        """The scope as Filters (raises BadInputError for a malformed value)."""
        from qa.search.filters import Filters

        return Filters.build(**self.scope)

    def describe(self) -> str:
        scope = self.filters().describe() or "none"
        return f"k={self.k}, mode={self.mode.value}, fusion={self.fusion.value}, filters: {scope}"


class Shell:
    """The command loop, apart from where lines come from (testable without a terminal).

    Args:
        service: the loaded index.
        console: where answers and messages are printed.
        settings: the starting k, mode and filters (from the command line).
    """

    def __init__(self, service: QAService, console: Console, settings: Settings | None = None):
        self.service = service
        self.console = console
        self.settings = settings or Settings()
        self.last: Answer | None = None

    def run(self, lines: Iterable[str]) -> None:
        """Handle ``lines`` until they end or one is a quit command."""
        for line in lines:
            if not self.handle(line):
                return

    def handle(self, line: str) -> bool:
        """Answer one line; False when it asks to quit. Errors are printed, never raised."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line.split()[0].lower() in QUIT:
            return False
        try:
            if line.startswith(":"):
                self._command(line)
            else:
                self._ask(line)
        except QAError as exc:
            self.console.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
        return True

    def _ask(self, question: str) -> None:
        from qa.cli.render import answer_to_text

        s = self.settings
        answer = self.service.ask(question, s.k, mode=s.mode, fusion=s.fusion, filters=s.filters())
        self.last = answer
        tty = self.console.is_terminal
        self.console.print(answer_to_text(answer, wrap_width=tty), soft_wrap=not tty)

    def _command(self, line: str) -> None:
        name, _, value = line[1:].partition(" ")
        name, value = name.lower(), value.strip()
        handler = _COMMANDS.get(name)
        if handler is not None:
            handler(self, value)
        elif name in TEXT_FILTERS:
            self._set_filter(name, value)
        else:
            raise BadInputError(f"unknown command :{name}", "Type :help for the commands")

    def _set_filter(self, name: str, value: str) -> None:
        scope = dict(self.settings.scope)
        if not value:
            scope.pop(name, None)
        else:
            scope[name] = value
        candidate = replace(self.settings, scope=scope)
        candidate.filters()  # a malformed value is refused here, the old scope stays
        self.settings = candidate
        self._say(f"filters: {candidate.filters().describe() or 'none'}")

    def _say(self, message: str) -> None:
        self.console.print(escape(message), style="dim", soft_wrap=True)


def _set_k(shell: Shell, value: str) -> None:
    from qa.interfaces.service import MAX_K

    if not value.isdigit() or not 1 <= int(value) <= MAX_K:
        raise BadInputError(f":k needs a whole number from 1 to {MAX_K}, not {value!r}")
    shell.settings = replace(shell.settings, k=int(value))
    shell._say(f"k={value}")


def _set_mode(shell: Shell, value: str) -> None:
    shell.settings = replace(shell.settings, mode=_choice(Mode, value, "mode"))
    shell._say(f"mode={shell.settings.mode.value}")


def _set_fusion(shell: Shell, value: str) -> None:
    shell.settings = replace(shell.settings, fusion=_choice(Fusion, value, "fusion"))
    shell._say(f"fusion={shell.settings.fusion.value}")


def _choice(kind: Any, value: str, name: str) -> Any:
    try:
        return kind(value.lower())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise BadInputError(f":{name} {value!r} is not one of {choices}") from None


def _set_undated(shell: Shell, value: str) -> None:
    if value.lower() not in ("on", "off"):
        raise BadInputError(f":undated needs on or off, not {value!r}")
    scope = dict(shell.settings.scope)
    if value.lower() == "on":
        scope["undated"] = True
    else:
        scope.pop("undated", None)
    shell.settings = replace(shell.settings, scope=scope)
    shell._say(f"filters: {shell.settings.filters().describe() or 'none'}")


def _clear(shell: Shell, value: str) -> None:
    shell.settings = replace(shell.settings, scope={})
    shell._say("filters: none")


def _show(shell: Shell, value: str) -> None:
    from qa.cli.render import article_to_text

    hits = shell.last.hits if shell.last is not None else []
    if not hits:
        raise BadInputError(":show needs an answer first", "Ask a question, then :show 1")
    if not value.isdigit() or not 1 <= int(value) <= len(hits):
        raise BadInputError(f":show needs a passage number from 1 to {len(hits)}, not {value!r}")
    article, passages = shell.service.show(hits[int(value) - 1].source.ref)
    shell.console.print(article_to_text(article, passages), soft_wrap=True)


def _sources(shell: Shell, value: str) -> None:
    from qa.cli.render import sources_to_text

    shell.console.print(sources_to_text(shell.service.sources(shell.settings.filters())), soft_wrap=True)


def _quotes(shell: Shell, value: str) -> None:
    from qa.cli.render import quotes_to_text

    speaker, _, about = value.partition("/")
    answer = shell.service.quotes(
        speaker=speaker.strip() or None, about=about.strip() or None,
        filters=shell.settings.filters(), k=shell.settings.k if about.strip() else None,
    )
    shell.console.print(quotes_to_text(answer.quotes), soft_wrap=True)


def _speakers(shell: Shell, value: str) -> None:
    from qa.cli.render import speakers_to_text

    rows = shell.service.speakers(shell.settings.filters())
    shell.console.print(speakers_to_text([(r["speaker"], r["quotes"]) for r in rows]), soft_wrap=True)


def _settings(shell: Shell, value: str) -> None:
    shell._say(shell.settings.describe())


def _help(shell: Shell, value: str) -> None:
    shell.console.print(escape(HELP), highlight=False)


_COMMANDS: dict[str, Callable[[Shell, str], None]] = {
    "k": _set_k, "mode": _set_mode, "fusion": _set_fusion, "undated": _set_undated,
    "clear": _clear, "show": _show, "sources": _sources, "settings": _settings, "help": _help,
    "quotes": _quotes, "speakers": _speakers,
    "?": _help,
}


# ---- where lines come from -----------------------------------------------------------------
def history_path() -> Path:
    """``$XDG_STATE_HOME/qa/history``, else ``~/.local/state/qa/history``."""
    state = os.environ.get("XDG_STATE_HOME", "").strip()
    base = Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "qa" / "history"


def piped_lines(stream: Any = None) -> Iterator[str]:
    """Lines of a non-terminal stdin, plainly."""
    yield from (stream or sys.stdin)


def prompt_lines(notice: Callable[[str], None]) -> Iterator[str]:
    """Lines typed at prompt_toolkit's prompt, with a history file; Ctrl-D ends, Ctrl-C clears."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    path = history_path()
    history: History
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600, exist_ok=True)
        history = FileHistory(str(path))
    except OSError as exc:
        notice(f"history is not kept: cannot write {path} ({exc.strerror})")
        history = InMemoryHistory()
    session: PromptSession[str] = PromptSession(history=history)
    while True:
        try:
            yield session.prompt(PROMPT)
        except KeyboardInterrupt:
            continue
        except EOFError:
            return


def run_shell(
    service: QAService, settings: Settings, console: Console, notice: Callable[[str], None]
) -> None:
    """The shell on this process's stdin: a prompt at a terminal, plain lines otherwise."""
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        console.print(
            f"Index: {escape(str(service.index_dir))}/. Type a question, :help for commands, "
            ":quit or Ctrl-D to leave.",
            style="dim",
        )
    Shell(service, console, settings).run(prompt_lines(notice) if interactive else piped_lines())
