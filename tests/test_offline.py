"""No network at run time, and no pickle anywhere in the package (issue 5, item 6)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qa"
DATA = ROOT / "data"
QUESTION = "what did Peskov say about tanks"
CLOSED_PORT = "http://127.0.0.1:9"  # discard port: nothing listens, every connection fails

PICKLE_PATTERNS = {
    "import pickle": re.compile(r"^\s*(import\s+(c?pickle|dill|joblib)\b|from\s+(c?pickle|dill|joblib)\s+import)", re.M),
    "pickle.load": re.compile(r"\b(c?pickle|dill|joblib)\.loads?\s*\("),
    "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
    "torch.load without weights_only=True": re.compile(
        r"torch\.load\s*\((?![^)]*weights_only\s*=\s*True)[^)]*\)", re.S
    ),
}


def offline_env() -> dict[str, str]:
    """The caller's environment with every proxy pointing at a closed port and no HF switches."""
    env = {
        k: v for k, v in os.environ.items()
        if k not in {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "NO_PROXY", "no_proxy"}
    }
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env[var] = CLOSED_PORT
    return env


def no_network_prefix() -> list[str]:
    """`unshare -n` (a namespace with no interfaces but loopback-down) when we may use it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def run_offline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*no_network_prefix(), sys.executable, "-m", "qa", *args],
        cwd=cwd, env=offline_env(), capture_output=True, text=True, timeout=600,
    )


@pytest.mark.parametrize("name", sorted(PICKLE_PATTERNS))
def test_package_source_never_uses_pickle(name):
    pattern = PICKLE_PATTERNS[name]
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"{name} in the qa package: {found}"


def test_pickle_patterns_catch_what_they_should():
    """The scanner itself: a guard that matches nothing would prove nothing."""
    bad = "import pickle\nx = pickle.load(f)\nnp.load(p, allow_pickle=True)\ntorch.load(p)\n"
    assert all(p.search(bad) for p in PICKLE_PATTERNS.values())
    good = "np.load(p, allow_pickle=False)\ntorch.load(p, weights_only=True)\n# pickled\n"
    assert not any(p.search(good) for p in PICKLE_PATTERNS.values())


@pytest.mark.parametrize("index", [
    "seed_index_copy",  # the hashing test embedder: the CLI, store and search paths
    pytest.param("real_seed_index_copy", marks=pytest.mark.slow),  # the packaged model's weights
])
def test_index_and_ask_work_with_network_impossible(index, request, tmp_path):
    """Indexing (with the real index: the model loaded from the packaged weights) and asking
    (ONNX) never go online."""
    seed_index_copy = request.getfixturevalue(index)
    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "offline.txt").write_text(
        "Title: Lighthouse keepers strike\n\n"
        "The lighthouse keepers of the northern coast went on strike on Monday over pay.\n\n"
        "Their union said the lamps would stay lit for the safety of ships at sea.\n",
        encoding="utf-8",
    )
    indexed = run_offline("index", str(corpus), "--index-dir", str(seed_index_copy), cwd=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert "1 added" in indexed.stdout and "Traceback" not in indexed.stderr

    asked = run_offline(
        "ask", "--json", "-k", "1", "why did the lighthouse keepers strike",
        "--index-dir", str(seed_index_copy), cwd=tmp_path,
    )
    assert asked.returncode == 0, asked.stderr
    top = json.loads(asked.stdout)["results"][0]
    assert "lighthouse keepers" in top["text"] and top["source"]["path"].endswith("offline.txt")

    seeds = run_offline("ask", "--json", "-k", "1", QUESTION, "--index-dir", str(seed_index_copy), cwd=tmp_path)
    assert seeds.returncode == 0, seeds.stderr
    assert "will burn as other tanks" in json.loads(seeds.stdout)["results"][0]["text"]
