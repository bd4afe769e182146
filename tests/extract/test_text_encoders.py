"""Text encoders: the contract on tiny twins, GloVe file formats against a hand-computed mean,
and the packaged MiniLM / GloVe weights on meaning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidseek.errors import WeightsNotFoundError
from vidseek.extract.experts import TEXT_ENCODERS, ExpertOptions, create_text_encoder
from vidseek.extract.experts.base import WeightsInfo
from vidseek.extract.experts.text import GloVe, HashedWords, tokenize

TEXTS = ["a dog rides a skateboard", "A dog rides a skateboard!", "a person flips a pancake"]


@pytest.mark.parametrize("name", ["minilm", "glove50", "bert", "clip_b32"])
def test_tiny_twin_contract(name: str) -> None:
    enc = create_text_encoder(name, ExpertOptions(tiny=True))
    assert enc.weights.random and enc.weights.sha256 == "random-init"
    out = enc(TEXTS)
    assert out.shape == (3, enc.dim) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(enc(TEXTS[:1]), out[:1], atol=1e-5)  # deterministic, batch-free
    assert enc([]).shape == (0, enc.dim)


def test_registry_names() -> None:
    assert {"minilm", "glove50", "bert", "clip_b32"} <= set(TEXT_ENCODERS.names())
    with pytest.raises(KeyError, match="known: .*minilm"):
        create_text_encoder("no_such_encoder")


def test_hashed_words_match_equal_words_only() -> None:
    enc = HashedWords("toy", 64)
    a, b, c = enc(TEXTS)
    assert np.isclose(a @ b, 1.0) and a @ c < 0.9  # case and punctuation do not matter
    assert enc.word_vectors(["dog", "dog"]).tolist()[0] == enc.word_vectors(["dog"]).tolist()[0]
    assert tokenize("It's a dog-walker, 3 dogs!") == ["it's", "a", "dog-walker", "3", "dogs"]


def test_glove_text_file_bag_of_words(tmp_path: Path) -> None:
    f = tmp_path / "glove.txt"
    f.write_text("dog 1 0 0\ncat 0 1 0\nrides 0 0 2\n")
    enc = GloVe(f, WeightsInfo("x", str(f)))
    assert enc.dim == 3
    expect = np.array([1.0, 0.0, 2.0]) / np.sqrt(5)  # mean of dog and rides; "a"/"zebra" unknown
    np.testing.assert_allclose(enc(["a dog rides", "zebra"]), [expect, [0, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(enc.word_vectors(["cat", "zebra"]), [[0, 1, 0], [0, 0, 0]])


def test_bert_missing_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSEEK_WEIGHTS_DIR", str(tmp_path / "w"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("VIDSEEK_ONLINE", raising=False)
    with pytest.raises(WeightsNotFoundError, match="bert-base-uncased"):
        create_text_encoder("bert")


# --- packaged pretrained weights ------------------------------------------------------------------
@pytest.fixture(scope="module")
def minilm():  # type: ignore[no-untyped-def]
    return create_text_encoder("minilm")


ODD_TEXTS = [
    "a dog rides a skateboard", "", "a", "Downloading THE dataset, then unzipping it!",
    "ÉCOLE naïve café 東京 🤖 -- don't stop", "the speaker explains gradient descent " * 60,
    "someone flips a pancake", "a video of flipping pancake",
]


def test_minilm_equals_sentence_transformers(minilm) -> None:  # type: ignore[no-untyped-def]
    """The numpy MiniLM gives sentence-transformers' vectors (same folder, same weights) to
    1e-5: empty, one-letter, non-ASCII, past-256-token (truncated) texts, mixed in one batch."""
    st = pytest.importorskip("sentence_transformers", reason="the oracle is sentence-transformers")
    import torch

    torch.set_num_threads(1)
    from vidseek.extract.experts.text import MiniLM, _minilm_package_dir

    assert isinstance(minilm, MiniLM)
    ref = st.SentenceTransformer(str(_minilm_package_dir()), device="cpu")
    want = ref.encode(ODD_TEXTS, batch_size=3, convert_to_numpy=True, normalize_embeddings=True)
    got = minilm(ODD_TEXTS)
    assert got.shape == want.shape == (len(ODD_TEXTS), 384) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(minilm(ODD_TEXTS[-1:]), want[-1:], atol=1e-5)  # alone = in a batch


def test_minilm_ranks_by_meaning(minilm) -> None:  # type: ignore[no-untyped-def]
    assert not minilm.weights.random and len(minilm.weights.sha256) == 64
    q, near, far = minilm(["a dog rides a skateboard", "a puppy on a skateboard",
                           "a person flips a pancake"])
    assert minilm.dim == 384 and np.isclose(np.linalg.norm(q), 1.0, atol=1e-5)
    assert q @ near > q @ far + 0.3


def test_glove50_nearest_words() -> None:
    enc = create_text_encoder("glove50")
    assert enc.dim == 50 and not enc.weights.random
    words = ["dogs", "cat", "puppy", "government", "computer", "river", "pancake", "economy"]
    sims = (enc(words) @ enc(["dog"]).T).ravel()
    top3 = {words[i] for i in np.argsort(-sims)[:3]}
    assert top3 == {"dogs", "cat", "puppy"}, dict(zip(words, sims.round(3), strict=True))
    assert isinstance(enc, GloVe)
    seq = enc.word_vectors(enc.tokenize("The dog, the cat."))
    assert seq.shape == (4, 50) and np.abs(seq).sum(1).all()
