"""MSR-VTT for users who have its features: the 1k-A (JSFusion) test split, and an importer for
the pickled per-expert feature dicts that Collaborative Experts / MMT publish.

The importer writes each pickle into a vidseek collection (one shard per (video, expert)), so the
`captions` / `msrvtt` datasets, the trainer and the search engine read imported features exactly
like extracted ones. Rows get times from `seconds_per_row` (the features carry none).
"""

from __future__ import annotations

import pickle
import random
import sys
from pathlib import Path

import numpy as np

from vidseek.errors import DatasetError
from vidseek.models.datasets.captions import CaptionRow, read_captions, read_msrvtt_1ka
from vidseek.weights import sha256_of_file


def msrvtt_rows(collection: str, test_csv: str, train_captions: str, seed: int = 0) -> list[CaptionRow]:
    """Test rows from the 1k-A CSV; train (and val) rows from `train_captions`, minus any
    test video; without a split column 5% of the training videos (by `seed`) validate."""
    for key, value in (("collection", collection), ("test_csv", test_csv), ("train_captions", train_captions)):
        if not value:
            raise DatasetError(f"dataset `msrvtt` needs dataset_params.{key}")
    test = read_msrvtt_1ka(test_csv)
    test_videos = {r.video for r in test}
    train = [r for r in read_captions(train_captions) if r.video not in test_videos]
    if not any(r.split == "val" for r in train):
        vids = sorted({r.video for r in train})
        random.Random(seed).shuffle(vids)
        val = set(vids[: max(1, len(vids) // 20)])
        train = [CaptionRow(r.video, r.caption, r.start, r.end, "val" if r.video in val else "train",
                            r.event_type) for r in train]
    return [r for r in train if r.split in ("train", "val")] + test



def load_feature_pickle(path: str | Path) -> dict[str, np.ndarray]:
    """{video_id: (T, d) or (d,) array} from a CE/MMT-style pickle (any dict of arrays)."""
    from vidseek.extract.experts.i3d_net import _NumpyOnlyUnpickler  # numpy arrays only

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = _NumpyOnlyUnpickler(fh, encoding="latin1").load()
    except pickle.UnpicklingError as err:  # a class that is not a numpy array: refused
        why = str(err).split(" from ")[0]
        raise DatasetError(f"{path}: not a plain numpy feature pickle ({why})") from None
    except (OSError, EOFError, ValueError, TypeError) as err:
        raise DatasetError(f"{path}: not a feature pickle ({err})") from None
    if not isinstance(data, dict) or not data:
        raise DatasetError(f"{path}: expected a dict video_id -> array, got {type(data).__name__}")
    return {str(k): np.asarray(v, dtype=np.float32) for k, v in data.items()}


def import_precomputed(pickles: dict[str, str | Path], collection: str | Path,
                       seconds_per_row: float = 1.0, modality: str = "appearance") -> dict[str, int]:
    """Write expert -> pickle files into a collection; returns rows imported per expert.

    A video whose array is empty or all-NaN (CE's marker for a missing expert) is recorded as
    failed for that expert, so datasets mask it.
    """
    from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
    from vidseek.store import FeatureStore
    from vidseek.types import Features

    counts: dict[str, int] = {}
    with FeatureStore(collection) as store:
        for expert, path in pickles.items():
            data = load_feature_pickle(path)
            dims = {v.shape[-1] for v in data.values() if v.size}
            if len(dims) != 1:
                raise DatasetError(f"{path}: rows of several widths {sorted(dims)}")
            dim = dims.pop()
            spec = ExpertSpec(expert, modality, dim, window=seconds_per_row, stride=seconds_per_row)
            weights = WeightsInfo(sha256_of_file(Path(path)), f"imported:{path}")
            n_missing = 0
            for vid, arr in data.items():
                arr = arr.reshape(-1, dim) if arr.size else arr.reshape(0, dim)
                arr = arr[~np.isnan(arr).all(1)] if len(arr) else arr
                if not len(arr):
                    store.mark_failed(vid, expert, f"no {expert} features in {path}")
                    n_missing += 1
                    continue
                t = np.arange(len(arr), dtype=np.float64) * seconds_per_row
                store.put(vid, Features(expert, np.stack([t, t + seconds_per_row], 1),
                                        np.nan_to_num(arr)), spec, weights)
                counts[expert] = counts.get(expert, 0) + len(arr)
            if n_missing:
                print(f"warning: {n_missing} videos have no {expert} features in {path}", file=sys.stderr)
    return counts
