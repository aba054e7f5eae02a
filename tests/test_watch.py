"""`qa index --watch`: batches of changes, the folder rules, the lock, and every interface
answering from the new generation (hashing test embedder; the watcher is real)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import threading
from pathlib import Path

import anyio
import pytest
from rich.console import Console
from typer.testing import CliRunner

from conftest import DATA, RecordingProgress
from qa.cli.app import app
from qa.cli.bare_option import with_bare_value
from qa.errors import IndexBusyError, QAError
from qa.index.indexer import run_index
from qa.index.store import Store
from qa.index.watch import ChangeFilter, settled, stat_of, watch_index
from qa.ingest.files import discover
from qa.search.searcher import Searcher

DEBOUNCE = 0.3  # the quiet period where a test is about it (a file written in halves)
QUICK = 0.1  # the quiet period elsewhere: those tests' writes are whole at once
WAIT = 20.0  # seconds a test waits for a batch before it fails (the machine may be busy)
ZEPPELIN = (
    "Quokkaville council sells zeppelin hangar\n\nThe Quokkaville council sold the old "
    "zeppelin hangar to a bakery on Tuesday, the mayor said.\n"
)
QUESTION = "Which zeppelin hangar did the Quokkaville council sell?"


class Watching:
    """watch_index run in a thread; the test takes its batches one by one."""

    def __init__(self, index_dir: Path, paths: list[Path], debounce: float = DEBOUNCE) -> None:
        self.index_dir = index_dir
        self.stop = threading.Event()
        self.batches: queue.Queue = queue.Queue()
        self.progress = RecordingProgress()
        self._thread = threading.Thread(target=self._run, args=(paths, debounce), daemon=True)
        self._thread.start()

    def _run(self, paths: list[Path], debounce: float) -> None:
        try:
            for batch in watch_index(self.index_dir, paths, "hashing", self.progress, debounce,
                                     stop=self.stop):
                self.batches.put(batch)
        except BaseException as exc:  # handed to the test thread
            self.batches.put(exc)

    def next(self, timeout: float = WAIT):
        item = self.batches.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise item
        return item

    def next_change(self, timeout: float = WAIT):
        """The next batch that changed the index."""
        while not (batch := self.next(timeout)).changed:
            pass
        return batch

    def quiet_for(self, seconds: float) -> list:
        """Batches that changed something within ``seconds`` (expected: none)."""
        try:
            return [b for b in [self.next(seconds)] if b.changed]
        except queue.Empty:
            return []

    def close(self) -> None:
        self.stop.set()
        self._thread.join(10)
        assert not self._thread.is_alive()


@pytest.fixture()
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(DATA, folder)
    return folder


def _watched(corpus: Path, index_dir: Path, debounce: float):
    w = Watching(index_dir, [corpus], debounce)
    first = w.next()
    assert first.first and len(first.report.added) == len(discover([DATA]))
    yield w
    w.close()


@pytest.fixture()
def watching(corpus, tmp_path):
    yield from _watched(corpus, tmp_path / "index", QUICK)


@pytest.fixture()
def watching_debounced(corpus, tmp_path):
    """The same with the longer quiet period, for the test about what it holds back."""
    yield from _watched(corpus, tmp_path / "index", DEBOUNCE)


def _top_path(index_dir: Path, question: str) -> str:
    searcher = Searcher(index_dir, None, notice=lambda m: None)
    try:
        return searcher.ask(question, k=1).hits[0].source.path
    finally:
        searcher.close()


def _indexed_paths(index_dir: Path) -> set[str]:
    store = Store.open(index_dir)
    try:
        return set(store.file_hashes())
    finally:
        store.close()


# ---- batches -------------------------------------------------------------------------------
def test_a_dropped_file_is_found_by_ask(watching, corpus):
    new = corpus / "zeppelin.txt"
    new.write_text(ZEPPELIN, encoding="utf-8")
    batch = watching.next_change()
    assert batch.report.added == [str(new)] and not batch.report.updated
    assert batch.report.embedded >= 1
    assert _top_path(watching.index_dir, QUESTION) == str(new)


def test_a_removed_file_loses_its_passages(watching, corpus):
    gone = sorted(corpus.glob("*.txt"))[0]
    before = Store.open(watching.index_dir)
    passages = before.counts()[1]
    before.close()
    gone.unlink()
    batch = watching.next_change()
    assert batch.report.removed == [str(gone)] and not batch.report.added
    assert str(gone) not in _indexed_paths(watching.index_dir)
    assert batch.report.passages < passages


def test_a_file_written_in_two_halves_is_indexed_once_whole(watching_debounced, corpus):
    watching = watching_debounced
    new = corpus / "halves.txt"
    with open(new, "w", encoding="utf-8") as handle:
        handle.write("Quokkaville council sells zeppelin hangar\n\n")
        handle.flush()
        threading.Event().wait(DEBOUNCE / 3)  # shorter than the quiet period
        handle.write("The Quokkaville council sold the old zeppelin hangar to a bakery.\n")
    batch = watching.next_change()
    assert batch.report.added == [str(new)]
    assert watching.quiet_for(3 * DEBOUNCE) == []  # indexed once
    store = Store.open(watching.index_dir)
    try:
        article = next(a for a in store.articles() if a.path == str(new))
        text = " ".join(p.text for p in store.article_passages(article.id))
    finally:
        store.close()
    assert "sold the old zeppelin hangar to a bakery" in text


def test_a_changed_file_is_updated_and_the_others_are_not_reread(watching, corpus):
    target = sorted(corpus.glob("*.txt"))[1]
    target.write_text(target.read_text(encoding="utf-8") + "\nA new closing paragraph on zeppelins.\n",
                      encoding="utf-8")
    batch = watching.next_change()
    assert batch.report.updated == [str(target)]
    assert batch.report.unchanged == len(discover([corpus])) - 1


def test_a_folder_moved_in_is_indexed(watching, corpus, tmp_path):
    outside = tmp_path / "incoming"
    outside.mkdir()
    (outside / "zeppelin.txt").write_text(ZEPPELIN, encoding="utf-8")
    (outside / "second.md").write_text("# Second\n\nQuokkaville bakery opens.\n", encoding="utf-8")
    os.rename(outside, corpus / "incoming")
    batch = watching.next_change()
    assert sorted(batch.report.added) == sorted(
        str(corpus / "incoming" / n) for n in ("second.md", "zeppelin.txt"))


def test_an_appended_dump_embeds_only_its_new_records(tmp_path):
    dump = tmp_path / "feed" / "wire.jsonl"
    dump.parent.mkdir()
    records = [{"title": f"Story {i}", "text": f"Quokkaville story number {i} about hangar {i}."}
               for i in range(5)]
    dump.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    w = Watching(tmp_path / "index", [dump.parent], QUICK)
    try:
        assert w.next().report.embedded == 5
        with open(dump, "a", encoding="utf-8") as handle:
            for i in (5, 6):
                handle.write(json.dumps({"title": f"Story {i}", "text": f"Zeppelin report {i}."}) + "\n")
        batch = w.next_change()
    finally:
        w.close()
    assert batch.report.updated == [str(dump)]
    assert batch.report.embedded == 2 and batch.report.reused == 5
    assert batch.report.articles == 7


def test_rereading_a_grown_dump_embeds_only_new_passages(tmp_path):
    """The content-keyed cache, without the watcher: the same holds for plain `qa index`."""
    dump = tmp_path / "wire.jsonl"
    dump.write_text("".join(json.dumps({"text": f"Item {i} on hangars."}) + "\n" for i in range(4)))
    run_index(tmp_path / "index", [dump], "hashing", RecordingProgress())
    with open(dump, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"text": "A brand new item on zeppelins."}) + "\n")
    report = run_index(tmp_path / "index", [dump], "hashing", RecordingProgress())
    assert (report.updated, report.embedded, report.reused) == ([str(dump)], 1, 4)


# ---- the folder rules ----------------------------------------------------------------------
def test_the_index_folder_inside_the_watched_folder_is_ignored(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA, corpus)
    w = Watching(corpus / "index", [corpus], QUICK)
    try:
        first = w.next()
        assert not first.report.skipped and w.progress.warnings == []
        assert w.quiet_for(3 * DEBOUNCE) == []  # its own writes do not start batches
        (corpus / "zeppelin.txt").write_text(ZEPPELIN, encoding="utf-8")
        assert w.next_change().report.added == [str(corpus / "zeppelin.txt")]
    finally:
        w.close()
    assert not any(p.startswith(str(corpus / "index")) for p in _indexed_paths(corpus / "index"))


def test_hidden_files_and_other_suffixes_start_no_batch(watching, corpus):
    (corpus / ".draft.txt").write_text(ZEPPELIN, encoding="utf-8")
    (corpus / ".cache").mkdir()
    (corpus / ".cache" / "x.txt").write_text(ZEPPELIN, encoding="utf-8")
    (corpus / "notes.docx").write_bytes(b"not read")
    assert watching.quiet_for(3 * DEBOUNCE) == []
    assert not any(".draft" in p or ".cache" in p for p in _indexed_paths(watching.index_dir))


def test_change_filter_rules(tmp_path):
    root = tmp_path / "news"
    (root / "sub").mkdir(parents=True)
    accept = ChangeFilter([root, tmp_path / "one.jsonl"], root / "index")

    class Change:
        def __init__(self, name):
            self.name = name

    added, deleted = Change("added"), Change("deleted")
    assert accept(added, str(root / "a.txt")) and accept(added, str(root / "sub" / "b.jsonl.gz"))
    assert accept(added, str(root / "sub"))  # a folder may hold articles
    assert accept(deleted, str(root / "gone-folder"))  # so may a deleted name
    assert not accept(added, str(root / "a.docx"))
    assert not accept(added, str(root / ".hidden.txt"))
    assert not accept(added, str(root / ".git" / "a.txt"))
    assert not accept(added, str(root / "index" / "manifest.json"))
    assert accept(added, str(tmp_path / "one.jsonl"))
    assert not accept(added, str(tmp_path / "sibling.jsonl"))  # next to a watched file


def test_symlinks_are_followed_only_inside_the_tree(tmp_path):
    root, outside = tmp_path / "news", tmp_path / "elsewhere"
    (root / "real").mkdir(parents=True)
    outside.mkdir()
    (root / "real" / "a.txt").write_text(ZEPPELIN, encoding="utf-8")
    (outside / "b.txt").write_text(ZEPPELIN, encoding="utf-8")
    (root / "inside-link").symlink_to(root / "real", target_is_directory=True)
    (root / "outside-link").symlink_to(outside, target_is_directory=True)
    (root / "file-link.txt").symlink_to(outside / "b.txt")
    found = [f.path for f in discover([root])]
    assert len(found) == 1 and found[0].endswith("a.txt")  # the real folder once, nothing outside


def test_settled_holds_back_a_file_that_is_still_growing(tmp_path):
    calm, growing = tmp_path / "calm.txt", tmp_path / "growing.txt"
    calm.write_text("one", encoding="utf-8")
    growing.write_text("one", encoding="utf-8")
    pending = {str(calm): stat_of(str(calm)), str(growing): stat_of(str(growing)),
               str(tmp_path / "gone.txt"): None}
    growing.write_text("one and two", encoding="utf-8")
    ready, waiting = settled(pending)
    assert ready == {str(calm), str(tmp_path / "gone.txt")} and waiting == {str(growing)}


# ---- the lock ------------------------------------------------------------------------------
def test_a_second_index_run_while_watching_is_refused(watching, corpus):
    with pytest.raises(IndexBusyError, match="another `qa index` is writing to"):
        run_index(watching.index_dir, [corpus], "hashing", RecordingProgress())
    result = CliRunner().invoke(
        app, ["index", str(corpus), "--index-dir", str(watching.index_dir), "--model", "hashing"])
    assert result.exit_code == 1
    assert "another `qa index` is writing to" in result.output and "Traceback" not in result.output


def test_negative_debounce_is_refused(tmp_path):
    with pytest.raises(QAError, match="--debounce"):
        next(watch_index(tmp_path / "index", [DATA], "hashing", RecordingProgress(), -1.0))
    result = CliRunner().invoke(app, ["index", str(DATA), "--watch", "--debounce", "-1",
                                      "--index-dir", str(tmp_path / "index")])
    assert result.exit_code == 2 and not (tmp_path / "index").exists()


def test_a_missing_path_is_one_line_before_watching(tmp_path):
    result = CliRunner().invoke(app, ["index", str(tmp_path / "nope"), "--watch",
                                      "--index-dir", str(tmp_path / "index"), "--model", "hashing"])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert "Traceback" not in result.output


# ---- every interface answers from the new generation ---------------------------------------
def test_serve_shell_and_mcp_answer_from_the_next_generation(watching, corpus):
    from fastapi.testclient import TestClient

    from qa.interfaces.mcp_server import build_server
    from qa.interfaces.server import ServerSettings, create_app
    from qa.interfaces.service import QAService
    from qa.interfaces.shell import Shell

    client = TestClient(create_app(ServerSettings(watching.index_dir)), base_url="http://127.0.0.1")
    service = QAService(watching.index_dir)
    console = Console(record=True, width=200, force_terminal=False)
    shell = Shell(service, console)
    server = build_server(service)

    def answers() -> dict[str, str]:
        http = client.get("/ask", params={"q": QUESTION, "k": 1}).json()["results"][0]
        console.export_text()  # drop what was printed before
        shell.handle(QUESTION)
        result = anyio.run(server.call_tool, "ask", {"question": QUESTION, "k": 1})
        mcp = result.structured_content["results"][0]
        return {"serve": http["source"]["path"], "shell": console.export_text(),
                "mcp": mcp["source"]["path"]}

    try:
        before = answers()
        assert "zeppelin" not in json.dumps(before)
        (corpus / "zeppelin.txt").write_text(ZEPPELIN, encoding="utf-8")
        watching.next_change()
        after = answers()
    finally:
        service.close()
        client.close()
    assert after["serve"].endswith("zeppelin.txt") and after["mcp"].endswith("zeppelin.txt")
    assert "zeppelin.txt" in after["shell"]


# ---- --ray without a value -----------------------------------------------------------------
@pytest.mark.parametrize("args, expected", [
    (["--ray"], ["--ray", "local"]),
    (["data", "--ray"], ["data", "--ray", "local"]),
    (["--ray", "--ray-workers", "2"], ["--ray", "local", "--ray-workers", "2"]),
    (["--ray", "auto"], ["--ray", "auto"]),
    (["--ray", "10.0.0.5:6379", "data"], ["--ray", "10.0.0.5:6379", "data"]),
    (["--ray=auto"], ["--ray=auto"]),
    (["--", "--ray"], ["--", "--ray"]),
])
def test_bare_ray_means_local(args, expected, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert with_bare_value(args, "--ray", "local") == expected


def test_a_bare_ray_before_an_existing_path_is_local(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "news").mkdir()
    assert with_bare_value(["--ray", "news"], "--ray", "local") == ["--ray", "local", "news"]


@pytest.mark.parametrize("args", [["--ray"], ["--ray", "--ray-workers", "2"], ["--ray", str(DATA)]])
def test_qa_index_with_a_bare_ray_parses_and_needs_ray(args, tmp_path):
    from qa.embed.ray_embed import ray_available

    if ray_available():
        pytest.skip("Ray is installed here; the message is for a machine without it")
    result = CliRunner().invoke(app, ["index", *args, "--index-dir", str(tmp_path / "index"),
                                      "--model", "hashing"])
    assert result.exit_code == 1, result.output
    assert "--ray needs Ray, which is not installed" in result.output
    assert not (tmp_path / "index").exists()


def test_a_watched_file_replaced_by_rename_is_updated(tmp_path):
    dump = tmp_path / "wire.jsonl"
    dump.write_text(json.dumps({"text": "Old story about hangars."}) + "\n", encoding="utf-8")
    (tmp_path / "neighbour.jsonl").write_text(json.dumps({"text": "Not watched."}) + "\n")
    w = Watching(tmp_path / "index", [dump], QUICK)
    try:
        assert w.next().report.added == [str(dump)]
        tmp = tmp_path / ".wire.jsonl.tmp"  # how editors and feed tools save
        tmp.write_text(json.dumps({"text": "New story about zeppelins."}) + "\n", encoding="utf-8")
        os.replace(tmp, dump)
        batch = w.next_change()
        (tmp_path / "neighbour.jsonl").write_text(json.dumps({"text": "Changed."}) + "\n")
        assert w.quiet_for(3 * DEBOUNCE) == []  # a sibling of a watched file is not watched
    finally:
        w.close()
    assert batch.report.updated == [str(dump)] and batch.report.articles == 1
    assert _indexed_paths(tmp_path / "index") == {str(dump)}


@pytest.mark.parametrize("value, code", [("nan", 1), ("inf", 2), ("3601", 2), ("soon", 2)])
def test_hostile_debounce_values(value, code, tmp_path):
    result = CliRunner().invoke(app, ["index", str(DATA), "--watch", "--debounce", value,
                                      "--index-dir", str(tmp_path / "index"), "--model", "hashing"])
    assert result.exit_code == code and "Traceback" not in result.output
    assert not (tmp_path / "index").exists()


def test_a_watched_folder_that_disappears_ends_the_watch_with_one_error(corpus, tmp_path):
    w = Watching(tmp_path / "index", [corpus])
    try:
        w.next()
        shutil.rmtree(corpus)
        with pytest.raises(QAError, match="does not exist"):
            w.next_change()
        assert _indexed_paths(tmp_path / "index")  # nothing indexed was dropped
    finally:
        w.close()


def test_a_change_in_a_symlinked_folder_inside_the_tree_is_indexed(tmp_path):
    root = tmp_path / "news"
    (root / "real").mkdir(parents=True)
    (root / "real" / "a.txt").write_text(ZEPPELIN, encoding="utf-8")
    (root / "inside-link").symlink_to(root / "real", target_is_directory=True)
    w = Watching(tmp_path / "index", [root], QUICK)
    try:
        (indexed,) = w.next().report.added  # the real folder once, under whichever name
        (root / "real" / "a.txt").write_text(ZEPPELIN + "\nA late paragraph.\n", encoding="utf-8")
        batch = w.next_change()
    finally:
        w.close()
    assert batch.report.updated == [indexed]


def test_the_lock_is_shared_only_when_held_for_a_watch(tmp_path):
    from qa.index.lock import writer_lock

    with writer_lock(tmp_path / "index", shared=True):
        with writer_lock(tmp_path / "index"):  # a batch of the watch: same thread
            pass
        seen: list[BaseException] = []
        other = threading.Thread(target=lambda: _try_lock(tmp_path / "index", seen))
        other.start()
        other.join()
        assert isinstance(seen[0], IndexBusyError)  # anyone else is refused
    with writer_lock(tmp_path / "index"):
        with pytest.raises(IndexBusyError):
            with writer_lock(tmp_path / "index"):
                pass


def _try_lock(index_dir: Path, seen: list) -> None:
    from qa.index.lock import writer_lock

    try:
        with writer_lock(index_dir):
            seen.append(AssertionError("taken twice"))
    except IndexBusyError as exc:
        seen.append(exc)


def test_a_broken_file_is_skipped_with_a_warning_and_the_watch_goes_on(watching, corpus):
    broken = corpus / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a PDF \x00\xff\x00")
    batch = watching.next_change()
    assert batch.report.skipped == [str(broken)] and not batch.report.added
    assert any("broken.pdf" in w for w in watching.progress.warnings)
    (corpus / "zeppelin.txt").write_text(ZEPPELIN, encoding="utf-8")
    assert watching.next_change().report.added == [str(corpus / "zeppelin.txt")]
