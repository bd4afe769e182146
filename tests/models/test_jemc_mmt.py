"""JEMC and MMT: the weighted ranking loss by hand, training on planted features, missing experts."""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from vidseek.extract.experts import TEXT_ENCODERS, TextEncoderCard, register_text_encoder
from vidseek.extract.experts.base import TextEncoder, WeightsInfo
from vidseek.models.cards import MODELS, build_dataset, build_model, model_cards
from vidseek.models.losses import max_margin_ranking, weighted_hardest_triplet
from vidseek.models.training import TrainConfig, load_run, train

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class _HashedNgrams(TextEncoder):
    """Stand-in tiny sentence encoder used only while the zoo's `minilm` twin is not registered:
    random vectors of words and word bigrams (order-aware), summed and normalised."""

    name, dim = "test_hashed_ngrams", 48
    weights = WeightsInfo("none", "random-init", True)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            ws = re.findall(r"[a-z]+", t.lower())
            for g in ws + [a + " " + b for a, b in zip(ws, ws[1:], strict=False)]:
                out[i] += np.random.default_rng(zlib.crc32(g.encode())).standard_normal(self.dim)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)


def _sentence_encoder() -> str:
    if "minilm" in TEXT_ENCODERS:
        return "minilm"
    if _HashedNgrams.name not in TEXT_ENCODERS:
        register_text_encoder(TextEncoderCard(name=_HashedNgrams.name, summary="test ngrams",
                                              builder=lambda _o: _HashedNgrams(), dim=_HashedNgrams.dim))
    return _HashedNgrams.name


def test_weighted_loss_hand_computed() -> None:
    s = torch.tensor([[0.9, 0.5, 0.2], [0.6, 0.4, 0.1], [0.3, 0.8, 0.7]], requires_grad=True)
    loss, logs = weighted_hardest_triplet(s, margin=0.2)
    # captions: row0 cost 0; row1 (0.2-0.4+0.6)=0.4 at rank 2 of 3 -> x1.5; row2 0.3 at rank 2 -> x1.5
    assert logs["t2v"] == pytest.approx((0 + 0.4 * 1.5 + 0.3 * 1.5) / 3)
    # videos: col1 (0.2-0.4+0.8)=0.6 at rank 3 of 3 -> x2; cols 0, 2 cost 0
    assert logs["v2t"] == pytest.approx(0.6 * 2 / 3)
    assert float(loss) == pytest.approx(0.35 + 0.4)
    loss.backward()
    assert s.grad is not None and s.grad[1, 1] < 0  # pushes the positive up
    plain, _ = weighted_hardest_triplet(s.detach(), margin=0.2, weighted=False)
    assert float(plain) == pytest.approx((0.4 + 0.3) / 3 + 0.6 / 3)
    same = torch.tensor([[False, True, False], [True, False, False], [False, False, False]])
    _, logs = weighted_hardest_triplet(s.detach(), margin=0.2, same=same)
    assert logs["t2v"] == pytest.approx((0 + 0 + 0.3 * 1.5) / 3)  # row1's hardest was a positive


def test_max_margin_hand_computed() -> None:
    s = torch.tensor([[0.5, 0.6], [0.1, 0.3]])
    loss, logs = max_margin_ranking(s, margin=0.05)
    # caption -> video: [m - s_ii + s_ij]: (0,1) 0.05-0.5+0.6 = 0.15, (1,0) 0.05-0.3+0.1 < 0
    assert logs["t2v"] == pytest.approx((0.15 + 0.0) / 2)
    # video -> caption: [m - s_jj + s_ij]: (0,1) 0.05-0.3+0.6 = 0.35, (1,0) 0.05-0.5+0.1 < 0
    assert logs["v2t"] == pytest.approx((0.35 + 0.0) / 2)
    assert float(loss) == pytest.approx(logs["t2v"] + logs["v2t"])


PLANTED = {"n_videos": 32, "dims": {"app": 16, "mot": 12, "aud": 8}, "n_bins": 4, "noise": 0.1}


def _model_params(name: str) -> dict:
    if name == "jemc":
        return {"tiny": True, "word_vectors": "glove50" if "glove50" in TEXT_ENCODERS else None}
    return {"tiny": True, "text_encoder": _sentence_encoder()}


RETRIEVAL = [c.name for c in model_cards() if c.task == "retrieval"]


def test_retrieval_cards() -> None:
    assert {"jemc", "mmt"} <= set(RETRIEVAL)
    assert all(MODELS.get(n).space == "video" for n in RETRIEVAL)


@pytest.mark.parametrize("name", RETRIEVAL)
def test_tiny_model_learns_planted_pairs(name: str, tmp_path: Path) -> None:
    params = dict(PLANTED, missing=0.25 if name == "mmt" else 0.0)
    cfg = TrainConfig(model=name, dataset="planted", out=str(tmp_path), epochs=12, batch_size=8,
                      lr=5e-3, progress=False, dataset_params=params, model_params=_model_params(name),
                      num_threads=1)
    out = train(cfg)
    losses = [h["train_loss"] for h in out["history"]]
    assert losses[-1] < 0.6 * losses[0]
    model, _ = load_run(tmp_path, which="last")
    splits = build_dataset("planted", params)
    batch = splits.collate([splits.train[i] for i in range(len(splits.train))])
    with torch.no_grad():
        t, v = model.encode_texts(batch["texts"]), model.encode_videos(batch)
        scores = model.similarity(t, v)
        vec = model.query_vectors(t) @ model.video_vectors(v).T
    ranks = (scores > scores.diagonal()[:, None]).sum(1) + 1
    assert ranks[0] == 1  # the planted pair ranks first
    assert (ranks == 1).float().mean() > 0.5  # chance is 1/22
    if not bool((~batch["present"]).any()):  # flat vectors reproduce the similarity exactly
        assert torch.allclose(vec, scores, atol=1e-5)


def test_mmt_renormalises_over_present_experts() -> None:
    splits = build_dataset("planted", dict(PLANTED, missing=1.0))
    model = build_model("mmt", _model_params("mmt"), splits.info).eval()
    batch = splits.collate([splits.train[0], splits.train[1]])
    assert batch["present"][:, -1].tolist() == [False, False]
    with torch.no_grad():
        (te, logits), (ve, present) = model.encode_texts(batch["texts"]), model.encode_videos(batch)
        s = model.similarity((te, logits), (ve, present))
    w = torch.softmax(logits[:, :2], -1)  # only the two present experts
    want = torch.einsum("ie,ije->ij", w, torch.einsum("ied,jed->ije", te[:, :2], ve[:, :2]))
    assert torch.allclose(s, want, atol=1e-5)
