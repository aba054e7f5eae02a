"""`qa shell`: piped input, the :commands, errors that never end the session, a real terminal."""

from __future__ import annotations

import io
import os
import re
import select
import sys
import time

import pytest
from rich.console import Console
from typer.testing import CliRunner

from interface_support import cli_app, qa_argv
from qa.cli.render import answer_to_text, article_to_text
from qa.interfaces.service import QAService
from qa.interfaces.shell import HELP, Shell, history_path
from qa.search.filters import Filters
from qa.search.modes import Mode

QUESTION = "what did Peskov say about tanks"


@pytest.fixture(scope="module")
def service(real_seed_index_dir):
    svc = QAService(real_seed_index_dir)
    yield svc
    svc.close()


def plain_console() -> Console:
    return Console(file=io.StringIO(), width=100, color_system=None, force_terminal=False,
                   highlight=False)


def rendered(renderable, **print_options) -> str:
    console = plain_console()
    console.print(renderable, **print_options)
    return console.file.getvalue()


def run(service, *lines: str) -> tuple[Shell, str]:
    console = plain_console()
    shell = Shell(service, console)
    shell.run(lines)
    return shell, console.file.getvalue()


def test_a_question_prints_what_qa_ask_prints(service, searcher):
    _, output = run(service, QUESTION)
    expected = rendered(answer_to_text(searcher.ask(QUESTION, k=5), wrap_width=False),
                        soft_wrap=True)
    assert output == expected


def test_k_mode_and_filters_change_the_next_question(service, searcher):
    shell, output = run(service, ":k 2", ":mode dense", ":outlet Anadolu Agency",
                        ":since 2023", QUESTION)
    filters = Filters.build(outlet="Anadolu Agency", since="2023")
    expected = searcher.ask(QUESTION, k=2, mode=Mode.DENSE, filters=filters)
    assert output.endswith(rendered(answer_to_text(expected, wrap_width=False), soft_wrap=True))
    assert shell.settings.k == 2 and shell.settings.mode == Mode.DENSE
    assert shell.settings.filters() == filters
    assert [h.rank for h in shell.last.hits] == [1, 2]


def test_filters_clear(service):
    shell, _ = run(service, ":outlet Reuters", ":title peace", ":outlet", ":undated on")
    assert shell.settings.scope == {"title": "peace", "undated": True}
    shell.handle(":clear")
    assert shell.settings.scope == {} and not shell.settings.filters().active


@pytest.mark.parametrize("line,fragment", [
    (":k 0", "1 to 100"), (":k 101", "1 to 100"), (":k two", "1 to 100"),
    (":mode psychic", "hybrid, dense, lexical"), (":fusion x", "convex, rrf"),
    (":since 2023-13", "month 13"), (":until yesterday", "not a date"),
    (":undated maybe", "on or off"), (":show 1", "answer first"), (":frobnicate", ":help"),
    ("x" * 2001, "over the limit"),
])
def test_bad_commands_print_one_error_line_and_continue(service, line, fragment):
    shell, output = run(service, line, ":k 3")
    lines = output.strip().splitlines()
    assert lines[0].startswith("Error:") and fragment in lines[0]
    assert "Traceback" not in output
    assert shell.settings.k == 3  # the session went on
    assert shell.settings.scope == {}  # a refused filter leaves the scope as it was


def test_show_prints_the_nth_hits_article(service, searcher):
    answer = searcher.ask(QUESTION, k=3)
    _, output = run(service, ":k 3", QUESTION, ":show 2", ":show 4")
    article, passages = searcher.show(answer.hits[1].source.ref)
    assert rendered(article_to_text(article, passages), soft_wrap=True) in output
    assert output.strip().splitlines()[-1].startswith("Error: :show needs a passage number from 1 to 3")


def test_help_settings_and_sources(service, searcher):
    _, output = run(service, ":help", ":outlet Anadolu Agency", ":settings", ":sources")
    assert HELP.splitlines()[1].strip() in output
    assert "k=5, mode=hybrid, fusion=convex, filters: outlet=Anadolu Agency" in output
    anadolu = [a for a in searcher.sources() if a.meta.outlet == "Anadolu Agency"]
    assert anadolu and all(a.meta.title in output for a in anadolu)
    others = [a for a in searcher.sources() if a.meta.outlet != "Anadolu Agency"]
    assert not any(a.meta.title and a.meta.title in output for a in others)


def test_quit_stops_reading(service):
    for quit_line in (":quit", ":q", ":exit", ":QUIT"):
        shell, output = run(service, quit_line, QUESTION)
        assert shell.last is None and output == ""


def test_piped_stdin_through_the_command(real_seed_index_dir, searcher):
    stdin = f"{QUESTION}\n\n:k 1\n# a comment\n{QUESTION}\n"
    result = CliRunner().invoke(cli_app(), ["shell", "--index-dir", str(real_seed_index_dir)],
                                input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ranks = re.findall(r"^(\d+)\. ", result.stdout, flags=re.M)
    expected = [h.rank for h in searcher.ask(QUESTION, k=5).hits] + [1]  # k=5, then :k 1
    assert [int(r) for r in ranks] == expected
    assert "k=1" in result.stdout and "qa>" not in result.stdout


def test_command_line_filters_start_the_session(real_seed_index_dir):
    result = CliRunner().invoke(
        cli_app(), ["shell", "--since", "2030", "--index-dir", str(real_seed_index_dir)],
        input=f"{QUESTION}\n:settings\n", catch_exceptions=False,
    )
    assert result.exit_code == 0
    assert "No indexed article matches the filters" in result.stdout
    assert "since=2030" in result.stdout


def test_bad_command_line_filter_is_one_line(real_seed_index_dir):
    result = CliRunner().invoke(cli_app(), ["shell", "--since", "nope", "--index-dir",
                                            str(real_seed_index_dir)], input="")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "not a date" in result.stderr


def test_history_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert history_path() == tmp_path / "state" / "qa" / "history"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/not/allowed")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert history_path() == tmp_path / "home" / ".local" / "state" / "qa" / "history"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert history_path() == tmp_path / "home" / ".local" / "state" / "qa" / "history"


def _read_until(fd: int, needle: bytes, seen: bytearray, start: int | None = None,
                timeout: float = 60) -> int:
    """Read the terminal into ``seen`` until ``needle`` appears after ``start`` (default: in
    what arrives from now on); where it ends."""
    start = len(seen) if start is None else start
    deadline = time.monotonic() + timeout
    while needle not in seen[start:]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {needle!r} in: {bytes(seen)[-500:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the shell exited: its end of the terminal is gone
                chunk = b""
            if not chunk:
                raise AssertionError(f"the shell ended without {needle!r}: {bytes(seen)[-500:]!r}")
            seen.extend(chunk)
    return seen.index(needle, start) + len(needle)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_interactive_prompt_in_a_pty_keeps_history(real_seed_index_dir, searcher, tmp_path):
    import pty
    import subprocess

    state = tmp_path / "state"
    env = dict(os.environ, XDG_STATE_HOME=str(state), TERM="xterm", COLUMNS="120", LINES="40",
               PROMPT_TOOLKIT_NO_CPR="1")
    main, child = pty.openpty()
    proc = subprocess.Popen(qa_argv("shell", "--index-dir", str(real_seed_index_dir)), stdin=child,
                            stdout=child, stderr=child, env=env, close_fds=True)
    os.close(child)
    seen = bytearray()
    try:
        _read_until(main, b"qa>", seen)
        os.write(main, f"{QUESTION}\r".encode())
        title = searcher.ask(QUESTION, k=1).hits[0].source.meta.title
        after_answer = _read_until(main, title.encode()[:30], seen)
        _read_until(main, b"qa>", seen, start=after_answer)  # the next prompt
        os.write(main, b"\x04")  # Ctrl-D on an empty line leaves
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)
    history = (state / "qa" / "history").read_text(encoding="utf-8")
    assert f"+{QUESTION}" in history
    assert oct((state / "qa" / "history").stat().st_mode & 0o777) == "0o600"
