"""A BERT sentence encoder in plain numpy: the MiniLM query encoder without torch.

Why: `vidseek search` from the shell paid ~8 s importing sentence-transformers (and torch under
it) to embed one query. all-MiniLM-L6-v2 is a 6-layer BERT with mean pooling and L2
normalisation (its `modules.json`: Transformer -> Pooling(mean) -> Normalize); this module runs
that exact graph on the same safetensors weights with the same WordPiece tokenizer
(`tokenizers`, the Rust library sentence-transformers' fast tokenizer wraps). Importing it costs
numpy + tokenizers + safetensors (~0.1 s); one query takes a few ms on one core.
tests/extract/test_text_encoders.py checks its vectors against sentence-transformers' to 1e-5.

Inference only: no dropout, GELU exact (erf), LayerNorm eps from the model's config.json.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vidseek.threads import one_blas_thread

SMALL_TOKENS = 2048
"""Batches of at most this many tokens (a query, a few lines) run on one BLAS thread."""

# GELU through erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 rounding of
# the matmul that follows), computed in place in float32: the tail c = 1 - erf(|z|) is
# poly(t) * exp(-z^2) with t = 1 / (1 + p|z|), and Phi(x) = 1 - c/2 for x >= 0, c/2 below.
_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)  # Horner order
_P = 0.3275911


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x * Phi(x) (what BERT's "gelu" means in transformers)."""
    x = np.asarray(x, np.float32)
    z = np.abs(x)
    z *= np.float32(1.0 / np.sqrt(2.0))
    t = z * np.float32(_P)
    t += 1.0
    np.reciprocal(t, out=t)
    c = np.full_like(t, _A[0])
    for a in _A[1:]:
        c *= t
        c += np.float32(a)
    c *= t
    np.multiply(z, z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    c *= z
    c *= 0.5  # c/2 = Phi(-|x|)
    phi = np.where(x >= 0, np.float32(1.0) - c, c)
    phi *= x
    return phi


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return ((x - mu) / np.sqrt(var + eps) * w + b).astype(np.float32)


class NumpyBert:
    """A BertModel forward (last hidden state) over weights read from a safetensors file.

    folder: a transformers / sentence-transformers model folder (config.json, model.safetensors,
    tokenizer.json). max_length: tokens per text after truncation (sentence-transformers'
    `max_seq_length`, from sentence_bert_config.json when present).
    """

    def __init__(self, folder: Path, max_length: int | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        cfg = json.loads((folder / "config.json").read_text())
        if cfg.get("hidden_act", "gelu") != "gelu" or cfg.get("position_embedding_type",
                                                               "absolute") != "absolute":
            raise ValueError(f"{folder}: only absolute-position GELU BERTs are supported")
        st_cfg = folder / "sentence_bert_config.json"
        if max_length is None:
            max_length = int(json.loads(st_cfg.read_text()).get("max_seq_length", 512)) \
                if st_cfg.exists() else 512
        self.max_length = min(int(max_length), int(cfg["max_position_embeddings"]))
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.dim = int(cfg["hidden_size"])
        w = load_file(str(folder / "model.safetensors"))
        w = {k.removeprefix("bert."): v for k, v in w.items()}
        # the linear layers' weights stored transposed and contiguous (in, out): a query's few
        # rows then multiply 2.5-3x faster than through the (out, in) view's transpose flag
        # (OpenBLAS, 8 rows x 384: 0.50 -> 0.18 ms), with the same result bit for bit
        self.wt = {k: np.ascontiguousarray(w.pop(k).T) for k in list(w)
                   if k.startswith("encoder.layer.") and k.endswith(".weight") and w[k].ndim == 2}
        self.w = w
        self.layers = int(cfg["num_hidden_layers"])
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(self.max_length)
        self.tokenizer = tok

    def encode_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids (B, L) int64, mask (B, L) float32), padded to the longest text."""
        encs = self.tokenizer.encode_batch(list(texts))
        n = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), n), np.int64)
        mask = np.zeros((len(encs), n), np.float32)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1.0
        return ids, mask

    def hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden state (B, L, dim) float32."""
        w = self.w
        b, n = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] \
            + w["embeddings.position_embeddings.weight"][:n][None] \
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        h, dh = self.heads, self.dim // self.heads
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # (B, 1, 1, L)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(x: np.ndarray, name: str, p: str = p) -> np.ndarray:
                y = x.reshape(-1, x.shape[-1]) @ self.wt[p + name + ".weight"]  # 2-d: one BLAS call
                y += w[p + name + ".bias"]
                return y.reshape(*x.shape[:-1], -1)

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(b, n, h, dh).transpose(0, 2, 1, 3)

            q = split(lin(x, "attention.self.query"))
            k = split(lin(x, "attention.self.key"))
            v = split(lin(x, "attention.self.value"))
            s = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(dh)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b, n, self.dim)
            x = layer_norm(lin(ctx, "attention.output.dense") + x,
                           w[p + "attention.output.LayerNorm.weight"],
                           w[p + "attention.output.LayerNorm.bias"], self.eps)
            inter = gelu(lin(x, "intermediate.dense"))
            x = layer_norm(lin(inter, "output.dense") + x, w[p + "output.LayerNorm.weight"],
                           w[p + "output.LayerNorm.bias"], self.eps)
        return np.asarray(x, np.float32)

    def mean_pooled(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(len(texts), dim) masked-mean-pooled hidden states, L2-normalised (sentence-
        transformers' Pooling(mean) + Normalize). Texts are batched by length, as it does."""
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for s in range(0, len(texts), batch_size):
            sel = order[s : s + batch_size]
            ids, mask = self.encode_ids([texts[i] for i in sel])
            small = ids.size <= SMALL_TOKENS
            with one_blas_thread() if small else contextlib.nullcontext():
                hid = self.hidden(ids, mask)
            pooled = (hid * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            out[sel] = pooled
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norm, 1e-12)).astype(np.float32)

