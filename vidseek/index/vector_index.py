"""One FAISS index over L2-normalised vectors with our own int64 ids.

Inner product on unit vectors is cosine similarity, so every index uses METRIC_INNER_PRODUCT and
callers normalise. Ids are int64 values we choose (they key the catalog rows): Flat and HNSW
are wrapped in `IndexIDMap2`; IVF indexes store ids natively in their inverted lists (wrapping
them in an IDMap is wrong after `remove_ids`, which leaves IVF offsets un-shifted while the map
shifts) with a hashtable direct map, so `reconstruct(id)` works everywhere for rebuilds and
exact re-scoring.

The .faiss file is the whole state: the factory string is read back from the index structure
(`describe`), HNSW tombstones live in the id map itself (see `remove`), and efSearch / nprobe
are serialised by FAISS. One file means a save is one atomic rename.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from pathlib import Path

import faiss
import numpy as np

from vidseek.errors import CollectionError

FLAT_MAX = 100_000
"""Up to this many vectors exact search is fast enough (~10 ms/query at 384-d) and costs no recall."""
HNSW_OVERHEAD = 1.5
"""HNSW32 memory ~ raw vectors x 1.5 (64 int32 links per vector on level 0 + upper levels)."""
DEFAULT_EF_SEARCH = 128
EF_CONSTRUCTION = 80
"""HNSW build breadth: 40 (FAISS's default) left recall@10 at 0.58-0.72 for ef 16 at 1e6."""
MAX_EF_SEARCH = 1024
"""`tune` stops an HNSW graph here: a target it cannot reach by then is a job for IVF."""
OPQ_NITER = 20
"""OPQ rotation iterations (FAISS default 50): the rotation converges well before."""
TOMBSTONE = -1
"""An id-map entry set to this marks a removed row of an index that cannot remove (HNSW)."""
_LIVE = faiss.IDSelectorRange(0, 2**62)  # every real id; excludes tombstones
EXACT_BLOCK = 1_000_000
"""Rows decoded at a time by `exact_search` (384-d float32: 1.5 GB per block)."""
COMPACT_FRACTION = 0.25
"""Rebuild an HNSW index once this fraction of its rows are tombstones."""


def physical_memory() -> int:
    """Bytes of physical RAM (sysconf); 8 GiB when the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _pow2(x: float) -> int:
    return int(2 ** max(0, round(math.log2(max(x, 1.0)))))


def _pq_m(dim: int, n: int, budget: int) -> int:
    """Sub-quantizer count: the largest of the usual sizes that divides dim and fits the budget."""
    ok = [m for m in (64, 48, 32, 24, 16, 12, 8, 4, 2, 1) if dim % m == 0 and m <= max(1, dim // 2)]
    fits = [m for m in ok if n * m <= budget]
    # nothing fits: fewer than 4 bytes per vector keeps no neighbourhood; take the smallest >= 4
    return fits[0] if fits else min([m for m in ok if m >= 4] or ok)


def choose_factory(
    n: int, dim: int, mem_budget_bytes: int | None = None, flat_max: int = FLAT_MAX
) -> str:
    """FAISS factory string for n vectors of width dim (autofaiss-style size classes).

    Metric is inner product on L2-normalised vectors. Rule, in order:
    - "Flat" while n <= flat_max (~1e5): exact, no training, removal supported;
    - "IVF{k},Flat" with k = 4 * sqrt(n) rounded to a power of two, while the raw vectors
      (n * dim * 4) fit mem_budget_bytes (default 1/4 of physical RAM): a query scans nprobe / k
      of the lists, `tune` picks the smallest nprobe that reaches the recall target, and the
      lists are memory-mapped;
    - "OPQ{m},IVF{k},PQ{m}" beyond: m bytes per vector (m divides dim, m <= min(64, dim/2),
      the largest such that n * m fits the budget).
    HNSW is not chosen by size: at 1e6 clustered 384-d windows HNSW32 needed efSearch 4096 for
    recall@10 0.95 (23 ms/query, 158 s to build) where IVF4096,Flat reached 1.0 at nprobe 16
    (0.6 ms) — docs/index.md. It stays available as an explicit factory.
    The string is kept in the index itself (`VectorIndex.factory`) and in index_spaces.
    """
    budget = mem_budget_bytes if mem_budget_bytes is not None else physical_memory() // 4
    if n <= flat_max:
        return "Flat"
    raw = n * dim * 4
    k = _pow2(4 * math.sqrt(n))
    if raw <= budget:
        return f"IVF{k},Flat"
    m = _pq_m(dim, n, budget)
    return f"OPQ{m},IVF{k},PQ{m}"


TRAIN_PER_LIST = 39
"""FAISS's k-means warns below 39 training points per centroid; IVF is trained on at least that."""
TRAIN_MIN = 100_000


def train_size(factory: str, n: int) -> int:
    """How many of n vectors to train a factory on: max(1e5, 39 per IVF list), at most n."""
    m = re.search(r"IVF(\d+)", factory)
    lists = int(m.group(1)) if m else 0
    return int(min(n, max(TRAIN_MIN, TRAIN_PER_LIST * lists)))


def size_class(factory: str) -> int:
    """Rank of a factory's size class (0 Flat, 1 HNSW, 2 IVF-Flat, 3 PQ): indexes only grow."""
    if factory.startswith("OPQ") or "PQ" in factory:
        return 3
    if factory.startswith("IVF"):
        return 2
    if factory.startswith("HNSW"):
        return 1
    return 0


def describe(index: faiss.Index) -> str:
    """The factory string that builds an index of this structure (so files are self-describing)."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIDMap2 | faiss.IndexIDMap):
        return describe(index.index)
    if isinstance(index, faiss.IndexPreTransform):
        # an OPQ matrix is read back from disk as a plain square LinearTransform; vidseek only
        # writes OPQ{m} in front of PQ{m}, so m comes from the PQ
        inner = describe(index.index)
        pq = re.search(r"PQ(\d+)", inner)
        vt = faiss.downcast_VectorTransform(index.chain.at(0))
        if index.chain.size() != 1 or pq is None or vt.d_in != vt.d_out:
            raise CollectionError(f"unsupported transform {type(vt).__name__} in index")
        return f"OPQ{pq.group(1)},{inner}"
    if isinstance(index, faiss.IndexFlat):
        return "Flat"
    if isinstance(index, faiss.IndexHNSW):
        return f"HNSW{index.hnsw.nb_neighbors(1)}"
    if isinstance(index, faiss.IndexIVFPQ):
        return f"IVF{index.nlist},PQ{index.pq.M}" + ("" if index.pq.nbits == 8 else f"x{index.pq.nbits}")
    if isinstance(index, faiss.IndexIVFFlat):
        return f"IVF{index.nlist},Flat"
    raise CollectionError(f"unsupported FAISS index type {type(index).__name__}")


def normalize(x: np.ndarray) -> np.ndarray:
    """Float32, C-contiguous, 2-d, each row of unit L2 norm (zero rows stay zero)."""
    x = np.ascontiguousarray(np.atleast_2d(np.asarray(x, dtype=np.float32))).copy()
    faiss.normalize_L2(x)
    return x


class VectorIndex:
    """FAISS index with our int64 ids; see the module docstring for the on-disk contract."""

    def __init__(self, index: faiss.Index, path: Path | None = None, mapped: bool = False) -> None:
        if not isinstance(index, faiss.IndexIDMap2 | faiss.IndexIVF | faiss.IndexPreTransform):
            index = faiss.downcast_index(index)
        self.index = index
        if not isinstance(index, faiss.IndexIDMap2) and _ivf(index) is None:
            raise CollectionError(f"index {path or ''} has no id map (not built by vidseek); rebuild it")
        self.dim = int(self.index.d)
        self.factory = describe(self.index)
        self._path = path
        self._mapped = mapped

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def create(
        cls, dim: int, factory: str, train_vectors: np.ndarray | None = None
    ) -> VectorIndex:
        """Empty index; IVF/PQ are trained on train_vectors (normalised here)."""
        check_factory(factory)
        base = faiss.index_factory(int(dim), factory, faiss.METRIC_INNER_PRODUCT)
        ivf = _ivf(base)
        if isinstance(ivf, faiss.IndexIVFPQ):
            # polysemous codes serve Hamming-filtered search, which we never use; training them
            # is 10-40x the cost of the PQ itself
            ivf.do_polysemous_training = False
        if isinstance(base, faiss.IndexPreTransform):
            for i in range(base.chain.size()):
                vt = faiss.downcast_VectorTransform(base.chain.at(i))
                if isinstance(vt, faiss.OPQMatrix):
                    vt.niter = OPQ_NITER
                    vt.niter_pq_0 = min(vt.niter_pq_0, 4 * OPQ_NITER)
        if not base.is_trained:
            if train_vectors is None or len(train_vectors) == 0:
                raise CollectionError(f"index {factory} needs train_vectors")
            base.train(normalize(train_vectors))
        if ivf is not None:
            # Hashtable direct map: reconstruct(id) for rebuilds/re-scoring and still removable.
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            ivf.nprobe = default_nprobe(ivf.nlist)
            return cls(base)
        hnsw = _hnsw(base)
        if hnsw is not None:
            hnsw.hnsw.efSearch = DEFAULT_EF_SEARCH
            hnsw.hnsw.efConstruction = EF_CONSTRUCTION
        idmap = faiss.IndexIDMap2(base)
        idmap.own_fields = True  # the C++ wrapper owns (and frees) the inner index
        base.this.disown()
        return cls(idmap)

    # ---- mutation -----------------------------------------------------------------------
    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add rows under our ids (vectors are normalised here; ids must be new)."""
        self._writable()
        x = normalize(vectors).reshape(-1, self.dim)
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) != len(x):
            raise ValueError(f"{len(x)} vectors but {len(ids)} ids")
        if len(ids):
            self.index.add_with_ids(x, ids)

    def remove(self, ids: np.ndarray) -> int:
        """Remove rows by id; returns how many were present.

        Flat and IVF remove for real. HNSW graphs cannot remove a node, so its id-map entry is
        set to TOMBSTONE (-1): every search passes an IDSelectorRange(0, 2^62) that skips those
        nodes, reconstruct_all leaves them out, and the tombstones persist in the .faiss file
        itself. Once a quarter of the rows are tombstones the graph is rebuilt (`compact`).
        """
        self._writable()
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) == 0:
            return 0
        if _ivf(self.index) is not None:  # a hashtable direct map removes by IDSelectorArray only
            return int(self.index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))))
        if self._hnsw is None:
            return int(self.index.remove_ids(faiss.IDSelectorBatch(ids)))
        id_map = faiss.rev_swig_ptr(self.index.id_map.data(), self.index.id_map.size())
        hit = np.isin(id_map, ids) & (id_map != TOMBSTONE)
        id_map[hit] = TOMBSTONE
        n = int(hit.sum())
        self.index.construct_rev_map()  # clears first; all tombstones map to -1, never asked
        if self.index.ntotal and self.n_tombstones / self.index.ntotal > COMPACT_FRACTION:
            self.compact()
        return n

    def compact(self) -> None:
        """Rebuild from the live rows (drops HNSW tombstones; a no-op structure-wise otherwise)."""
        vecs, ids = self.reconstruct_all()
        ef = self.ef_search
        fresh = VectorIndex.create(self.dim, self.factory, vecs if len(vecs) else None)
        fresh.add(vecs, ids)
        self.index = fresh.index
        if ef is not None:
            self.ef_search = ef

    # ---- query --------------------------------------------------------------------------
    def search(
        self, queries: np.ndarray, k: int, selector: faiss.IDSelector | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores (q,k) float32 descending, ids (q,k) int64, -1 where fewer than k exist).

        `selector` (optional, over our ids) restricts the search, e.g. to some videos.
        """
        q = normalize(queries).reshape(-1, self.dim)
        k = int(k)
        if k <= 0 or self.index.ntotal == 0:
            return np.zeros((len(q), max(k, 0)), np.float32), np.full((len(q), max(k, 0)), -1, np.int64)
        sel = selector
        if sel is None and self.n_tombstones:
            sel = _LIVE
        params = self._params(sel, k)
        scores, ids = self.index.search(q, k, params=params) if params else self.index.search(q, k)
        ids = np.where(ids == TOMBSTONE, -1, ids)
        scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
        return scores, ids.astype(np.int64)

    def _params(self, sel: faiss.IDSelector | None, k: int) -> faiss.SearchParameters | None:
        hnsw = self._hnsw
        if hnsw is not None:
            ef = max(hnsw.hnsw.efSearch, k)
            return faiss.SearchParametersHNSW(sel=sel, efSearch=ef) if sel is not None or ef != hnsw.hnsw.efSearch else None
        ivf = _ivf(self.index)
        if ivf is not None and sel is not None:
            if isinstance(self.index, faiss.IndexPreTransform):
                return faiss.SearchParametersPreTransform(
                    sel=sel, index_params=faiss.SearchParametersIVF(sel=sel, nprobe=ivf.nprobe)
                )
            return faiss.SearchParametersIVF(sel=sel, nprobe=ivf.nprobe)
        return faiss.SearchParameters(sel=sel) if sel is not None else None

    def ids(self) -> np.ndarray:
        """Live ids in storage order (tombstones left out)."""
        ivf = _ivf(self.index)
        if ivf is not None:
            inv = ivf.invlists
            parts = [
                faiss.rev_swig_ptr(inv.get_ids(li), inv.list_size(li)).copy()
                for li in range(ivf.nlist)
                if inv.list_size(li)
            ]
            return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        return ids[ids != TOMBSTONE]

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of these ids (approximate for PQ), shape (len(ids), dim)."""
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.index.reconstruct_batch(ids)

    def reconstruct_all(self) -> tuple[np.ndarray, np.ndarray]:
        """(vectors (n,dim), ids (n,)) of every live row, for rebuilds."""
        if self.index.ntotal == 0:
            return np.zeros((0, self.dim), np.float32), np.zeros(0, np.int64)
        if _ivf(self.index) is not None:  # ids live in the lists; decode through the direct map
            ids = self.ids()
            return self.reconstruct(ids), ids
        all_ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        live = np.flatnonzero(all_ids != TOMBSTONE)
        inner = self.index.index
        vecs = inner.reconstruct_n(0, inner.ntotal)[live]
        return np.ascontiguousarray(vecs, np.float32), all_ids[live]

    @property
    def ntotal(self) -> int:
        """Live rows (tombstones not counted)."""
        return int(self.index.ntotal) - self.n_tombstones

    @property
    def n_tombstones(self) -> int:
        if self._hnsw is None or self.index.ntotal == 0:
            return 0
        ptr = faiss.rev_swig_ptr(self.index.id_map.data(), self.index.id_map.size())
        return int(np.count_nonzero(ptr == TOMBSTONE))

    @property
    def _hnsw(self) -> faiss.IndexHNSW | None:
        return _hnsw(self.index.index) if isinstance(self.index, faiss.IndexIDMap2) else None

    # ---- search-time knobs ----------------------------------------------------------------
    @property
    def ef_search(self) -> int | None:
        h = self._hnsw
        return None if h is None else int(h.hnsw.efSearch)

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        h = self._hnsw
        if h is not None:
            h.hnsw.efSearch = int(value)

    @property
    def nprobe(self) -> int | None:
        ivf = _ivf(self.index)
        return None if ivf is None else int(ivf.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        ivf = _ivf(self.index)
        if ivf is not None:
            ivf.nprobe = int(min(value, ivf.nlist))

    def tune(self, queries: np.ndarray, target: float = 0.95, k: int = 10) -> float:
        """Set efSearch / nprobe to the smallest power of two whose recall@k vs exact search
        reaches target (doubling from a low start, so a generous default is also lowered);
        returns the recall reached. HNSW stops at MAX_EF_SEARCH, IVF at nlist.

        Exact neighbours come from a brute-force pass over the stored vectors (`exact_search`,
        in blocks), so PQ indexes are measured against their own (quantised) vectors' order.
        """
        knob = "ef_search" if self.ef_search is not None else "nprobe" if self.nprobe is not None else None
        if knob is None or self.ntotal == 0:
            return 1.0
        q = normalize(queries).reshape(-1, self.dim)
        truth = self.exact_search(q, k)[1]
        ivf = _ivf(self.index)
        if knob == "ef_search":
            value, limit = max(16, k), MAX_EF_SEARCH
        else:
            assert ivf is not None
            value, limit = 1, int(ivf.nlist)
        while True:
            setattr(self, knob, value)
            rec = recall_at_k(self.search(q, k)[1], truth)
            if rec >= target or value >= limit:
                return rec
            value = min(value * 2, limit)

    def exact_search(self, queries: np.ndarray, k: int, block: int = EXACT_BLOCK
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Brute-force top k over the stored vectors, `block` rows decoded at a time (so a 1e7
        PQ index never needs its 15 GB of float32 vectors at once): (scores, ids) as `search`."""
        q = normalize(queries).reshape(-1, self.dim)
        best_s = np.full((len(q), k), -np.inf, np.float32)
        best_i = np.full((len(q), k), -1, np.int64)
        ids = self.ids()
        for s in range(0, len(ids), block):
            part = ids[s : s + block]
            flat = faiss.IndexFlatIP(self.dim)
            flat.add(np.ascontiguousarray(self.reconstruct(part), np.float32))
            sc, pos = flat.search(q, min(k, len(part)))
            cand_s = np.concatenate([best_s, sc], axis=1)
            cand_i = np.concatenate([best_i, np.where(pos >= 0, part[np.maximum(pos, 0)], -1)], axis=1)
            top = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
            best_s = np.take_along_axis(cand_s, top, 1)
            best_i = np.take_along_axis(cand_i, top, 1)
        return best_s, best_i

    # ---- persistence --------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write to a temp file in the same folder, fsync, os.replace: readers see old or new."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
        try:
            faiss.write_index(self.index, str(tmp))
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> VectorIndex:
        """Read an index; with mmap the codes / inverted lists stay in the page cache.

        A mapped index is read-only in FAISS (adding to it aborts the process), so the first
        add/remove transparently re-reads the file into memory.
        """
        path = Path(path)
        if not path.exists():
            raise CollectionError(f"index file {path} does not exist")
        # Flat / HNSW codes map with IO_FLAG_MMAP_IFC; IVF inverted lists only with IO_FLAG_MMAP
        # (the combination is refused for IVF), so try in that order.
        tries = [faiss.IO_FLAG_MMAP | faiss.IO_FLAG_MMAP_IFC, faiss.IO_FLAG_MMAP, 0] if mmap else [0]
        index, flags = None, 0
        for flags in tries:
            try:
                index = faiss.read_index(str(path), flags)
                break
            except RuntimeError as err:
                if flags == 0:
                    raise CollectionError(
                        f"cannot read index {path}: {str(err).strip().splitlines()[-1]}"
                    ) from err
        return cls(index, path=path, mapped=bool(flags))

    def _writable(self) -> None:
        if self._mapped and self._path is not None:
            ef, nprobe = self.ef_search, self.nprobe
            self.index = faiss.read_index(str(self._path))
            self._mapped = False
            if ef is not None:
                self.ef_search = ef
            if nprobe is not None:
                self.nprobe = nprobe


def default_nprobe(nlist: int) -> int:
    """nprobe before `tune` has measured the data: 16 lists (all of them when fewer)."""
    return int(min(nlist, 16))


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each row of truth (q,k) that appears in the same row of found."""
    hits = [len(set(f[f >= 0].tolist()) & set(t[t >= 0].tolist())) / max(1, (t >= 0).sum()) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) if hits else 1.0


def _ivf(index: faiss.Index) -> faiss.IndexIVF | None:
    try:
        return faiss.downcast_index(faiss.extract_index_ivf(index))
    except RuntimeError:
        return None


def _hnsw(index: faiss.Index) -> faiss.IndexHNSW | None:
    index = faiss.downcast_index(index)
    return index if isinstance(index, faiss.IndexHNSW) else None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_FACTORY_RE = re.compile(r"^(Flat|HNSW\d+|IVF\d+,Flat|(OPQ\d+,)?IVF\d+,PQ\d+(x\d+)?)$")


def check_factory(factory: str) -> str:
    """Only the shapes `describe` can read back are allowed (files must be self-describing)."""
    if not _FACTORY_RE.match(factory):
        raise CollectionError(
            f"unsupported factory {factory!r}; known: Flat, HNSW<M>, IVF<k>,Flat, [OPQ<m>,]IVF<k>,PQ<m>"
        )
    return factory
