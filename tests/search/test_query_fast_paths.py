"""The warm-query fast paths give the slow paths' answers, on the planted toy collection of
test_search_pipeline: window scores batched over the candidate videos equal each space's own
embedding of the video's features dotted with the query (the exact oracle), and hits explained
from the per-process feature cache carry the same Why as hits explained from shards read fresh
(has + get per hit, the old path) — on a cold cache, a warm one, and a fresh Searcher."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from test_search_pipeline import planted  # noqa: F401  (the fixture)

from vidseek.pipelines.index import IndexConfig, build_index
from vidseek.search.engine import Searcher, SearchOptions
from vidseek.search.explain import explain_moment
from vidseek.search.localize import fused_values
from vidseek.store import FeatureStore

QUERIES = ["dog on a skateboard", "download the dataset", "a cat", "hello everyone thanks"]


def _fresh_features(store: FeatureStore, vid: str, space) -> dict:  # type: ignore[no-untyped-def]
    return {ex: store.get(vid, ex) for ex in space.experts if store.has(vid, ex)}


def test_fast_paths_equal_slow_paths(planted: Path) -> None:  # noqa: F811
    assert build_index(IndexConfig(str(planted), encoder="bow-test", progress=False)) == 0
    with FeatureStore(planted, create=False) as store:
        s = Searcher(store)
        assert set(s.spaces) == {"toy_cls", "asr"}
        for query in QUERIES:
            opts = SearchOptions(top=10)
            res = s.rank(query, opts)
            assert res.videos, query
            for r in res.videos:  # batched exact window scores == the space's own embedding
                for name, (times, scores) in r.raw.items():
                    sp = s.spaces[name]
                    t, vecs = sp.embed_video(_fresh_features(store, r.video_id, sp))
                    np.testing.assert_array_equal(times, t)
                    np.testing.assert_allclose(scores, vecs @ res.qvecs[name], atol=1e-5)
            every = SearchOptions(top=10, all_moments=True)  # each moment its own hit
            hits = s.search(query, every)
            again = s.search(query, every)  # the cache is warm now
            fresh = Searcher(store).search(query, every)
            assert hits == again == fresh
            pairs = []
            for order, r in enumerate(res.videos):
                values = fused_values(r.curve, r.moments, r.baseline, r.score)
                pairs += [(float(v), order, r, m) for m, v in zip(r.moments, values, strict=True)]
            pairs.sort(key=lambda p: (-p[0], p[1], p[3].start))
            assert [(h.video, h.start, h.end) for h in hits] == \
                [(r.video_id, m.start, m.end) for _, _, r, m in pairs[: every.top]]
            for h, (_, _, r, m) in zip(hits, pairs, strict=False):
                want = explain_moment(m, r.raw, r.curve, s.spaces,
                                      lambda sp, v=r.video_id: _fresh_features(store, v, sp),
                                      res.qvecs, None, res.gates)
                assert replace(h.why, moment=None) == want, (query, h.video)


def test_feature_cache_is_bounded_and_reads_once(planted: Path) -> None:  # noqa: F811
    from vidseek.search.explain import FeatureCache

    with FeatureStore(planted, create=False) as store:
        reads: list[tuple[str, str]] = []
        real_get = store.get

        def counting_get(video_id: str, expert: str):  # type: ignore[no-untyped-def]
            reads.append((video_id, expert))
            return real_get(video_id, expert)

        store.get = counting_get  # type: ignore[method-assign]
        one = real_get("dog", "toy_cls")
        size = one.values.nbytes + one.times.nbytes + one.probs.nbytes
        cache = FeatureCache(store, max_bytes=size * 2)
        for _ in range(3):
            f = cache.get("dog", "toy_cls")
            assert f is not None and np.array_equal(f.probs, one.probs)
        assert cache.get("dog", "asr") is None and cache.get("dog", "asr") is None  # absent, once
        assert reads == [("dog", "toy_cls"), ("dog", "asr")]
        cache.get("cats", "toy_cls")
        cache.get("talk", "toy_cls")  # over 2 shards' worth: the oldest (dog) goes
        cache.get("dog", "toy_cls")
        assert reads[-1] == ("dog", "toy_cls") and len(reads) == 5
