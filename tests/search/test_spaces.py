"""Search spaces: ConSE on a toy label set, text lines, the registry; a deterministic toy encoder.

`BowEncoder` is a bag-of-words encoder (one fixed pseudo-random vector per content word, summed):
not a model, an oracle whose geometry we know: texts sharing content words are close. The other
test modules import it from here.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from vidseek.extract.experts import (
    EXPERTS,
    ExpertOptions,
    TextEncoder,
    TextEncoderCard,
    WeightsInfo,
    register_text_encoder,
)
from vidseek.registry import UnknownNameError
from vidseek.search.conse import ConseSpace, clean_label, load_labels
from vidseek.search.spaces import SpaceContext, space_builder, space_names
from vidseek.search.textlines import TextLineSpace, merge_lines
from vidseek.types import Features

STOP = {"a", "an", "the", "of", "on", "in", "video", "someone", "is", "to", "about", "and", "with"}


class BowEncoder(TextEncoder):
    name = "bow-test"
    dim = 64
    weights = WeightsInfo(sha256="bow-test-v1", source="tests/test_spaces.py", random=True)

    def _word(self, w: str) -> np.ndarray:
        return np.random.default_rng(zlib.crc32(w.encode())).standard_normal(self.dim)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z]+", t.lower()):
                if w not in STOP:
                    out[i] += self._word(w)
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(n > 0, n, 1)


register_text_encoder(TextEncoderCard(name="bow-test", summary="test oracle: bag of words",
                                      builder=lambda opts: BowEncoder(), dim=BowEncoder.dim))

TOY_LABELS = ["dog", "cat", "car", "flipping_pancake", "guitar", "skateboard"]


def ctx(tmp_path: Path, **params: object) -> SpaceContext:
    return SpaceContext(root=tmp_path, encoder=BowEncoder(), weights_sha={"toy": "w1"}, params=dict(params))


def test_conse_probability_on_dog_is_nearest_to_a_dog(tmp_path: Path) -> None:
    space = ConseSpace(ctx(tmp_path), "toy", labels=TOY_LABELS, topk=3)
    probs = np.full((1, len(TOY_LABELS)), 0.02, np.float32)
    probs[0, 0] = 0.9
    _, vec = space.embed_video({"toy": Features("toy", [[0, 1]], np.zeros((1, 0)), probs=probs)})
    queries = ["a dog", "a cat", "a car", "someone flips a pancake", "a guitar"]
    sims = [float(vec[0] @ space.embed_query(q)) for q in queries]
    assert int(np.argmax(sims)) == 0
    assert np.isclose(np.linalg.norm(vec[0]), 1.0, atol=1e-5)


def test_conse_uses_only_topk_and_caches_label_embeddings(tmp_path: Path) -> None:
    space = ConseSpace(ctx(tmp_path), "toy", labels=TOY_LABELS, topk=1)
    probs = np.array([[0.4, 0.35, 0.25, 0, 0, 0]], np.float32)
    vec = space.project(probs)
    emb = space.label_embeddings()
    np.testing.assert_allclose(vec[0], emb[0], atol=1e-6)  # only "dog" survives top-1
    cached = list((tmp_path / "retrieval" / "labels").glob("toy-*.npy"))
    assert len(cached) == 1
    np.testing.assert_allclose(np.load(cached[0]), emb)
    # prompt and top-k enter the identity: an index made with other parameters is not reused
    other = ConseSpace(ctx(tmp_path, topk=2), "toy", labels=TOY_LABELS)
    assert other.topk == 2 and other.identity != space.identity


def test_conse_explain_names_concepts(tmp_path: Path) -> None:
    space = ConseSpace(ctx(tmp_path), "toy", labels=TOY_LABELS, topk=3)
    probs = np.zeros((3, 6), np.float32)
    probs[:, 2] = 1.0
    probs[1] = [0.7, 0, 0, 0, 0, 0.3]
    feats = {"toy": Features("toy", [[0, 1], [1, 2], [2, 3]], np.zeros((3, 0)), probs=probs)}
    why = space.explain(feats, 1.0, 2.0, (np.zeros((3, 2)), np.zeros(3)), space.embed_query("a dog"))
    assert why["concepts"][0] == ["dog", 0.7]
    assert why["matched"][0] == "dog"


def test_clean_label_and_kinetics_labels() -> None:
    assert clean_label("tench, Tinca tinca") == "tench"
    assert clean_label("flipping_pancake") == "flipping pancake"
    labels = load_labels("i3d", 400)
    assert len(labels) == 400 and "flipping pancake" in labels


def test_merge_lines_hand_case() -> None:
    times = np.array([[0, 2], [2, 4], [4, 5], [9, 12], [12, 20]], float)
    texts = ["we download", "the dataset", "", "then train", "a very long line"]
    t, s = merge_lines(times, texts, 6.0)
    np.testing.assert_array_equal(t, [[0, 4], [9, 12], [12, 20]])
    assert s == ["we download the dataset", "then train", "a very long line"]
    t0, s0 = merge_lines(times, texts, 0.0)
    assert len(t0) == 4 and s0[0] == "we download"


def test_text_line_space_explain_picks_matching_line(tmp_path: Path) -> None:
    space = TextLineSpace(ctx(tmp_path), "ocr")
    f = Features("ocr", [[0, 1], [1, 2], [2, 3]], np.zeros((3, 0)),
                 texts=["welcome", "", "download the dataset here"])
    times, vecs = space.embed_video({"ocr": f})
    assert len(times) == 2
    q = space.embed_query("downloading the dataset")
    scores = vecs @ q
    why = space.explain({"ocr": f}, 0.0, 3.0, (times, scores), q)
    assert why["text"] == "download the dataset here"


def test_zero_shot_spaces_are_the_cards_with_a_feed() -> None:
    names = space_names()
    fed = {n for n in EXPERTS.names() if EXPERTS.get(n).space is not None}
    assert {"effnet_lite0", "i3d", "asr", "ocr"} <= fed <= set(names)
    assert "whisper_audio" not in names  # no text side offline: cannot be queried by text
    with pytest.raises(UnknownNameError, match="known: asr"):
        space_builder("whisper_audio")


def test_real_minilm_conse_pancake() -> None:
    """With the real MiniLM: Kinetics probabilities on 'flipping pancake' are nearest the query."""
    try:
        from vidseek.extract.experts import create_text_encoder

        enc = create_text_encoder("minilm", ExpertOptions())
    except Exception as err:  # noqa: BLE001 - encoder or its weights not available here
        pytest.skip(f"minilm text encoder not available: {err}")
    labels = load_labels("i3d", 400)
    space = ConseSpace(SpaceContext(root=Path("/nonexistent-ro"), encoder=enc), "i3d", labels=labels)
    probs = np.zeros((2, 400), np.float32)
    probs[0, labels.index("flipping pancake")] = 0.8
    probs[1, labels.index("arm wrestling")] = 0.8
    vec = space.project(probs)
    q = space.embed_query("someone flips a pancake")
    assert float(vec[0] @ q) > float(vec[1] @ q)


def test_doubtful_lines_are_not_indexed(tmp_path: Path) -> None:
    """Whisper's hallucinations on noise come with low word probabilities; they are dropped."""
    f = Features("asr", [[0, 1], [1, 2], [2, 3], [3, 4]], np.zeros((4, 0)),
                 texts=["Love is being done.", "we download the dataset", ". .", "no meta here"],
                 meta=[{"words": [[0, 1, "Love", 0.001], [0, 1, "is", 0.03]]},
                       {"words": [[1, 2, "we", 0.9], [1, 2, "download", 0.6]]}, {}, {}])
    space = TextLineSpace(ctx(tmp_path), "asr", merge_seconds=0.0)
    times, texts = space.lines({"asr": f})
    assert texts == ["we download the dataset", "no meta here"]
    np.testing.assert_array_equal(times, [[1, 2], [3, 4]])
    ocr = Features("ocr", [[0, 1], [1, 2]], np.zeros((2, 0)), texts=["LAION-400M", "x7#"],
                   meta=[{"confidence": 0.93}, {"confidence": 0.2}])
    assert TextLineSpace(ctx(tmp_path), "ocr").lines({"ocr": ocr})[1] == ["LAION-400M"]


def test_query_cache_is_bounded_and_keeps_the_recent() -> None:
    """A server answers queries for days: the shared query cache keeps the most recent only,
    and a cached vector is the encoder's own."""
    from vidseek.search.spaces import CachedQueryEncoder

    calls: list[list[str]] = []

    class Encoder:
        name, dim = "counting", 4

        def __call__(self, texts):
            calls.append(list(texts))
            return np.array([[len(t), 1.0, 0.0, 0.0] for t in texts], np.float32)

    enc = CachedQueryEncoder(Encoder(), max_queries=3)  # type: ignore[arg-type]
    first = enc("a")
    for q in ["bb", "ccc", "a", "dddd"]:  # "a" used again: "bb" is now the oldest
        enc(q)
    assert len(enc._cache) == 3 and list(enc._cache) == ["ccc", "a", "dddd"]
    n = len(calls)
    np.testing.assert_array_equal(enc("a"), first)
    assert len(calls) == n  # still cached
    enc("bb")
    assert len(calls) == n + 1  # evicted, encoded again
