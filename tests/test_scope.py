"""Scoped questions: filters restrict candidates before ranking, on both retrievers."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa.cli.app import app
from qa.errors import BadInputError
from qa.search.filters import Filters, glob_regex

runner = CliRunner()
QUESTION = "what did Peskov say about tanks"


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def ask_json(index_dir, *args: str) -> dict:
    result = invoke("ask", QUESTION, "--json", "--index-dir", str(index_dir), *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def sources_json(index_dir, *args: str) -> list[dict]:
    result = invoke("sources", "--json", "--index-dir", str(index_dir), *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [("2022", False, "2022-01-01"), ("2022", True, "2022-12-31"), ("2024-02", True, "2024-02-29"),
     ("2023-02", False, "2023-02-01"), ("2022-03-14", True, "2022-03-14")],
)
def test_partial_dates_expand_to_the_days_they_cover(value, end, expected):
    filters = Filters.build(until=value) if end else Filters.build(since=value)
    assert (filters.until if end else filters.since) == expected


@pytest.mark.parametrize("bad", ["2022-13", "yesterday", "2023-02-30", "22", "2022/01"])
def test_malformed_dates_are_one_line_errors(seed_index_dir, bad):
    with pytest.raises(BadInputError):
        Filters.build(since=bad)
    result = invoke("ask", QUESTION, "--since", bad, "--index-dir", str(seed_index_dir))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_since_after_until_is_refused():
    with pytest.raises(BadInputError):
        Filters.build(since="2024", until="2023")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [("**/x.txt", "a/b/x.txt", True), ("**/x.txt", "x.txt", True), ("data/*.txt", "data/a/b.txt", False),
     ("data/**", "data/a/b.txt", True), ("*.txt", "data/a.txt", False), ("data/a?.md", "data/ab.md", True)],
)
def test_path_globs(pattern, path, matches):
    import re

    assert bool(re.match(f"^(?:{glob_regex(pattern)})$", path)) is matches


def test_outlet_filter_is_exact_and_case_insensitive(seed_index_dir):
    everything = sources_json(seed_index_dir)
    anadolu = [a for a in everything if a["outlet"] == "Anadolu Agency"]
    assert anadolu and len(anadolu) < len(everything)
    assert sources_json(seed_index_dir, "--outlet", "anadolu AGENCY") == anadolu
    assert sources_json(seed_index_dir, "--outlet", "Anadolu") == []  # exact, not a prefix
    obj = ask_json(seed_index_dir, "--outlet", "anadolu agency", "-k", "50")
    assert obj["filters"] == {"outlet": ["anadolu agency"]}
    assert {r["source"]["outlet"] for r in obj["results"]} == {"Anadolu Agency"}


def test_a_scoped_ask_returns_exactly_min_k_and_passages_in_scope(seed_index_dir):
    scoped = sources_json(seed_index_dir, "--path", "**/little-ground-for-optimism.txt")
    assert len(scoped) == 1
    in_scope = scoped[0]["passages"]
    for k in (1, 3, in_scope, 100):
        obj = ask_json(seed_index_dir, "--path", "**/little-ground-for-optimism.txt", "-k", str(k),
                       "--no-collapse")
        assert len(obj["results"]) == min(k, in_scope)
        assert {r["source"]["path"] for r in obj["results"]} == {scoped[0]["path"]}


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_stays_inside_the_scope(seed_index_dir, mode):
    obj = ask_json(seed_index_dir, "--mode", mode, "--since", "2024", "-k", "20", "--no-collapse")
    dated = [a for a in sources_json(seed_index_dir) if a["date"] and a["date"] >= "2024-01-01"]
    assert obj["results"] and {r["source"]["path"] for r in obj["results"]} <= {a["path"] for a in dated}


def test_date_filters_drop_undated_articles_unless_asked(seed_index_dir):
    everything = sources_json(seed_index_dir)
    undated = [a for a in everything if a["date"] is None]
    dated_2023 = [a for a in everything if a["date"] and a["date"].startswith("2023")]
    assert undated and dated_2023
    assert sources_json(seed_index_dir, "--since", "2023", "--until", "2023") == dated_2023
    with_undated = sources_json(seed_index_dir, "--since", "2023", "--until", "2023", "--undated")
    assert {a["path"] for a in with_undated} == {a["path"] for a in dated_2023 + undated}


def test_a_filter_that_matches_nothing_says_which(seed_index_dir):
    obj = ask_json(seed_index_dir, "--outlet", "Reuters")
    assert obj["results"] == [] and obj["no_match"] is True
    text = invoke("ask", QUESTION, "--outlet", "Anadolu Agency", "--since", "2031",
                  "--index-dir", str(seed_index_dir))
    assert text.exit_code == 0
    assert "since=2031" in text.stdout and "outlet" not in text.stdout


def test_stdin_json_lines_carry_their_own_filters(seed_index_dir):
    lines = [
        json.dumps({"question": QUESTION, "outlet": "Anadolu Agency"}),
        QUESTION,
        json.dumps({"question": QUESTION, "since": "2024", "path": "**/kremlin-comments*.txt"}),
    ]
    result = invoke("ask", "-", "--json", "-k", "2", "--index-dir", str(seed_index_dir),
                    input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    first, plain, third = (json.loads(line) for line in result.stdout.splitlines())
    assert first["filters"] == {"outlet": ["Anadolu Agency"]}
    assert {r["source"]["outlet"] for r in first["results"]} == {"Anadolu Agency"}
    assert "filters" not in plain
    assert third["filters"] == {"since": "2024", "path": ["**/kremlin-comments*.txt"]}
    assert all("kremlin-comments" in r["source"]["path"] for r in third["results"])


@pytest.mark.parametrize(
    "line", ['{"question": 5}', '{"no question": "x"}', '{"question": "x", "since": "soon"}',
             '{"question": "x", "outlet": 3}', '{broken'],
)
def test_bad_stdin_json_is_a_one_line_error(seed_index_dir, line):
    result = invoke("ask", "-", "--json", "--index-dir", str(seed_index_dir), input=line + "\n")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_relevance_is_a_probability_and_min_relevance_drops_hits(seed_index_dir):
    obj = ask_json(seed_index_dir, "-k", "10")
    relevances = [r["relevance"] for r in obj["results"]]
    assert all(0.0 <= r <= 1.0 for r in relevances)
    ordered = sorted(set(relevances))
    assert len(ordered) >= 2
    cut = (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2  # between two hits
    kept = ask_json(seed_index_dir, "-k", "10", "--min-relevance", str(cut))["results"]
    assert [r["passage_id"] for r in kept] == [
        r["passage_id"] for r in obj["results"] if r["relevance"] >= cut
    ]
    assert [r["rank"] for r in kept] == list(range(1, len(kept) + 1))


def test_common_terms_are_left_out_only_past_the_postings_budget(seed_index_dir, monkeypatch):
    import qa.search.searcher as searcher_module
    from qa.search.searcher import Searcher

    searcher = Searcher(seed_index_dir, None, notice=lambda m: None)
    try:
        terms = ["peskov", "tanks", "kremlin", "abrams"]
        assert searcher._affordable(terms) == terms  # a small archive: every term counts
        monkeypatch.setattr(searcher_module, "POSTINGS_BUDGET", 1)
        kept = searcher._affordable(terms)
        df = {t: searcher.store.document_frequency(t) for t in terms}
        assert kept == sorted(terms, key=lambda t: df[t])[:2]  # the two rarest always stay
    finally:
        searcher.close()
