"""Tiny random-init localizers: each trains a few steps with falling loss on planted synthetic
moments, and answers through the shared interfaces (localize, FVMR's common space)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vidseek.models.cards import build_dataset, build_model, model_cards
from vidseek.models.localization.proxies import ProxyNCAPP
from vidseek.models.localization.semantic_tree import rule_tree, semantic_tree

NAMES = [c.name for c in model_cards() if c.task == "localization"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def splits():  # type: ignore[no-untyped-def]
    return build_dataset("synth_moments", {"n_videos": 16, "n_clips": 8, "dim": 16, "seed": 1})


def test_registered() -> None:
    assert {"tan2d", "tan2d_proxies", "fvmr", "cimha"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_tiny_model_trains_with_falling_loss(name: str, splits) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    model = build_model(name, {"tiny": True}, splits.info)
    batch = splits.collate([splits.train[i] for i in range(8)])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        loss, logs = model.training_loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        assert all(np.isfinite(v) for v in logs.values())
    assert np.mean(losses[-2:]) < 0.85 * np.mean(losses[:2]), losses
    val = torch.utils.data.Subset(splits.val, range(min(8, len(splits.val))))
    metrics = model.evaluate(DataLoader(val, batch_size=8, collate_fn=splits.collate))
    assert {"mIoU", "R@1,IoU=0.5", "R@5,IoU=0.7"} <= set(metrics)
    assert model.select_metric == "mIoU" and model.task == "localization"


@pytest.mark.parametrize("name", NAMES)
def test_localize_interface(name: str, splits) -> None:  # type: ignore[no-untyped-def]
    model = build_model(name, {"tiny": True}, splits.info)
    times = np.stack([np.arange(5), np.arange(1, 6)], 1).astype(float)  # 5 rows < 8 clips
    hits = model.localize(np.random.default_rng(0).standard_normal((5, 16)), times, "a red circle spins", top_k=3)
    assert 1 <= len(hits) <= 3
    assert all(0.0 <= s < e <= 5.0 + 1e-9 for s, e, _ in hits)
    assert [h[2] for h in hits] == sorted((h[2] for h in hits), reverse=True)


def test_fvmr_common_space_is_one_dot_product(splits) -> None:  # type: ignore[no-untyped-def]
    model = build_model("fvmr", {"tiny": True}, splits.info)
    item = splits.val[0]
    times = np.stack([np.arange(8), np.arange(1, 9)], 1) * item["duration"] / 8
    spans, vecs = model.moment_embeddings(item["feats"], times, item["duration"])
    q = model.query_embedding(item["query"])
    assert vecs.shape == (len(spans), q.shape[0])
    with torch.no_grad():
        want = model.proposal_scores(torch.from_numpy(item["feats"])[None], [item["query"]])[0].numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-(vecs @ q))), want, rtol=1e-4, atol=1e-5)


def test_proxy_nca_pp_hand_case() -> None:
    loss = ProxyNCAPP(2, 2, temperature=1.0)
    with torch.no_grad():
        loss.proxies.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    x = torch.tensor([[3.0, 0.0]])  # normalised onto proxy 0: distances^2 are 0 and 2
    want = -np.log(1 / (1 + np.exp(-2.0)))
    assert float(loss(x, torch.tensor([0])).detach()) == pytest.approx(want, rel=1e-5)
    assert loss.assign(x).tolist() == [0]


def test_semantic_tree() -> None:
    t = semantic_tree("a person opens the door and then picks up a red cup.")
    assert t.parser in ("spacy", "rules")
    assert len(t.verbs) == 2 and 4 in t.nouns[0] and 11 in t.nouns[1]
    r = rule_tree("person opens the door")
    assert r.verbs == [1] and r.nouns == [[3]] and r.orphans == [0]
