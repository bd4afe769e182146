"""Fusing experts per time: every expert's window scores on one time grid, normalised, gated.

Rule (MoEE-style, zero-shot; documented in docs/search.md):
1. Resample: each expert's window scores go onto a grid of `bin_s` second bins; a bin takes the
   overlap-weighted mean of the windows covering it and a coverage in [0, 1] (how much of the bin
   the expert's windows cover). Windows of 1 s, 2.56 s or a 4 s transcript line align by time.
2. Normalise per space to "how far above an unrelated window": z = (cos - mean) / std with the
   mean and std of a null distribution. A classifier space has one: the query against its own
   label vocabulary (1000 ImageNet / 400 Kinetics prompts). A text space has none, so it uses its
   candidate windows' cosines, shrunk towards a prior (the classifier spaces' null, or mean 0 /
   std 0.1) with PRIOR_ROWS pseudo-rows, since a space may hold only a few lines. std is floored
   at STD_FLOOR so a constant space cannot turn noise into large z.
3. Gate per query (the zero-shot stand-in for MoEE's learned gate): g_e = the best cosine the
   expert can offer the query, clipped to [0, 1]: for a classifier, its best label prompt ("how
   well can ImageNet / Kinetics words say this query at all"); for a text space, its best line
   among the candidates. "downloading the dataset" thus leans on speech and OCR, "someone flips
   a pancake" on the Kinetics expert.
4. Weighted mean over the experts present in the bin:
   fused_b = Σ_e w_e g_e c_eb z_eb / Σ_e w_e g_e c_eb.
   An expert without rows for a video (no audio, no speech, no text on screen) has c = 0 there:
   it contributes nothing and the weights renormalise over the experts present; no penalty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

BIN_SECONDS = 0.5
STD_FLOOR = 0.05  # cosine units
PRIOR_ROWS = 20.0  # pseudo-rows of the prior when a space's null comes from its windows
PRIOR = (0.0, 0.1)  # (mean, std) of an unrelated cosine when no classifier space gives one
DEFAULT_WEIGHT = 1.0  # every expert's weight unless --weights says otherwise (equal weights)


def n_bins(duration: float, bin_s: float = BIN_SECONDS) -> int:
    return max(1, int(np.ceil(max(duration, 0.0) / bin_s - 1e-9)))


def resample(times: np.ndarray, scores: np.ndarray, duration: float,
             bin_s: float = BIN_SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """(values (B,), coverage (B,)): overlap-weighted mean of window scores per bin, and the
    fraction of the bin covered by any window (clipped to 1; 0 means the expert is absent)."""
    nb = n_bins(duration, bin_s)
    times = np.asarray(times, np.float64).reshape(-1, 2)
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(times) == 0:
        return np.zeros(nb), np.zeros(nb)
    mass, weighted = _overlaps(times, scores, nb, bin_s)
    values = np.divide(weighted, mass, out=np.zeros(nb), where=mass > 0)
    # coverage: union of windows over the bin, approximated by the overlap mass (clipped)
    return values, np.clip(mass / bin_s, 0.0, 1.0)


def _overlaps(times: np.ndarray, scores: np.ndarray, nb: int,
              bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per bin: the summed overlap (seconds) of every window with it, and the same weighted by
    the windows' scores. O(windows + bins): a window covers its inner bins whole (a difference
    array) and its first and last bins in part, instead of the (windows x bins) overlap matrix."""
    end = nb * bin_s
    a = np.clip(times[:, 0], 0.0, end)
    b = np.clip(times[:, 1], 0.0, end)
    keep = b > a
    a, b, w = a[keep], b[keep], scores[keep]
    mass, weighted = np.zeros(nb), np.zeros(nb)
    if len(a) == 0:
        return mass, weighted
    ka = np.minimum((a / bin_s).astype(np.int64), nb - 1)  # bin holding the start
    kb = np.minimum(np.ceil(b / bin_s - 1e-12).astype(np.int64) - 1, nb - 1)  # ... the end
    kb = np.maximum(kb, ka)
    one = ka == kb
    np.add.at(mass, ka[one], (b - a)[one])
    np.add.at(weighted, ka[one], ((b - a) * w)[one])
    many = ~one
    if many.any():
        ka, kb, a, b, w = ka[many], kb[many], a[many], b[many], w[many]
        head = (ka + 1) * bin_s - a  # the part of the first bin
        tail = b - kb * bin_s  # the part of the last bin
        np.add.at(mass, ka, head)
        np.add.at(weighted, ka, head * w)
        np.add.at(mass, kb, tail)
        np.add.at(weighted, kb, tail * w)
        inner = kb - ka > 1  # whole bins ka+1 .. kb-1
        if inner.any():
            d_mass, d_w = np.zeros(nb + 1), np.zeros(nb + 1)
            np.add.at(d_mass, ka[inner] + 1, bin_s)
            np.add.at(d_mass, kb[inner], -bin_s)
            np.add.at(d_w, ka[inner] + 1, bin_s * w[inner])
            np.add.at(d_w, kb[inner], -bin_s * w[inner])
            mass += np.cumsum(d_mass)[:nb]
            weighted += np.cumsum(d_w)[:nb]
    return mass, weighted


@dataclass(frozen=True)
class Normaliser:
    mean: float
    std: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, np.float64) - self.mean) / self.std

    @classmethod
    def fit(cls, scores: list[np.ndarray], std_floor: float = STD_FLOOR,
            prior: tuple[float, float] | None = None, prior_rows: float = PRIOR_ROWS) -> Normaliser:
        """Mean / std of the scores, pooled with `prior_rows` pseudo-rows of N(prior) if given."""
        flat = np.concatenate([np.asarray(s, np.float64).ravel() for s in scores]) if scores else np.zeros(0)
        n = float(flat.size)
        if prior is None:
            if n == 0:
                return cls(0.0, 1.0)
            return cls(float(flat.mean()), max(float(flat.std()), std_floor))
        m0, s0 = prior
        mean = (flat.sum() + prior_rows * m0) / (n + prior_rows)
        second = ((flat ** 2).sum() + prior_rows * (s0 ** 2 + m0 ** 2)) / (n + prior_rows)
        return cls(float(mean), max(float(np.sqrt(max(second - mean ** 2, 0.0))), std_floor))


def expert_weight(name: str, weights: Mapping[str, float] | None) -> float:
    if weights and name in weights:
        return float(weights[name])
    return DEFAULT_WEIGHT


@dataclass
class FusedCurve:
    """Per-bin fused score of one video and each expert's normalised curve and coverage."""

    video_id: str
    duration: float
    bin_s: float
    fused: np.ndarray  # (B,), nan where no expert covers the bin
    per_expert: dict[str, np.ndarray]  # expert -> (B,) normalised scores
    coverage: dict[str, np.ndarray]  # expert -> (B,) in [0, 1]

    def expert_scores(self, start: float, end: float) -> dict[str, float]:
        """Mean normalised score of each present expert over [start, end] (for `why`)."""
        lo = int(np.floor(start / self.bin_s + 1e-9))
        hi = max(lo + 1, int(np.ceil(end / self.bin_s - 1e-9)))
        out = {}
        for name, z in self.per_expert.items():
            c = self.coverage[name][lo:hi]
            if c.sum() > 0:
                out[name] = round(float((z[lo:hi] * c).sum() / c.sum()), 4)
        return out


def fuse(video_id: str, duration: float, windows: Mapping[str, tuple[np.ndarray, np.ndarray]],
         normalisers: Mapping[str, Normaliser], weights: Mapping[str, float] | None = None,
         bin_s: float = BIN_SECONDS, gates: Mapping[str, float] | None = None) -> FusedCurve:
    """windows: expert -> (times (N, 2), raw scores (N,)) for this video (absent experts omitted);
    gates: expert -> per-query gate in [0, 1] (1 when absent)."""
    nb = n_bins(duration, bin_s)
    num = np.zeros(nb)
    den = np.zeros(nb)
    per: dict[str, np.ndarray] = {}
    cov: dict[str, np.ndarray] = {}
    for name, (times, scores) in windows.items():
        if len(scores) == 0:
            continue
        vals, c = resample(times, normalisers[name](scores), duration, bin_s)
        w = expert_weight(name, weights) * (1.0 if gates is None else float(gates.get(name, 1.0)))
        if w <= 0 or not c.any():
            continue
        num += w * c * vals
        den += w * c
        per[name], cov[name] = vals, c
    fused = np.divide(num, den, out=np.full(nb, np.nan), where=den > 0)
    return FusedCurve(video_id, duration, bin_s, fused, per, cov)
