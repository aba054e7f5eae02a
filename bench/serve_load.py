"""Load test for `qa serve`: N parallel clients x M questions over loopback HTTP.

    .venv/bin/python bench/serve_load.py [--index-dir DIR] [--clients 8] [--per-client 50]
                                         [--workers 1 2] [--json bench/results/serve_load.json]

The server runs as its own process (`qa serve` on a free loopback port), as a user runs it; each
client is a thread with one keep-alive connection asking the seed questions
(bench/questions/seeds.jsonl) from its own offset, one after another. Reports requests, errors,
latency p50/p95/max and throughput for each --workers value. Without --index-dir, data/ is
indexed into a temporary folder first.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "questions" / "seeds.jsonl"


def _serve_argv(index_dir: Path, port: int, workers: int) -> list[str]:
    from qa.cli.app import app

    names = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    module = "qa" if "serve" in names else "qa.interfaces.cli_commands"
    return [sys.executable, "-m", module, "serve", "--port", str(port), "--workers",
            str(workers), "--index-dir", str(index_dir)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx2 as httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"qa serve exited with {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("qa serve did not answer /healthz in time")


def _client(base: str, questions: list[str], offset: int, count: int,
            latencies: list[float], errors: list[str]) -> None:
    import httpx2 as httpx

    with httpx.Client(base_url=base, timeout=30) as http:
        for i in range(count):
            q = questions[(offset + i) % len(questions)]
            start = time.perf_counter()
            try:
                r = http.get("/ask", params={"q": q, "k": 5})
                ok = r.status_code == 200 and r.json()["results"]
            except (httpx.HTTPError, ValueError) as exc:
                ok, r = False, exc
            latencies.append(time.perf_counter() - start)
            if not ok:
                errors.append(f"{q}: {r}")


def run_load(index_dir: Path, clients: int = 8, per_client: int = 50, workers: int = 1) -> dict[str, Any]:
    """Start `qa serve`, warm it with one question, run the clients, stop it; the figures."""
    import httpx2 as httpx

    questions = [json.loads(line)["question"] for line in QUESTIONS.open(encoding="utf-8")]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(_serve_argv(index_dir, port, workers), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(base, proc)
        httpx.get(base + "/ask", params={"q": "warm up"}, timeout=60)  # loads the encoder
        latencies: list[float] = []
        errors: list[str] = []
        threads = [threading.Thread(target=_client, args=(base, questions, n * 7, per_client,
                                                          latencies, errors))
                   for n in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        wall = time.perf_counter() - start
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    ms = sorted(x * 1000 for x in latencies)
    return {
        "clients": clients, "per_client": per_client, "workers": workers,
        "requests": len(ms), "errors": len(errors), "first_errors": errors[:3],
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(ms[max(0, int(0.95 * len(ms)) - 1)], 1) if ms else None,
        "max_ms": round(ms[-1], 1) if ms else None,
        "requests_per_s": round(len(ms) / wall, 1), "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    index_dir = args.index_dir
    if index_dir is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from conftest import RecordingProgress

        from qa.index.indexer import run_index

        index_dir = Path(tempfile.mkdtemp(prefix="qa-load-"))
        run_index(index_dir, [ROOT / "data"], None, RecordingProgress())
    rows = [run_load(index_dir, args.clients, args.per_client, w) for w in args.workers]
    for row in rows:
        print(json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
