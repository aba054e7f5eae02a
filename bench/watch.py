"""`qa index --watch`: how soon a new article is found, and what watching costs while idle.

    .venv/bin/python bench/watch.py [--files 10000] [--runs 5] [--debounce 2.0] [--idle 30]

Figures (hashing test embedder, so the figure is the watcher's and indexer's, not the model's):
  latency      from writing a new one-page article into the watched folder to a loaded index
               (what a running `qa serve`/`qa shell`/`qa mcp` does, asking every 20 ms) finding
               it first, median of --runs; target <= debounce + 1 s. The baseline from the same
               run: a plain `qa index` of the folder after the same write (what it took before)
  ask_after    a new `qa ask` process started once the batch line appeared: write -> its answer
  idle_cpu     CPU time of the watcher process over --idle seconds with nothing changing,
               watching --files files in 20 folders, as a % of one core; target < 1 %
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
QA = [sys.executable, "-m", "qa"]
WORDS = ("council hangar bakery mayor river bridge election harbour ferry museum budget "
         "school railway festival market orchestra lighthouse").split()


def article(n: int, words: int) -> str:
    body = " ".join(WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(words))
    return f"Report number {n}\n\n{body}.\n"


def new_article(n: int) -> tuple[str, str]:
    """A one-page article (about 450 words) with a question only it answers."""
    tag = f"zanzibarquokka{n}"
    paragraphs = [f"The {tag} council approved the new harbour ferry on Monday, the mayor said."]
    paragraphs += [article(n * 100 + i, 60).split("\n\n")[1] for i in range(6)]
    return f"Harbour ferry approved\n\n" + "\n\n".join(paragraphs) + "\n", f"{tag} harbour ferry council"


def make_corpus(folder: Path, files: int) -> None:
    for i in range(files):
        sub = folder / f"f{i % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"a{i:05d}.txt").write_text(article(i, 40), encoding="utf-8")


class Watcher:
    def __init__(self, corpus: Path, index_dir: Path, debounce: float) -> None:
        self.p = subprocess.Popen(
            [*QA, "index", str(corpus), "--watch", "--debounce", str(debounce), "--index-dir",
             str(index_dir), "--model", "hashing"],
            env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.p.stdout:
            self.lines.put((time.perf_counter(), line))

    def next_line(self, timeout: float = 600) -> tuple[float, str]:
        return self.lines.get(timeout=timeout)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.p.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.p.terminate()
        self.p.wait(30)


def found_by(service, question: str, path: Path) -> bool:
    answer = service.ask(question, k=1)
    return bool(answer.hits) and answer.hits[0].source.path == str(path)


def latency_runs(corpus: Path, index_dir: Path, runs: int, debounce: float) -> dict[str, list[float]]:
    from qa.interfaces.service import QAService

    out: dict[str, list[float]] = {"latency": [], "ask_after": [], "manual_index": []}
    watcher = Watcher(corpus, index_dir, debounce)
    watcher.next_line()  # the first full run
    service = QAService(index_dir)
    try:
        for n in range(runs):
            text, question = new_article(n)
            target = corpus / f"new-{n}.txt"
            assert not found_by(service, question, target)
            start = time.perf_counter()
            target.write_text(text, encoding="utf-8")
            while not found_by(service, question, target):
                time.sleep(0.02)
            out["latency"].append(time.perf_counter() - start)
            seen, _ = watcher.next_line()
            proc = subprocess.run([*QA, "ask", question, "-k", "1", "--json", "--index-dir",
                                   str(index_dir)], env=ENV, capture_output=True, text=True)
            assert str(target) in proc.stdout, proc.stderr
            out["ask_after"].append(time.perf_counter() - start)
    finally:
        service.close()
        watcher.stop()
    for n in range(runs):  # the baseline: the same change indexed by hand
        text, _ = new_article(runs + n)
        (corpus / f"manual-{n}.txt").write_text(text, encoding="utf-8")
        start = time.perf_counter()
        subprocess.run([*QA, "index", str(corpus), "--index-dir", str(index_dir), "--model",
                        "hashing"], env=ENV, capture_output=True, check=True)
        out["manual_index"].append(time.perf_counter() - start)
    return out


def idle_cpu(corpus: Path, index_dir: Path, seconds: float, debounce: float) -> float:
    watcher = Watcher(corpus, index_dir, debounce)
    try:
        watcher.next_line()
        time.sleep(2)  # let the first run's tail (progress, exports) finish
        before = watcher.cpu_seconds()
        time.sleep(seconds)
        return 100 * (watcher.cpu_seconds() - before) / seconds
    finally:
        watcher.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--debounce", type=float, default=2.0)
    parser.add_argument("--idle", type=float, default=30.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-watch-bench-"))
    try:
        for label, files in (("seed articles", 0), (f"{args.files:,} files", args.files)):
            corpus, index_dir = work / f"corpus-{files}", work / f"index-{files}"
            shutil.copytree(ROOT / "data", corpus)
            make_corpus(corpus / "bulk", files)
            t = time.perf_counter()
            subprocess.run([*QA, "index", str(corpus), "--index-dir", str(index_dir), "--model",
                            "hashing"], env=ENV, capture_output=True, check=True)
            print(f"[{label}] first index: {time.perf_counter() - t:.1f} s", flush=True)
            runs = latency_runs(corpus, index_dir, args.runs, args.debounce)
            med = {k: statistics.median(v) for k, v in runs.items()}
            print(f"[{label}] latency write -> found: median {med['latency']:.2f} s "
                  f"(max {max(runs['latency']):.2f}; debounce {args.debounce} s, overhead "
                  f"{med['latency'] - args.debounce:.2f} s); write -> new `qa ask` answers: "
                  f"{med['ask_after']:.2f} s; baseline `qa index` by hand after the write: "
                  f"{med['manual_index']:.2f} s (latency - debounce = "
                  f"{(med['latency'] - args.debounce) / med['manual_index']:.2f}x of it)", flush=True)
            if files:
                cpu = idle_cpu(corpus, index_dir, args.idle, args.debounce)
                print(f"[{label}] idle CPU while watching: {cpu:.2f} % of one core "
                      f"over {args.idle:.0f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
