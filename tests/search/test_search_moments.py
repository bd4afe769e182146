"""The moment a search shows inside a video: find_spans on the engine's fused curve, snapped to
the `shots` expert's cuts; nested moments folded into one hit; scores in [0, 1]; queries with no
searchable words or in a script the encoder cannot read.

Planted store (toy ConSE classifier over the bag-of-words oracle encoder of test_spaces):
`title` (30 s) shows a skateboard throughout (half the query "a dog on a skateboard") and a
dog + skateboard in 10-13 s, with shot cuts stored at 10.25 and 12.75 s; `two` (40 s) has
dog + skateboard in 5-9 s and 25-28 s; `cats` (10 s) never matches.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_search_pipeline import W, add_cls  # registers the toy classifier space

from vidseek.cli import main
from vidseek.errors import QueryError
from vidseek.extract.experts.base import ExpertSpec
from vidseek.pipelines.index import IndexConfig, build_index
from vidseek.pipelines.search import SearchConfig, search
from vidseek.search.engine import SearchOptions, open_searcher
from vidseek.search.localize import MATCH_CENTER, match_score, nested
from vidseek.search.query import QueryWarning, check_query
from vidseek.store import FeatureStore
from vidseek.types import Features, Why

SHOTS = ExpertSpec("shots", "shots", 1, fps=4.0)
QUERY = "a dog on a skateboard"


@pytest.fixture(scope="module")
def col(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("moments") / "coll"
    with FeatureStore(root) as store:
        add_cls(store, "title", 30, 5, {i: (0, 5) for i in range(10, 13)})
        store.put("title", Features("shots", [[0, 10.25], [10.25, 12.75], [12.75, 30]],
                                    np.zeros((3, 1))), SHOTS, W)
        add_cls(store, "two", 40, 2, {**{i: (0, 5) for i in range(5, 9)},
                                      **{i: (0, 5) for i in range(25, 28)}})
        add_cls(store, "cats", 10, 1, {})
    assert build_index(IndexConfig(str(root), encoder="bow-test", progress=False)) == 0
    return root


def test_short_moment_on_a_plateau_snapped_to_cuts(col: Path) -> None:
    s = open_searcher(col)
    old = s.rank(QUERY, SearchOptions(spans=False)).get("title")
    assert old is not None and (old.moments[0].start, old.moments[0].end) == (0.0, 30.0)  # the issue
    new = s.rank(QUERY, SearchOptions()).get("title")
    assert new is not None and (new.moments[0].start, new.moments[0].end) == (10.25, 12.75)
    assert new.moments[0].why["snapped"] == {"start": "cut", "end": "cut"}
    # the videos' order and ranking values are find_moments' (video recall unchanged)
    a = s.rank(QUERY, SearchOptions(spans=False))
    b = s.rank(QUERY, SearchOptions())
    assert [v.video_id for v in a.videos] == [v.video_id for v in b.videos]
    assert [v.score for v in a.videos] == pytest.approx([v.score for v in b.videos])
    # a video where nothing stands out is answered with the whole video
    cats = b.get("cats")
    assert cats is not None and (cats.moments[0].start, cats.moments[0].end) == (0.0, 10.0)
    assert cats.moments[0].why["flat"] is True


def test_nested_moments_fold_into_one_hit(col: Path) -> None:
    s = open_searcher(col)
    folded = s.search(QUERY, SearchOptions(top=50))
    every = s.search(QUERY, SearchOptions(top=50, all_moments=True))
    res = s.rank(QUERY, SearchOptions())
    n_moments = sum(len(v.moments) for v in res.videos)
    assert len(every) == n_moments and all(h.why.moment and not h.why.moment.also for h in every)
    # folding loses no moment: each one is a hit or an "also" of a hit it is nested in
    spans = sorted((h.video, h.start, h.end) for h in every)
    kept = [(h.video, h.start, h.end) for h in folded]
    also = [(h.video, s_, e) for h in folded for s_, e in (h.why.moment.also if h.why.moment else ())]
    assert sorted(kept + also) == spans
    for h in folded:
        assert h.why.moment is not None
        for s_, e in h.why.moment.also:
            assert nested(_m(h.start, h.end), _m(s_, e))
    # no two hits of one video are nested in each other; the two separate peaks stay two hits
    for i, a in enumerate(folded):
        for b in folded[i + 1:]:
            assert a.video != b.video or not nested(_m(a.start, a.end), _m(b.start, b.end))
    two = sorted((h.start, h.end) for h in folded if h.video == "two")
    assert two[:2] == [(5.0, 9.0), (25.0, 28.0)]
    title = [h for h in folded if h.video == "title"]
    assert len(title) == 1 and (title[0].start, title[0].end) == (10.25, 12.75) and title[0].why.moment
    assert title[0].why.moment.also
    per_video = s.search(QUERY, SearchOptions(top=50, videos=True))
    assert [h.video for h in per_video] == [v.video_id for v in res.videos]


def _m(start: float, end: float):  # type: ignore[no-untyped-def]
    from vidseek.search.moments import Moment

    return Moment(start, end, 0.0)


def test_scores_are_a_logistic_of_the_fused_value(col: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hits = open_searcher(col).search(QUERY, SearchOptions(top=50, all_moments=True))
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert h.why.moment is not None and h.why.moment.fused is not None
        assert h.score == pytest.approx(match_score(h.why.moment.fused))
    best = {h.video: h for h in reversed(hits)}
    res = open_searcher(col).rank(QUERY, SearchOptions())
    for v in res.videos:  # a video's best hit carries the value that ranked the video
        assert best[v.video_id].why.moment.fused == pytest.approx(v.score)  # type: ignore[union-attr]
    assert match_score(MATCH_CENTER) == pytest.approx(0.5) and match_score(-np.inf) == 0.0
    # the JSON round trip keeps the moment note (raw fused value, also times)
    capsys.readouterr()
    assert search(SearchConfig(QUERY, str(col), json=True, top=50)) == 0
    out = json.loads(capsys.readouterr().out)
    title = next(h for h in out if h["video"] == "title")
    assert title["why"]["moment"]["also"] and "fused" in title["why"]["moment"]
    assert Why.from_json(title["why"]).as_json() == title["why"]


@pytest.mark.parametrize("query", ["?!...", "  -- ", "¿¡…"])
def test_query_without_words_is_an_error(col: Path, query: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(QueryError, match="no searchable words"):
        search(SearchConfig(query, str(col)))
    with pytest.raises(QueryError):
        open_searcher(col).search(query)
    capsys.readouterr()
    assert main(["search", query, "--collection", str(col)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no searchable words" in err and "\n" not in err


@pytest.mark.parametrize("query", ["собака на скейтборде", "狗在滑板上", "a dog на скейтборде"])
def test_non_latin_query_warns_naming_the_encoder(col: Path, query: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.warns(QueryWarning, match="bow-test"):
        hits = open_searcher(col).search(query)
    assert isinstance(hits, list)  # search goes on (the oracle encoder embeds no Cyrillic/CJK word)
    capsys.readouterr()
    assert main(["search", query, "--collection", str(col)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: the text encoder bow-test") == 1


def test_latin_queries_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_query("crème brûlée on a café table", "minilm")
        check_query("2001", "minilm")
