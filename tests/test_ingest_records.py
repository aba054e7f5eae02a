"""qa.ingest.records and qa.ingest.fields: record dumps (JSONL, JSON, CSV/TSV, Parquet) -> Articles.

Expected values are read off the fixture files in tests/fixtures/records/ and the inline inputs.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.errors import BadInputError
from qa.ingest import records
from qa.ingest.article import Article, ArticleMeta
from qa.ingest.files import display_path
from qa.ingest.fields import detect_fields, parse_fields_option, text_paragraphs
from qa.ingest.readers import ReadOptions, reader_for, suffix_of

FIXTURES = Path(__file__).parent / "fixtures" / "records"


def shown(path: Path) -> str:
    """How warnings name a file."""
    return display_path(str(path))


def read_all(path: Path, fields: dict[str, str] | None = None) -> tuple[list[Article], list[str], list[str]]:
    """(articles, warnings, mapping lines) of one file."""
    warnings: list[str] = []
    mapping: list[str] = []
    articles = list(
        records.read(path, ReadOptions(fields=fields or {}), warnings.append, on_fields=mapping.append)
    )
    return articles, warnings, mapping


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize(
    "name", ["a.jsonl", "a.JSONL", "a.ndjson", "a.jsonl.gz", "a.json", "a.csv", "a.tsv", "a.parquet"]
)
def test_registered_suffixes(name):
    assert suffix_of(name) is not None
    assert reader_for(name) is records.read


# --------------------------------------------------------------------------- formats


NEWS_JSONL = [
    Article(
        ArticleMeta(
            title="Harbour reopens after storms", outlet="www.coastnews.example", date="2024-03-01",
            author="Jane Smith, Tom Jones", url="https://www.coastnews.example/2024/03/01/harbour",
        ),
        [
            "The harbour reopened on Friday after a week of storms.",
            "Fishing boats returned to the quay by noon.",
            "The mayor thanked the rescue crews.",
        ],
        record=1,
    ),
    Article(
        ArticleMeta(
            title="Wheat prices climb", outlet="farmdaily.example", date="2024-03-05",
            author="Ana Lopez", url="https://farmdaily.example/wheat",
        ),
        ["Wheat prices rose 4 percent in March."],
        record=3,  # line 2 is blank and still counts
    ),
    Article(
        ArticleMeta(
            title="Council passes budget", outlet="citypaper.example", date=None, author=None,
            url="https://citypaper.example/budget",
        ),
        [
            "First paragraph of the council report, wrapped over two lines.",
            "Second paragraph: the budget passed.",
        ],
        record=4,
    ),
]


def test_news_please_jsonl():
    articles, warnings, mapping = read_all(FIXTURES / "news.jsonl")
    assert articles == NEWS_JSONL
    assert warnings == []
    name = shown(FIXTURES / "news.jsonl")
    assert mapping == [
        f"{name}: text=maintext, title=title, date=date_publish, outlet=source_domain, "
        "author=authors, url=url"
    ]


def test_jsonl_gz_and_ndjson(tmp_path):
    data = (FIXTURES / "news.jsonl").read_bytes()
    gz = tmp_path / "news.jsonl.gz"
    gz.write_bytes(gzip.compress(data))
    nd = tmp_path / "news.ndjson"
    nd.write_bytes(data)
    assert read_all(gz)[0] == NEWS_JSONL
    assert read_all(nd)[0] == NEWS_JSONL


def test_kaggle_csv_with_multiline_cell():
    articles, warnings, mapping = read_all(FIXTURES / "kaggle.csv")
    assert warnings == []
    assert mapping == [
        f"{shown(FIXTURES / 'kaggle.csv')}: text=content, title=headline, date=date, "
        "outlet=publication, author=author"
    ]
    assert articles == [
        Article(
            ArticleMeta("Senate votes on the bill", "Atlantic", "2016-12-31", "Alice Brown", None),
            ["The Senate voted 52 to 48 on Tuesday.", 'Lawmakers debated for "nine hours" before the vote.'],
            record=1,
        ),
        Article(
            ArticleMeta("Rain, wind and snow", "Reuters", "2017-01-02", None, None),
            ["Forecasters warn of a cold week, with snow in the north."],
            record=2,
        ),
        Article(
            ArticleMeta("Markets open higher", "Breitbart", "2017-01-03", "Bob Green", None),
            ["Stocks rose at the open.", "Oil fell slightly."],
            record=3,
        ),
    ]


def test_tsv_and_semicolon_csv(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_text("title\ttext\tdate\nOne\tBody one, with comma.\t2020-01-02\nTwo\tBody two.\t\n")
    semi = tmp_path / "b.csv"
    semi.write_text("title;text\nOne;Body one, with comma.\n")
    articles = read_all(tsv)[0]
    assert [(a.meta.title, a.paragraphs, a.meta.date, a.record) for a in articles] == [
        ("One", ["Body one, with comma."], "2020-01-02", 1),
        ("Two", ["Body two."], None, 2),
    ]
    assert [(a.meta.title, a.paragraphs) for a in read_all(semi)[0]] == [
        ("One", ["Body one, with comma."])
    ]


def test_json_array():
    articles, warnings, mapping = read_all(FIXTURES / "array.json")
    assert warnings == []
    assert mapping[0].endswith(": text=body, title=headline, date=published, outlet=publisher, "
                               "author=byline, url=link")
    assert articles == [
        Article(
            ArticleMeta("Bridge closed for repairs", "town.example", "2024-03-01", "Sam Lee",
                        "https://town.example/bridge"),
            ["The old bridge closes on Monday.", "Detours are signposted."],
            record=1,
        ),
        Article(
            ArticleMeta("Library extends hours", "Town Gazette", "2005-02-14", None, None),
            ["The library now opens until 9 pm."],
            record=2,
        ),
    ]


def test_json_object_holding_articles_html_and_nested_source():
    articles, warnings, mapping = read_all(FIXTURES / "newsapi.json")
    assert warnings == []
    assert mapping[0].endswith(": text=content, title=title, date=publishedAt, outlet=source.name, "
                               "author=author, url=url")
    assert articles == [
        Article(
            ArticleMeta("Dam levels rise", "Valley Times", "2024-04-10", "Kim Park", "https://valley.example/dam"),
            ["Dam levels rose to 80 percent.", "Water limits end next week."],
            record=1,
        ),
        Article(
            ArticleMeta("Hill race returns", "Hill Post", "2024-04-10", None, "https://hill.example/race"),
            ["The hill race returns after five years."],
            record=2,
        ),
    ]


def test_json_single_object_and_concatenated_objects(tmp_path):
    one = tmp_path / "one.json"
    one.write_text('{"title": "Solo", "text": "Only one.", "tags": ["a", "b"], "meta": {"site": "S"}}')
    many = tmp_path / "many.json"
    many.write_text('{"title": "A", "text": "a."}\n{"title": "B", "text": "b."}\n')
    (article,) = read_all(one)[0]
    assert (article.meta.title, article.paragraphs, article.record) == ("Solo", ["Only one."], 1)
    assert [(a.meta.title, a.record) for a in read_all(many)[0]] == [("A", 1), ("B", 2)]


def test_json_array_split_across_buffer_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "_CHUNK", 7)
    rows = [{"title": f"T{i}", "text": f"Body {i} " + "x" * (i * 5), "n": 10**i} for i in range(1, 9)]
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"meta": [1, 2], "articles": rows}, indent=1))
    articles = read_all(path)[0]
    assert [(a.meta.title, a.paragraphs, a.record) for a in articles] == [
        (r["title"], [r["text"]], i) for i, r in enumerate(rows, 1)
    ]


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "title": ["P1", "P2", "P3"],
        "article_body": ["One.\nTwo.", "", "Three."],
        "published_at": pa.array([1_700_000_000_000, None, 1_600_000_000_000], pa.timestamp("ms")),
        "source": pa.array([{"name": "Wire"}, {"name": "Wire"}, {"name": None}]),
        "raw_html": ["<html>big</html>"] * 3,
    })
    path = tmp_path / "a.parquet"
    pq.write_table(table, path, row_group_size=2)
    articles, warnings, mapping = read_all(path)
    assert mapping[0].endswith(": text=article_body, title=title, date=published_at, outlet=source.name")
    assert [(a.meta, a.paragraphs, a.record) for a in articles] == [
        (ArticleMeta("P1", "Wire", "2023-11-14"), ["One.", "Two."], 1),
        (ArticleMeta("P3", None, "2020-09-13"), ["Three."], 3),
    ]
    assert warnings == [f"{shown(path)}: 1 record(s) with no text skipped"]
    assert records._parquet_columns(pq.ParquetFile(path).schema_arrow, {}) == [
        "title", "article_body", "published_at", "source"
    ]


# --------------------------------------------------------------------------- field choice


def test_detect_fields_case_insensitive_with_description_only_as_fallback():
    assert detect_fields(["Headline", "Description", "Body", "PubDate", "Creator", "HREF"]) == {
        "text": "Body", "title": "Headline", "date": "PubDate", "author": "Creator", "url": "HREF",
    }
    assert detect_fields(["name", "description"]) == {"text": "description", "title": "name"}
    assert detect_fields(["a", "b"]) == {}


def test_longest_body_column_wins(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"title": "T", "text": "Teaser.", "full_text": "The full story, much longer than the teaser."},
    ])
    articles, _, mapping = read_all(path)
    assert mapping[0].endswith("text=full_text, title=title")
    assert articles[0].paragraphs == ["The full story, much longer than the teaser."]


def test_fields_option_overrides_detection(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"Summary": "Use me.", "text": "Not me.", "Head": "H"}])
    articles, _, mapping = read_all(path, parse_fields_option("text=summary, title=Head"))
    assert mapping[0].endswith("text=Summary, title=Head")
    assert (articles[0].meta.title, articles[0].paragraphs) == ("H", ["Use me."])


def test_fields_option_naming_a_missing_column(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "x", "title": "t"}])
    with pytest.raises(BadInputError, match=r"no column 'body' for --fields text= \(columns: text, title\)"):
        read_all(path, {"text": "body"})


def test_parse_fields_option():
    assert parse_fields_option("text=body,title=headline") == {"text": "body", "title": "headline"}
    assert parse_fields_option(" TEXT = Main Text ") == {"text": "Main Text"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "--fields is empty"),
        ("text", "--fields: 'text' is not FIELD=COLUMN"),
        ("text=", "--fields: 'text=' is not FIELD=COLUMN"),
        ("=body", "--fields: '=body' is not FIELD=COLUMN"),
        ("body=text", "--fields: unknown field 'body'"),
        ("text=a,text=b", "--fields: 'text' given twice"),
        ("text=a,,title=b", "--fields: '' is not FIELD=COLUMN"),
    ],
)
def test_parse_fields_option_rejects(value, message):
    with pytest.raises(BadInputError) as info:
        parse_fields_option(value)
    assert info.value.message == message
    assert "text=body" in (info.value.hint or "")


def test_text_paragraph_rules():
    assert text_paragraphs("One long line stays one paragraph.") == ["One long line stays one paragraph."]
    assert text_paragraphs("a\nb\r\nc") == ["a", "b", "c"]
    assert text_paragraphs("a\nb\n  \nc") == ["a b", "c"]
    assert text_paragraphs(["p1", "", "p2\n\np3"]) == ["p1", "p2", "p3"]
    assert text_paragraphs("x<br>y<br/>z") == ["x", "y", "z"]
    assert text_paragraphs("<div><p>A &amp; B</p><script>bad()</script><p>C</p></div>") == ["A & B", "C"]
    assert text_paragraphs("3 < 4 and 5 > 2") == ["3 < 4 and 5 > 2"]
    assert text_paragraphs(None) == [] and text_paragraphs({"a": 1}) == [] and text_paragraphs("  ") == []


def test_html_text_node_over_ten_megabytes_is_kept():
    paragraphs = text_paragraphs("<p>" + "word " * 2_200_000 + "</p><p>end</p>")
    assert [len(p) for p in paragraphs] == [len("word " * 2_200_000) - 1, 3]


# --------------------------------------------------------------------------- hostile input


def test_malformed_json_line_warns_with_file_and_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"title": "A", "text": "a."}\n{"title": "B", "text": \n\n{"title": "C", "text": "c."}\n')
    articles, warnings, _ = read_all(path)
    assert [(a.meta.title, a.record) for a in articles] == [("A", 1), ("C", 4)]
    assert warnings == [f"{shown(path)}:2: malformed JSON (Expecting value); skipped"]


def test_non_object_records_warn(tmp_path):
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('[1]\n"str"\nnull\n{"text": "ok"}\n')
    arr = tmp_path / "a.json"
    arr.write_text('[\n{"text": "ok"},\n5,\n["x"]\n]')
    articles, warnings, _ = read_all(jsonl)
    assert [a.record for a in articles] == [4]
    name = shown(jsonl)
    assert warnings == [
        f"{name}:1: a JSON array, not an object; skipped",
        f"{name}:2: a JSON string, not an object; skipped",
        f"{name}:3: a JSON null, not an object; skipped",
    ]
    articles, warnings, _ = read_all(arr)
    assert [a.record for a in articles] == [1]
    name = shown(arr)
    assert warnings == [
        f"{name}:3: element 2 is a JSON number, not an object; skipped",
        f"{name}:4: element 3 is a JSON array, not an object; skipped",
    ]


def test_truncated_json_array_keeps_earlier_records(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"text": "one"},\n{"text": "two"},\n{"text": "thr')
    articles, warnings, _ = read_all(path)
    assert [a.paragraphs for a in articles] == [["one"], ["two"]]
    assert warnings == [
        f"{shown(path)}:3: malformed JSON (Unterminated string starting at); stopped reading here"
    ]


def test_json_that_is_not_records(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('"just a string"')
    with pytest.raises(BadInputError, match="not a JSON array or object of records"):
        read_all(path)


def test_deeply_nested_json_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("[" * 100_000 + "\n" + '{"text": "ok"}\n')
    articles, warnings, _ = read_all(path)
    assert [a.record for a in articles] == [2]
    assert len(warnings) == 1 and warnings[0].startswith(f"{shown(path)}:1: malformed JSON")


def test_oversized_record_skipped_with_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "x" * 5000}, {"text": "small"}])
    articles, warnings, _ = read_all(path)
    assert [(a.paragraphs, a.record) for a in articles] == [(["small"], 2)]
    assert warnings == [f"{shown(path)}:1: record longer than 1,000 bytes; skipped"]


def test_oversized_json_element_stops_with_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    monkeypatch.setattr(records, "_CHUNK", 64)
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"text": "small"}, {"text": "x" * 5000}, {"text": "after"}]))
    articles, warnings, _ = read_all(path)
    assert [a.paragraphs for a in articles] == [["small"]]
    assert warnings == [
        f"{shown(path)}:1: a value longer than 1,000 characters; stopped reading here"
    ]


def test_oversized_json_element_in_buffer_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"text": "small"}, {"text": "x" * 5000}, {"text": "after"}]))
    articles, warnings, _ = read_all(path)
    assert [(a.paragraphs, a.record) for a in articles] == [(["small"], 1), (["after"], 3)]
    assert warnings == [f"{shown(path)}:1: element 2 longer than 1,000 characters; skipped"]


@pytest.mark.slow
def test_200_mb_single_line_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "w") as out:
        out.write('{"title": "huge", "text": "')
        block = "word " * 200_000  # 1 MB
        for _ in range(200):
            out.write(block)
        out.write('"}\n{"title": "after", "text": "fine"}\n')
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qa.ingest.records import read\n"
        "from qa.ingest.readers import ReadOptions\n"
        "warnings = []\n"
        "arts = list(read(Path(sys.argv[1]), ReadOptions(), warnings.append))\n"
        "print([a.meta.title for a in arts], warnings)\n"
        # VmHWM: this process's own peak (ru_maxrss would carry the forking parent's over exec)
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parents[1])
    found, peak_mb = done.stdout.strip().splitlines()
    assert found == f"['after'] ['{shown(path)}:1: record longer than 52,428,800 bytes; skipped']"
    assert int(peak_mb) < 300, f"peak RSS {peak_mb} MB"


def test_gzip_bomb_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "GZIP_MIN_CAP_BYTES", 200_000)
    line = json.dumps({"title": "t", "text": "0" * 1000}) + "\n"
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(line.encode() * 5000))  # 5 MB of records, ~10 KB on disk
    cap = max(records.GZIP_MAX_RATIO * path.stat().st_size, 200_000)
    articles, warnings, _ = read_all(path)
    assert 0 < len(articles) < 5000
    assert len(articles) <= cap // len(line) + 1
    assert warnings == [
        f"{shown(path)}: decompressed data exceeds {cap:,} bytes (gzip bomb?); "
        f"stopped reading after {len(articles)} record(s)"
    ]


def test_gzip_bomb_in_one_line_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "GZIP_MIN_CAP_BYTES", 100_000)
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(b"0" * 3_000_000))
    with pytest.raises(BadInputError, match="gzip bomb"):
        read_all(path)


def test_damaged_gzip(tmp_path):
    not_gz = tmp_path / "a.jsonl.gz"
    not_gz.write_text('{"text": "plain"}\n')
    with pytest.raises(BadInputError, match="damaged gzip data"):
        read_all(not_gz)
    cut = tmp_path / "b.jsonl.gz"
    data = gzip.compress(b"".join(json.dumps({"text": f"r{i} " * 50}).encode() + b"\n" for i in range(3000)))
    cut.write_bytes(data[: len(data) // 2])
    articles, warnings, _ = read_all(cut)
    assert 0 < len(articles) < 3000
    assert len(warnings) == 1 and "damaged gzip data" in warnings[0]


def test_broken_csv_quoting_loses_only_the_damaged_line(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        'title,text\n'
        'A,"fine, quoted"\n'
        'B,"opened and never closed\n'
        'C,plain\n'
        'D,"bad"tail\n'
        'E,last\n'
    )
    articles, warnings, _ = read_all(path)
    assert [(a.meta.title, a.paragraphs, a.record) for a in articles] == [
        ("A", ["fine, quoted"], 1), ("C", ["plain"], 3), ("E", ["last"], 5),
    ]
    name = shown(path)
    assert warnings == [
        f"{name}:3: row 2: broken CSV (',' expected after '\"'); skipped",
        f"{name}:5: row 4: broken CSV (',' expected after '\"'); skipped",
    ]


def test_csv_quote_left_open_to_the_end(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('title,text\nA,"never closed\nB,fine\n')
    articles, warnings, _ = read_all(path)
    assert [(a.meta.title, a.record) for a in articles] == [("B", 2)]
    assert warnings == [f"{shown(path)}:2: row 1: broken CSV (unexpected end of data); skipped"]


def test_csv_wrong_width_nul_and_cp1252(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"title,text\nA,caf\xe9 ok\nB,x,extra\nC,n\x00ul\n")
    articles, warnings, _ = read_all(path)
    assert [(a.meta.title, a.paragraphs, a.record) for a in articles] == [
        ("A", ["café ok"], 1), ("C", ["nul"], 3),
    ]
    assert warnings == [f"{shown(path)}:3: row 2: 3 fields, the header has 2; skipped"]


def test_huge_csv_field_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    path = tmp_path / "a.csv"
    path.write_text("title,text\nA," + "y" * 3000 + "\nB,small\n")
    articles, warnings, _ = read_all(path)
    assert [(a.meta.title, a.record) for a in articles] == [("B", 1)]
    assert warnings == [f"{shown(path)}:2: record longer than 1,000 bytes; skipped"]


def test_unknown_layout_names_columns_and_suggests_fields(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("alpha,beta,gamma\n1,2,3\n")
    with pytest.raises(BadInputError) as info:
        read_all(path)
    assert info.value.message == f"{shown(path)}: no article text column found (columns: alpha, beta, gamma)"
    assert info.value.hint == "Name it with --fields text=COLUMN"


@pytest.mark.parametrize("name", ["a.jsonl", "a.jsonl.gz", "a.json", "a.csv", "a.tsv", "a.parquet"])
def test_zero_byte_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    assert read_all(path) == ([], [], [])


def test_header_only_and_blank_files(tmp_path):
    csv_path = tmp_path / "a.csv"
    csv_path.write_text("title,text\n")
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n\n  \n")
    arr = tmp_path / "a.json"
    arr.write_text(" [ ] ")
    obj = tmp_path / "b.json"
    obj.write_text('{"status": "ok", "articles": []}')
    for path in (csv_path, jsonl, arr, obj):
        assert read_all(path) == ([], [], [])


def test_empty_texts_counted_in_one_warning(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"title": "A", "text": "a."}, {"title": "B", "text": ""}, {"title": "C", "text": None},
        {"title": "D"}, {"title": "E", "text": "<p> </p>"},
    ])
    articles, warnings, _ = read_all(path)
    assert [a.meta.title for a in articles] == ["A"]
    assert warnings == [f"{shown(path)}: 4 record(s) with no text skipped"]


def test_warnings_are_capped_per_file(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("garbage\n" * 30 + '{"text": "ok"}\n')
    articles, warnings, _ = read_all(path)
    assert [a.record for a in articles] == [31]
    assert len(warnings) == records.MAX_WARNINGS + 1
    assert warnings[-1] == f"{shown(path)}: 10 more problem(s) not shown"


def test_damaged_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": ["a"] * 100}), path)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(BadInputError, match="not a readable Parquet file"):
        read_all(path)
    junk = tmp_path / "b.parquet"
    junk.write_text("not parquet at all")
    with pytest.raises(BadInputError, match="not a readable Parquet file"):
        read_all(junk)


@pytest.mark.parametrize("name", ["a.jsonl", "a.json", "a.csv", "a.jsonl.gz"])
def test_binary_data_is_an_error(tmp_path, name):
    path = tmp_path / name
    payload = b"PK\x03\x04" + bytes(range(256)) * 40
    path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
    with pytest.raises(BadInputError, match="binary data, not text"):
        read_all(path)


SCIFACT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "scifact" / "corpus.jsonl"


@pytest.mark.skipif(not SCIFACT_CORPUS.exists(), reason="../shared/corpora/scifact is not on this machine")
def test_real_dump_scifact_corpus():
    lines = SCIFACT_CORPUS.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    warnings: list[str] = []
    articles = list(reader_for(SCIFACT_CORPUS)(SCIFACT_CORPUS, ReadOptions(), warnings.append))
    with_text = [i for i, line in enumerate(lines, 1) if line.strip() and json.loads(line)["text"].strip()]
    assert [a.record for a in articles] == with_text
    assert articles[0].meta == ArticleMeta(title=first["title"])
    assert articles[0].paragraphs == [" ".join(first["text"].split())]


_FUZZ_PIECES = [
    "{", "}", "[", "]", ",", ":", '"', "\\", "\n", "\r", "\n\n", "\x00", "\ufeff", "é", "text",
    "title", '"text"', '"title"', "1e999", "-", "0", "null", "true", "<p>", "</p>", "a b c", "\t",
]


@pytest.mark.parametrize("name", ["a.jsonl", "a.json", "a.csv", "a.tsv"])
def test_fuzzed_input_never_raises_anything_but_bad_input(tmp_path, name):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    path = tmp_path / name

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.sampled_from(_FUZZ_PIECES) | st.text(max_size=5), max_size=40))
    def check(pieces):
        path.write_text("".join(pieces), encoding="utf-8", errors="surrogatepass")
        try:
            articles, _, _ = read_all(path)
        except BadInputError:
            return
        for article in articles:
            assert article.paragraphs and all(p.strip() == p and p for p in article.paragraphs)
            assert article.record is not None and article.record >= 1

    check()
