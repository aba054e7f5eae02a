"""`qa bench` on a tiny BEIR folder written by the test: shape of the output and sane scores."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa.evaluation.beir import load_beir
from qa.cli.app import app
from qa.errors import BadInputError

DOCS = {
    "d1": ("Aspirin and heart attacks", "Daily low-dose aspirin reduces the risk of heart attack in adults."),
    "d2": ("Coffee and sleep", "Caffeine taken late in the day delays sleep onset and shortens deep sleep."),
    "d3": ("Exercise and mood", "Regular aerobic exercise lowers symptoms of depression and anxiety."),
    "d4": ("Vitamin D", "Vitamin D deficiency is common in northern countries during winter."),
}
QUERIES = {
    "q1": "aspirin lowers heart attack risk",
    "q2": "caffeine disturbs sleep",
    "q3": "physical activity improves depression",
}
QRELS = {"q1": "d1", "q2": "d2", "q3": "d3"}


@pytest.fixture(scope="module")
def beir_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-beir")
    with (folder / "corpus.jsonl").open("w") as f:
        for doc_id, (title, text) in DOCS.items():
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as f:
        for qid, text in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
        f.write(json.dumps({"_id": "unjudged", "text": "not in qrels"}) + "\n")
    (folder / "qrels").mkdir()
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, d in QRELS.items()]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return folder


def test_load_beir_reads_docs_queries_and_qrels(beir_dir):
    data = load_beir(beir_dir)
    assert len(data.docs) == 4
    assert data.docs[0].article.meta.title == "Aspirin and heart attacks"
    assert set(data.queries) == {"q1", "q2", "q3"}  # unjudged queries are not scored
    assert data.qrels["q2"] == {"d2": 1}


def test_load_beir_refuses_other_folders(tmp_path):
    with pytest.raises(BadInputError):
        load_beir(tmp_path)


def test_bench_json_rows_for_every_mode(beir_dir, tmp_path):
    result = CliRunner().invoke(
        app,
        ["bench", str(beir_dir), "--mode", "all", "--json", "--index-dir", str(tmp_path / "ix"),
         "--model", "hashing"],  # the plumbing, not the model, is the point here
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["mode"] for r in rows] == ["hybrid", "dense", "lexical"]
    for row in rows:
        assert set(row) == {"dataset", "mode", "queries", "ndcg@10", "recall@10", "recall@100", "mrr@10"}
        assert row["dataset"] == beir_dir.name and row["queries"] == 3
        # every query has one obvious answer among four documents
        assert row["recall@10"] == 1.0
        assert row["mrr@10"] == pytest.approx(1.0)
        assert row["ndcg@10"] == pytest.approx(1.0)


QUESTIONS = [
    {"question": "Abrams tanks will burn", "path": "data/anadolu-kremlin-no-prospects-for-peace-talks.txt",
     "any": ["will burn as other tanks"], "split": "dev"},
    {"question": "Doomsday Clock alarming", "path": "anadolu-kremlin-no-prospects-for-peace-talks.txt",
     "any": ["Doomsday Clock"], "split": "test"},
    {"question": "tanks", "path": "data/no-such-file.txt", "any": ["tanks"], "split": "dev"},
]


def test_question_bench_scores_labelled_questions(tmp_path):
    from conftest import DATA

    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["bench", str(questions), "--corpus", str(DATA), "--model", "hashing", "--json",
              "--index-dir", str(tmp_path / "ix")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.splitlines()[0])
    assert {"questions", "hit@1", "hit@3", "hit@5", "mrr@10", "misses"} <= set(row)
    assert row["questions"] == 3
    # the third question names a file that is not indexed: it can never be a hit
    assert row["hit@5"] <= 2 / 3
    assert any(m["question"] == "tanks" and m["rank"] is None for m in row["misses"])
    dev = CliRunner().invoke(
        app, ["bench", str(questions), "--split", "test", "--json", "--index-dir", str(tmp_path / "ix")],
        catch_exceptions=False,
    )
    assert json.loads(dev.stdout.splitlines()[0])["questions"] == 1


@pytest.mark.parametrize("line", ["{broken", '{"question": "x"}', '{"question": "x", "path": "p", "any": 3}'])
def test_question_bench_rejects_malformed_lines_in_one_line(tmp_path, line):
    questions = tmp_path / "q.jsonl"
    questions.write_text(line + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", str(questions), "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert "q.jsonl:1" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _hit(path: str, text: str, answer: str, page: int | None = None):
    from qa.ingest.article import ArticleMeta
    from qa.search.results import Hit, HitSource

    source = HitSource(path, None, 1, None, page, ArticleMeta())
    return Hit(1, 1.0, 0.5, 1, text, answer, text.index(answer), source)


def test_answer_at_1_needs_the_phrase_in_the_answer_sentence_of_the_right_source():
    from qa.evaluation.questions import LabelledQuestion, answer_holds, is_hit

    text = "The talks stalled. Peskov said the tanks would burn. Nothing else was agreed."
    label = LabelledQuestion("tanks?", "a.txt", ("tanks would burn",), None, None,
                             answer=("tanks would burn",))
    assert answer_holds(_hit("x/a.txt", text, "Peskov said the tanks would burn."), label)
    # right passage, wrong sentence in bold: a passage hit, not an answer
    wrong = _hit("x/a.txt", text, "Nothing else was agreed.")
    assert is_hit(wrong, label) and not answer_holds(wrong, label)
    # the right words from another article do not count
    assert not answer_holds(_hit("x/b.txt", text, "Peskov said the tanks would burn."), label)
    # an "answer" of more than 60 words is a paragraph, not a sentence
    long = "Peskov said the tanks would burn " + "and more " * 30 + "."
    assert not answer_holds(_hit("x/a.txt", long, long), label)
    # no answer labels: not measured
    unlabelled = LabelledQuestion("tanks?", "a.txt", ("tanks",), None, None)
    assert not answer_holds(_hit("x/a.txt", text, "Peskov said the tanks would burn."), unlabelled)


def test_a_page_label_requires_the_hit_from_that_page():
    from qa.evaluation.questions import LabelledQuestion, is_hit

    text = "Revenue rose 4 percent to $1.2 billion."
    label = LabelledQuestion("revenue?", "r.pdf", ("rose 4 percent",), None, None, page=2)
    assert is_hit(_hit("r.pdf", text, text, page=2), label)
    assert not is_hit(_hit("r.pdf", text, text, page=3), label)


def test_question_bench_reports_answer_at_1_for_labelled_questions(tmp_path):
    from conftest import DATA

    questions = tmp_path / "q.jsonl"
    rows = [dict(QUESTIONS[0], answer=["will burn as other tanks"]), QUESTIONS[1]]
    questions.write_text("\n".join(json.dumps(q) for q in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["bench", str(questions), "--corpus", str(DATA), "--model", "hashing", "--json",
              "--index-dir", str(tmp_path / "ix")],
        catch_exceptions=False,
    )
    row = json.loads(result.stdout.splitlines()[0])
    assert row["answer_questions"] == 1  # only the first question has sentence labels
    assert row["answer@1"] in (0.0, 1.0)
    text = CliRunner().invoke(
        app, ["bench", str(questions), "--index-dir", str(tmp_path / "ix")], catch_exceptions=False
    )
    assert "answer@1 (1)" in text.stdout


def test_question_bench_rejects_answer_phrases_that_are_not_a_list(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps(dict(QUESTIONS[0], answer="tanks")) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["bench", str(questions), "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 1 and "q.jsonl:1" in result.stderr
