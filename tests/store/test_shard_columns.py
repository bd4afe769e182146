"""Shard columns read straight from the Arrow buffers (features._numbers, which keeps pandas
out of a query) equal pyarrow's own to_numpy: several chunks, sliced arrays (non-zero offsets),
fixed-size lists of float16 / float32, and a column with nulls (which takes to_numpy)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from vidseek.store.features import _numbers


def test_numbers_equal_to_numpy() -> None:
    rng = np.random.default_rng(0)
    a = pa.array(rng.standard_normal(50))
    col = pa.chunked_array([a.slice(3, 20), a.slice(30, 7), a.slice(0, 0)])
    np.testing.assert_array_equal(_numbers(col), col.to_numpy())
    for t, width in ((pa.float16(), 4), (pa.float32(), 3)):
        flat = pa.array(rng.standard_normal(60).astype(t.to_pandas_dtype()), type=t)
        lists = pa.FixedSizeListArray.from_arrays(flat, width)
        col = pa.chunked_array([lists.slice(2, 5), lists.slice(9, 3)])
        want = np.concatenate([c.flatten().to_numpy() for c in col.chunks])
        got = _numbers(col, width)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    with_nulls = pa.chunked_array([pa.array([1.0, None, 3.0])])
    np.testing.assert_array_equal(_numbers(with_nulls), with_nulls.to_numpy())
